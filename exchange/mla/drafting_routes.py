"""Drafting pages: a new request of a case, the drafting steps, persons and submission."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from exchange import policy
from exchange.auth.permissions import permission_required
from exchange.cases import persons as register
from exchange.cases.models import Case
from exchange.directory import explanations
from exchange.directory import queries as directory
from exchange.extensions import db
from exchange.i18n import collation_key
from exchange.mla import services
from exchange.mla.blueprint import (
    CONFLICT_PAGES,
    Move,
    bp,
    countries,
    etag,
    expected_version,
    load_draft,
    load_request,
    locale,
    make_move,
    store_upload,
)
from exchange.mla.citations import under_basis
from exchange.mla.definitions import get_type, request_types
from exchange.mla.forms import (
    AnnexForm,
    BasicsForm,
    ChoosePersonForm,
    NewRequestForm,
    as_choices,
    contents_form,
)
from exchange.mla.labels import error_message
from exchange.mla.models import MlaRequest
from exchange.mla.payloads import annex_filename, details_of
from exchange.mla.uploads import accepts_evidence

STEPS = ("basics", "contents", "measure", "persons", "annexes", "review")
STEP_LABELS = {
    "basics": _l("Requested authority and language"),
    "contents": _l("The case and the assistance sought"),
    "measure": _l("Particulars of the measure"),
    "persons": _l("Persons concerned"),
    "annexes": _l("Annexes"),
    "review": _l("Checklist and submission"),
}


def _case_for_new(public_id: str) -> Case:
    """Return the case a new request belongs to, if the user may see it; else 404."""
    case = db.session.scalar(select(Case).where(Case.public_id == public_id))
    if case is None or not policy.can_view_case(current_user, case):
        abort(404)
    return case


@bp.route("/new", methods=["GET", "POST"])
@permission_required("requests.draft")
def new() -> ResponseReturnValue:
    """Start a request of a case: the measure and the requested state."""
    if not request.values.get("case"):
        flash(_("A request belongs to a case: open the case, then choose “New request”."), "info")
        return redirect(url_for("cases.index"))
    case = _case_for_new(request.values.get("case", ""))
    lang = locale()
    form = NewRequestForm()
    form.request_type.choices = as_choices(
        [("", "—")] + [(code, t.label_in(lang)) for code, t in request_types().items()]
    )
    own_state = current_user.authority.jurisdiction_code
    form.country.choices = as_choices([("", "—"), *countries(lang, leaving_out=own_state)])
    if form.validate_on_submit():
        suggestions = services.suggest(
            db.session, own_state, form.country.data, form.request_type.data
        )
        if not suggestions.authorities:
            flash(_("No authority of that state is in the directory."), "error")
        else:
            created = services.create_request(
                db.session,
                current_user,
                case,
                request_type=form.request_type.data,
                counterpart=suggestions.authorities[0],
            )
            flash(
                _(
                    "Draft opened. The directory suggested the requested authority, the language and the legal basis: check them."
                ),
                "success",
            )
            return redirect(
                url_for("mla.edit", public_id=created.public_id, step="basics"), code=303
            )
    return render_template(
        "mla/new.html", form=form, case=case, types=request_types(), locale=lang
    ), (400 if request.method == "POST" else 200)


# --- the drafting steps, one table ------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One drafting step: how its form is built and how its data reaches the services."""

    form: Callable[[MlaRequest, Any], Any]
    save: Callable[[MlaRequest, Any], None]
    adds: bool = False  # the step adds an item (a person, an annex) and stays on the same page


def _basics_form(req: MlaRequest, formdata: Any) -> BasicsForm:
    """Build the first step's form, the directory's suggestions first."""
    lang = locale()
    own = req.authority.jurisdiction_code
    suggested = services.suggest(db.session, own, req.counterpart_state, req.request_type)
    others = sorted(
        (
            a
            for a in directory.authorities(db.session)
            if a.jurisdiction_code != own
            and a not in suggested.authorities
            # competent for this measure (or all), or the one chosen: not a regional body, nor a
            # consular post for evidence
            and (
                a.id == req.counterpart_id
                or any(c.measure in (req.request_type, "*") for c in a.competences)
            )
        ),
        key=lambda a: (collation_key(a.jurisdiction.name(lang)), a.code),
    )
    data = {
        "version": req.version,
        "counterpart": req.counterpart.code,
        "language": req.language,
        "legal_basis": [c for c in req.legal_basis.split(",") if c],
        "urgent": req.urgent,
        "urgency_reason": req.urgency_reason,
        "desired_date": req.desired_date,
        "confidential": req.confidential,
    }
    form = BasicsForm(formdata=formdata, data=data)
    # Outside the f-string, where the catalog's extractor finds it.
    proposed = _("suggested by the directory")
    form.counterpart.choices = as_choices(
        [(a.code, f"{a.name} ({a.code}) — {proposed}") for a in suggested.authorities]
        + [(a.code, f"{a.name} ({a.code})") for a in others]
    )
    names = {"en": _("English"), "fr": _("French"), "pt": _("Portuguese")}
    form.language.choices = as_choices(
        [(code, names.get(code, code)) for code in suggested.languages] or [("en", names["en"])]
    )
    form.legal_basis.choices = as_choices(
        [(c.instrument.code, c.instrument.title(lang)) for c in suggested.considered if c.offered]
    )
    return form


def _contents_form(step: str) -> Callable[[MlaRequest, Any], Any]:
    """Return the builder of the form of the common contents, or of the measure's particulars."""

    def build(req: MlaRequest, formdata: Any) -> Any:
        """Build the step's form from the request type, filled with the saved values."""
        definition = get_type(req.request_type)
        assert definition is not None  # noqa: S101 - the type was checked at creation
        fields = definition.common_fields if step == "contents" else definition.fields
        details = details_of(req)
        data: dict[str, Any] = {"version": req.version}
        for f in fields:
            value = details.get(f.name)
            data[f.name] = date.fromisoformat(value) if f.kind == "date" and value else value
        return contents_form(fields, locale(), formdata, data)

    return build


def _save_basics(req: MlaRequest, form: Any) -> None:
    """Save the requested authority, language, legal basis, urgency and confidentiality."""
    counterpart = directory.authority_by_code(db.session, form.counterpart.data)
    if counterpart is None:
        raise services.MlaError("same_state")
    services.update_basics(
        db.session,
        current_user,
        req,
        expected_version=expected_version(form.version.data),
        counterpart=counterpart,
        language=form.language.data,
        legal_basis=list(form.legal_basis.data or []),
        urgent=bool(form.urgent.data),
        urgency_reason=form.urgency_reason.data or "",
        desired_date=form.desired_date.data,
        confidential=bool(form.confidential.data),
    )


def _save_contents(step: str) -> Callable[[MlaRequest, Any], None]:
    """Return the saver of the common contents, or of the measure's particulars."""

    def save(req: MlaRequest, form: Any) -> None:
        """Hand the step's fields to the services."""
        definition = get_type(req.request_type)
        assert definition is not None  # noqa: S101
        fields = definition.common_fields if step == "contents" else definition.fields
        services.update_contents(
            db.session,
            current_user,
            req,
            expected_version=expected_version(form.version.data),
            values={f.name: form[f.name].data for f in fields},
        )

    return save


def _save_person(req: MlaRequest, form: Any) -> None:
    """Choose a person of the case into the request, with what it discloses of them."""
    case_person = next(
        (p for p in (req.case.persons if req.case else []) if p.public_id == form.person.data),
        None,
    )
    if case_person is None:
        raise services.MlaError("not_found")
    services.choose_person(
        db.session,
        current_user,
        req,
        case_person,
        disclosure=form.disclosure.data,
        details=list(form.details.data or []),
        measures=list(form.measures.data or []),
    )


def _persons_step(req: MlaRequest) -> dict[str, Any]:
    """Return what the persons step shows the case team: the case's persons, each with what
    this request discloses of them (or nothing yet), and the payload's persons as they leave."""
    people = req.case.persons if req.case else []
    chosen = {p.case_person_id: p for p in req.persons if p.case_person_id}
    return {
        "case_persons": people,
        "chosen": chosen,
        "case_identities": {p.id: register.identity_of(p) for p in people},
        "case_protections": {p.id: register.protection_of(p) for p in people},
        "case_warnings": {p.id: register.person_warnings(p) for p in people},
        "detail_fields": register.DETAIL_FIELDS,
        "available_measures": {
            p.id: [
                measure
                for measure, parts in register.MEASURES.items()
                if any(register.protection_of(p).get(part) for part in parts)
            ]
            for p in people
        },
        "disclosed": services.disclosed_persons(req),
    }


def _save_annex(req: MlaRequest, form: Any) -> None:
    """Store an uploaded supporting annex."""
    store_upload(req, form.file.data, "supporting")


def _no_form(_req: MlaRequest, _formdata: Any) -> None:
    """The review step has no form of its own (submission has its own route)."""
    return None


def _nothing_to_save(_req: MlaRequest, _form: Any) -> None:
    """The review step saves nothing."""


STEP_TABLE: dict[str, Step] = {
    "basics": Step(_basics_form, _save_basics),
    "contents": Step(_contents_form("contents"), _save_contents("contents")),
    "measure": Step(_contents_form("measure"), _save_contents("measure")),
    "persons": Step(
        lambda _req, formdata: ChoosePersonForm(formdata=formdata), _save_person, adds=True
    ),
    "annexes": Step(lambda _req, _formdata: AnnexForm(), _save_annex, adds=True),
    "review": Step(_no_form, _nothing_to_save),
}


def _render_step(
    req: MlaRequest, step: str, form: Any, status: int, conflict: list[Any] | None = None
) -> Response:
    """Render one step of the drafting form, with the checklist and the draft's entity tag."""
    definition = get_type(req.request_type)
    items = services.checklist(db.session, req)
    basis_notes, both_parties = [], []
    if step == "basics":
        own = req.authority.jurisdiction_code
        considered = services.considered_bases(
            db.session, own, req.counterpart_state, req.request_type
        )
        pair = (own, req.counterpart_state)
        basis_notes = explanations.explain(db.session, considered, pair, locale())
        both_parties = explanations.parties_to_both(considered, locale())
    response = Response(
        render_template(
            "mla/edit.html",
            req=req,
            step=step,
            steps=STEPS,
            step_labels=STEP_LABELS,
            form=form,
            definition=definition,
            items=items,
            missing=[i for i in items if i.required and not i.ok],
            identities=services.person_identities(req),
            annex_names={a.id: annex_filename(a) for a in req.annexes},
            conflict=conflict,
            locale=locale(),
            basis_notes=basis_notes,
            both_parties=both_parties,
            cite=lambda source: under_basis(source, req.legal_basis.split(",")),
            persons_step=_persons_step(req) if step == "persons" else None,
        ),
        status=status,
    )
    response.headers["ETag"] = etag(req)
    return response


@bp.route("/<public_id>/edit/<step>", methods=["GET", "POST"])
@accepts_evidence
@permission_required("requests.draft")
def edit(public_id: str, step: str) -> ResponseReturnValue:
    """Show or save one step of the drafting form; each step saves and leads to the next."""
    req = load_draft(public_id)
    if step not in STEP_TABLE:
        abort(404)
    handler = STEP_TABLE[step]
    form = handler.form(req, request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form is not None:
        status = 400  # unless saved below; the unit of work keeps nothing of a 400
        if form.validate_on_submit():
            try:
                handler.save(req, form)
            except services.StaleDraft:
                raise  # a conflict: the unit of work answers it (render_step_conflict)
            except services.MlaError as exc:
                flash(error_message(exc.code), "error")
            else:
                if handler.adds:
                    flash(_("Added."), "success")
                    return redirect(url_for("mla.edit", public_id=public_id, step=step), code=303)
                flash(_("Saved."), "success")
                following = STEPS[STEPS.index(step) + 1]
                return redirect(url_for("mla.edit", public_id=public_id, step=following), code=303)
    return _render_step(req, step, form, status)


def _shown(field: Any) -> str:
    """Return a form field's value as a person reads it (a choice's label, Yes or No)."""
    value = field.data
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    choices = {}
    for choice in getattr(field, "choices", None) or []:
        if isinstance(choice, tuple):
            choices[choice[0]] = choice[1]
        else:  # a SelectChoice
            choices[choice.value] = choice.label
    if isinstance(value, list):
        return ", ".join(str(choices.get(v, v)) for v in value)
    return str(choices.get(value, value if value is not None else ""))


def render_step_conflict(req: MlaRequest) -> ResponseReturnValue:
    """Show a step whose save lost a race: what is saved now beside what the user entered.

    The form keeps the user's values and takes the current version, so saving again is their
    choice, made knowingly.
    """
    step = str((request.view_args or {}).get("step"))
    yours = STEP_TABLE[step].form(req, request.form)
    saved = STEP_TABLE[step].form(req, None)
    rows = []
    if yours is not None and hasattr(yours, "version"):
        yours.version.data = req.version
        rows = [
            (field.label.text, _shown(saved[field.name]), _shown(field))
            for field in yours
            if field.name not in ("csrf_token", "version")
            and _shown(saved[field.name]) != _shown(field)
        ]
    flash(error_message("stale"), "error")
    return _render_step(req, step, yours, 409, conflict=rows)


CONFLICT_PAGES["mla.edit"] = render_step_conflict


@bp.post("/<public_id>/persons/<person_id>/remove")
@permission_required("requests.draft")
def remove_person(public_id: str, person_id: str) -> ResponseReturnValue:
    """Remove a person concerned from a draft."""
    req = load_draft(public_id)
    person = next((p for p in req.persons if p.public_id == person_id), None)
    if person is None:
        abort(404)
    services.remove_person(db.session, current_user, req, person)
    flash(_("Removed."), "success")
    return redirect(url_for("mla.edit", public_id=public_id, step="persons"), code=303)


@bp.post("/<public_id>/submit")
@permission_required("requests.draft")
def submit(public_id: str) -> ResponseReturnValue:
    """Send a complete draft to review, or show what is missing (the unit of work explains)."""
    req = load_request(public_id)  # not load_draft: a repeated click finds it under review
    move = Move(req, "submit", _("The request was sent for review by the central authority."))
    return make_move(move, lambda: services.submit(db.session, current_user, req))
