"""MLA pages: dashboard, drafting steps, a request with its timeline and moves, annexes,
messages and statistics. Thin: parse, authorise, call a service, respond."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from exchange import policy
from exchange.auth.models import User
from exchange.auth.permissions import permission_required
from exchange.cases.models import Case
from exchange.core import navigation
from exchange.directory import queries as directory
from exchange.directory.models import Instrument
from exchange.extensions import db
from exchange.mla import charts, lifecycle, queries, services
from exchange.mla.definitions import get_type, request_types
from exchange.mla.forms import (
    ActionForm,
    AnnexForm,
    BasicsForm,
    DashboardFilters,
    MessageForm,
    NewRequestForm,
    PersonForm,
    as_choices,
    contents_form,
)
from exchange.mla.labels import (
    ACTION_LABELS,
    CHECKLIST_LABELS,
    DIRECTION_LABELS,
    GROUND_LABELS,
    IDENTITY_LABELS,
    MESSAGE_KIND_LABELS,
    STATE_LABELS,
    error_message,
)
from exchange.mla.lifecycle import INCOMING_STATES, OUTGOING_STATES, Targets, TransitionError
from exchange.mla.models import INCOMING, OUTGOING, MlaRequest
from exchange.mla.payloads import annex_filename, details_of

bp = Blueprint("mla", __name__, url_prefix="/requests", template_folder="templates")
navigation.add("mla.dashboard", _l("Requests"), "requests.view", order=20)
navigation.add("mla.statistics", _l("Statistics"), "stats.view", order=70)

STEPS = ("basics", "contents", "measure", "persons", "annexes", "review")
STEP_LABELS = {
    "basics": _l("Requested authority and language"),
    "contents": _l("The case and the assistance sought"),
    "measure": _l("Particulars of the measure"),
    "persons": _l("Persons concerned"),
    "annexes": _l("Annexes"),
    "review": _l("Checklist and submission"),
}


def refuse_nul_characters() -> None:
    """Answer 400 to any parameter holding a NUL character (PostgreSQL text cannot store it)."""
    for values in (request.args, request.form):
        for value in values.values():
            if "\x00" in value:
                abort(400)


bp.before_request(refuse_nul_characters)


@bp.app_context_processor
def inject_mla_labels() -> dict[str, object]:
    """Give templates the translated codes of the area."""
    return {
        "state_labels": STATE_LABELS,
        "action_labels": ACTION_LABELS,
        "ground_labels": GROUND_LABELS,
        "checklist_labels": CHECKLIST_LABELS,
        "message_kind_labels": MESSAGE_KIND_LABELS,
        "identity_labels": IDENTITY_LABELS,
        "type_label": _type_label,
    }


def _locale() -> str:
    """Return the interface language code."""
    return str(get_locale())


def _type_label(code: str) -> str:
    """Return a request type's name in the interface language."""
    definition = get_type(code)
    return definition.label_in(_locale()) if definition else code


def _targets() -> Targets:
    """Return the node's service targets (``extra`` settings, EIO figures by default)."""
    extra = current_app.config["EXCHANGE"].extra
    return Targets(
        acknowledge_days=int(extra.get("mla_acknowledge_days", 7)),
        execute_days=int(extra.get("mla_execute_days", 90)),
    )


def _blobs_dir() -> Path:
    """Return the folder of encrypted annexes, under the instance folder."""
    return Path(current_app.instance_path) / "blobs"


def _max_annex_bytes() -> int:
    """Return the largest accepted annex."""
    return int(current_app.config["EXCHANGE"].max_upload_mb) * 1024 * 1024


def _load(public_id: str) -> MlaRequest:
    """Return a request the user may see, or answer 404 (never 403: nothing leaks)."""
    found = queries.find_request(db.session, current_user, public_id)
    if found is None:
        abort(404)
    return found


def _load_draft(public_id: str) -> MlaRequest:
    """Return a draft the user may edit, or answer 404."""
    found = _load(public_id)
    if not policy.can_edit_draft(current_user, found):
        abort(404)
    return found


def _etag(req: MlaRequest) -> str:
    """Return the entity tag of a draft's current version."""
    return f'"{req.public_id}-v{req.version}"'


def _expected_version(form_version: int | None) -> int | None:
    """Return the version the editor saw: from ``If-Match`` if sent, else the form's field."""
    header = request.headers.get("If-Match", "")
    if header.startswith('"') and "-v" in header:
        try:
            return int(header.strip('"').rsplit("-v", 1)[1])
        except ValueError:
            return -1
    return form_version


# --- dashboard ------------------------------------------------------------------------------------


@bp.get("/")
@permission_required("requests.view")
def dashboard() -> ResponseReturnValue:
    """List outgoing or incoming requests with filters, newest first, a page at a time."""
    form = DashboardFilters(request.args)
    direction = request.args.get("direction", OUTGOING)
    if direction not in (OUTGOING, INCOMING):
        direction = OUTGOING
    states = OUTGOING_STATES if direction == OUTGOING else INCOMING_STATES
    locale = _locale()
    form.direction.choices = as_choices(list(DIRECTION_LABELS.items()))
    form.state.choices = as_choices([("", _("Any"))] + [(s, STATE_LABELS[s]) for s in states])
    form.country.choices = as_choices(
        [("", _("Any"))] + [(j.code, j.name(locale)) for j in directory.jurisdictions(db.session)]
    )
    form.request_type.choices = as_choices(
        [("", _("Any"))] + [(code, t.label_in(locale)) for code, t in request_types().items()]
    )
    state = request.args.get("state", "")
    country = request.args.get("country", "").upper()
    request_type = request.args.get("request_type", "")
    filters = queries.Filters(
        direction=direction,
        state=state if state in states else "",
        country=country if len(country) == 2 and country.isalpha() else "",
        request_type=request_type if get_type(request_type) else "",
        urgent=request.args.get("urgent") in ("y", "1", "on"),
        overdue=request.args.get("overdue") in ("y", "1", "on"),
        mine=request.args.get("mine") in ("y", "1", "on"),
    )
    page = queries.dashboard_page(
        db.session, current_user, filters, cursor=request.args.get("after") or None
    )
    next_args = None
    if page.next_cursor:
        next_args = {k: v for k, v in request.args.items() if k != "after"}
        next_args["after"] = page.next_cursor
    return render_template(
        "mla/dashboard.html",
        form=form,
        page=page,
        direction=direction,
        next_args=next_args,
        is_overdue=queries.is_overdue,
        locale=locale,
    )


# --- new draft and drafting steps --------------------------------------------------------------


def _citations(codes: str) -> list[str]:
    """Return the short citations, in the interface language, of a request's instrument codes."""
    locale = _locale()
    wanted = [code for code in codes.split(",") if code]
    found = {
        i.code: i.citation(locale)
        for i in db.session.scalars(select(Instrument).where(Instrument.code.in_(wanted)))
    }
    return [found.get(code, code) for code in wanted]


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
    locale = _locale()
    form = NewRequestForm()
    form.request_type.choices = as_choices(
        [("", "—")] + [(code, t.label_in(locale)) for code, t in request_types().items()]
    )
    own_state = current_user.authority.jurisdiction_code
    form.country.choices = as_choices(
        [("", "—")]
        + [
            (j.code, j.name(locale))
            for j in directory.jurisdictions(db.session)
            if j.code != own_state
        ]
    )
    if form.validate_on_submit():
        suggestions = services.suggest(
            db.session, own_state, form.country.data, form.request_type.data
        )
        if not suggestions.authorities:
            flash(_("No authority of that state is in the directory."), "error")
        else:
            try:
                created = services.create_request(
                    db.session,
                    current_user,
                    case,
                    request_type=form.request_type.data,
                    counterpart=suggestions.authorities[0],
                )
            except services.MlaError as exc:
                flash(error_message(exc.code), "error")
            else:
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
        "mla/new.html", form=form, case=case, types=request_types(), locale=locale
    ), (400 if request.method == "POST" else 200)


def _basics_form(req: MlaRequest, formdata: Any) -> BasicsForm:
    """Build the first step's form, the directory's suggestions first."""
    locale = _locale()
    own = req.authority.jurisdiction_code
    suggested = services.suggest(db.session, own, req.counterpart_state, req.request_type)
    others = [
        a
        for a in directory.authorities(db.session)
        if a.jurisdiction_code != own and a not in suggested.authorities
    ]
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
    form.counterpart.choices = as_choices(
        [(a.code, f"{a.name} ({a.code}) — {_('suggested')}") for a in suggested.authorities]
        + [(a.code, f"{a.name} ({a.code})") for a in others]
    )
    names = {"en": _("English"), "fr": _("French"), "pt": _("Portuguese")}
    form.language.choices = as_choices(
        [(lang, names.get(lang, lang)) for lang in suggested.languages] or [("en", names["en"])]
    )
    form.legal_basis.choices = as_choices(
        [
            (i.code, i.title(locale))
            for i in directory.instruments_between(db.session, own, req.counterpart_state)
        ]
    )
    return form


@bp.route("/<public_id>/edit/<step>", methods=["GET", "POST"])
@permission_required("requests.draft")
def edit(public_id: str, step: str) -> ResponseReturnValue:
    """Show or save one step of the drafting form; each step saves and leads to the next."""
    req = _load_draft(public_id)
    if step not in STEPS:
        abort(404)
    definition = get_type(req.request_type)
    assert definition is not None  # noqa: S101
    locale = _locale()
    status = 200
    form: Any = None
    formdata = request.form if request.method == "POST" else None
    if step == "basics":
        form = _basics_form(req, formdata)
    elif step in ("contents", "measure"):
        fields = definition.common_fields if step == "contents" else definition.fields
        details = details_of(req)
        data: dict[str, Any] = {"version": req.version}
        for f in fields:
            value = details.get(f.name)
            if f.kind == "date" and value:
                from datetime import date as _date

                value = _date.fromisoformat(value)
            data[f.name] = value
        form = contents_form(fields, locale, formdata, data)
    elif step == "persons":
        form = PersonForm(formdata=formdata)
    elif step == "annexes":
        form = AnnexForm()

    if request.method == "POST" and form is not None:
        if form.validate_on_submit():
            try:
                _save_step(req, step, form)
            except services.StaleDraft:
                flash(error_message("stale"), "error")
                status = 409
            except services.MlaError as exc:
                flash(error_message(exc.code), "error")
                status = 400
            else:
                if step in ("persons", "annexes"):
                    flash(_("Added."), "success")
                    return redirect(url_for("mla.edit", public_id=public_id, step=step), code=303)
                flash(_("Saved."), "success")
                following = STEPS[STEPS.index(step) + 1]
                return redirect(url_for("mla.edit", public_id=public_id, step=following), code=303)
        else:
            status = 400
        if status >= 400:
            db.session.rollback()  # nothing half-saved; show the draft as it is
        req = _load_draft(public_id)
    items = services.checklist(db.session, req)
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
            locale=locale,
        ),
        status=status,
    )
    response.headers["ETag"] = _etag(req)
    return response


def _save_step(req: MlaRequest, step: str, form: Any) -> None:
    """Hand one step's data to the services."""
    if step == "basics":
        counterpart = directory.authority_by_code(db.session, form.counterpart.data)
        if counterpart is None:
            raise services.MlaError("same_state")
        services.update_basics(
            db.session,
            current_user,
            req,
            expected_version=_expected_version(form.version.data),
            counterpart=counterpart,
            language=form.language.data,
            legal_basis=list(form.legal_basis.data or []),
            urgent=bool(form.urgent.data),
            urgency_reason=form.urgency_reason.data or "",
            desired_date=form.desired_date.data,
            confidential=bool(form.confidential.data),
        )
    elif step in ("contents", "measure"):
        definition = get_type(req.request_type)
        assert definition is not None  # noqa: S101
        fields = definition.common_fields if step == "contents" else definition.fields
        services.update_contents(
            db.session,
            current_user,
            req,
            expected_version=_expected_version(form.version.data),
            values={f.name: form[f.name].data for f in fields},
        )
    elif step == "persons":
        services.add_person(
            db.session,
            current_user,
            req,
            identity={k: form[k].data or "" for k in services.IDENTITY_FIELDS},
            victim=form.victim.data,
            minor=form.minor.data,
            witness=form.witness.data,
            suspect=form.suspect.data,
        )
    elif step == "annexes":
        upload = form.file.data
        data = upload.read(_max_annex_bytes() + 1)
        services.add_annex(
            db.session,
            current_user,
            req,
            filename=upload.filename or "annex",
            data=data,
            kind="supporting",
            blobs_dir=_blobs_dir(),
            max_bytes=_max_annex_bytes(),
        )


@bp.post("/<public_id>/persons/<person_id>/remove")
@permission_required("requests.draft")
def remove_person(public_id: str, person_id: str) -> ResponseReturnValue:
    """Remove a person concerned from a draft."""
    req = _load_draft(public_id)
    person = next((p for p in req.persons if p.public_id == person_id), None)
    if person is None:
        abort(404)
    services.remove_person(db.session, current_user, req, person)
    flash(_("Removed."), "success")
    return redirect(url_for("mla.edit", public_id=public_id, step="persons"), code=303)


@bp.post("/<public_id>/submit")
@permission_required("requests.draft")
def submit(public_id: str) -> ResponseReturnValue:
    """Send a complete draft to review, or show what is missing."""
    req = _load_draft(public_id)
    try:
        services.submit(db.session, current_user, req)
    except services.MlaError as exc:
        flash(error_message(exc.code), "error")
        return redirect(url_for("mla.edit", public_id=public_id, step="review"), code=303)
    except TransitionError as exc:
        flash(error_message(exc.code), "error")
        return redirect(url_for("mla.view", public_id=public_id), code=303)
    flash(_("The request was sent for review by the central authority."), "success")
    return redirect(url_for("mla.view", public_id=public_id), code=303)


# --- a request: view, moves, annexes, messages ----------------------------------------------------


def _action_form(req: MlaRequest) -> ActionForm:
    """Build the form of the moves, with the executing authorities and officers of this state."""
    form = ActionForm()
    own = [
        a
        for a in directory.authorities(
            db.session, jurisdiction_code=req.authority.jurisdiction_code, hosted=True
        )
    ]
    form.authority.choices = as_choices([(a.code, f"{a.name} ({a.code})") for a in own])
    officers = db.session.scalars(
        select(User)
        .where(User.authority_id.in_([a.id for a in own]), User.active.is_(True))
        .order_by(User.display_name)
    ).all()
    form.officer.choices = as_choices(
        [("", "—")]
        + [
            (u.public_id, f"{u.display_name} ({u.authority.code})")
            for u in officers
            if u.can("requests.execute") or u.can("requests.view_all")
        ]
    )
    form.annexes.choices = as_choices(
        [(a.sha256, annex_filename(a)) for a in req.annexes if a.kind == "result"]
    )
    return form


@bp.get("/<public_id>")
@permission_required("requests.view")
def view(public_id: str) -> ResponseReturnValue:
    """Show a request: its contents, persons (to the team only), annexes, timeline and moves."""
    req = _load(public_id)
    definition = get_type(req.request_type)
    show_identities = policy.can_see_identities(current_user, req)
    actions = lifecycle.available_actions(req, current_user)
    # The contents are for everyone who may open the request (the reviewing officer needs them);
    # the identities of persons are not (see policy.can_see_identities).
    details = details_of(req)
    return render_template(
        "mla/view.html",
        req=req,
        legal_basis=_citations(req.legal_basis),
        definition=definition,
        details=details,
        identities=services.person_identities(req) if show_identities else {},
        show_identities=show_identities,
        actions=[a for a in actions if a not in ("approve",)],
        can_approve="approve" in actions,
        is_author=lifecycle.is_author(req, current_user),
        can_edit=policy.can_edit_draft(current_user, req),
        action_form=_action_form(req),
        annex_form=AnnexForm(),
        can_add_results=req.side == INCOMING
        and policy.can_act_on_request(current_user, req, "requests.execute")
        and req.state in ("registered", "in_execution", "partially_executed"),
        message_form=MessageForm(),
        can_message=current_user.can("messages.send")
        and req.state not in ("draft", "in_review", "changes_requested", "approved"),
        messages=queries.thread(db.session, req),
        message_body=services.message_body,
        annex_names={a.id: annex_filename(a) for a in req.annexes},
        event_payload=lambda e: json.loads(e.payload),
        overdue=queries.is_overdue(req),
        locale=_locale(),
    )


@bp.post("/<public_id>/approve")
@permission_required("requests.approve")
def approve(public_id: str) -> ResponseReturnValue:
    """Approve a request under review and transmit it (four-eyes)."""
    req = _load(public_id)
    try:
        services.approve(db.session, current_user, req, targets=_targets())
    except (TransitionError, services.MlaError) as exc:
        db.session.rollback()
        flash(error_message(exc.code), "error")
        return redirect(url_for("mla.view", public_id=public_id), code=303)
    flash(_("Approved. The request is transmitted: its message is queued for delivery."), "success")
    return redirect(url_for("mla.view", public_id=public_id), code=303)


@bp.post("/<public_id>/act/<action>")
@permission_required("requests.view")
def act(public_id: str, action: str) -> ResponseReturnValue:
    """Make a move on a request; the lifecycle checks the permission it needs."""
    req = _load(public_id)
    if action not in lifecycle.ACTIONS:
        abort(404)
    form = _action_form(req)
    if not form.validate_on_submit():
        flash(error_message("not_allowed"), "error")
        return redirect(url_for("mla.view", public_id=public_id), code=303)
    payload: dict[str, Any] = {}
    for key in lifecycle.REQUIRED_PAYLOAD.get(action, ()):
        payload[key] = form[key].data or ""
    if action in ("withdraw", "close") and form.reason.data:
        payload["reason"] = form.reason.data
    if action == "assign" and form.officer.data:
        payload["officer"] = form.officer.data
    if action in ("execute", "execute_partially"):
        payload["annexes"] = list(form.annexes.data or [])
    if action == "postpone" and form.until.data:
        payload["until"] = form.until.data.isoformat()
    try:
        services.act(db.session, current_user, req, action, payload, targets=_targets())
    except (TransitionError, services.MlaError) as exc:
        db.session.rollback()
        flash(error_message(exc.code), "error")
        return redirect(url_for("mla.view", public_id=public_id), code=303)
    flash(_("Done: %(action)s.", action=ACTION_LABELS.get(action, action)), "success")
    return redirect(url_for("mla.view", public_id=public_id), code=303)


@bp.post("/<public_id>/results")
@permission_required("requests.execute")
def add_result(public_id: str) -> ResponseReturnValue:
    """Upload a result annex on the requested side, to send with partial or final results."""
    req = _load(public_id)
    form = AnnexForm()
    if not form.validate_on_submit():
        flash(_("Choose a file."), "error")
        return redirect(url_for("mla.view", public_id=public_id), code=303)
    upload = form.file.data
    try:
        services.add_annex(
            db.session,
            current_user,
            req,
            filename=upload.filename or "result",
            data=upload.read(_max_annex_bytes() + 1),
            kind="result",
            blobs_dir=_blobs_dir(),
            max_bytes=_max_annex_bytes(),
        )
    except services.MlaError as exc:
        db.session.rollback()
        flash(error_message(exc.code), "error")
        return redirect(url_for("mla.view", public_id=public_id), code=303)
    flash(_("Added."), "success")
    return redirect(url_for("mla.view", public_id=public_id), code=303)


@bp.get("/<public_id>/annexes/<sha256>")
@permission_required("requests.view")
def annex(public_id: str, sha256: str) -> ResponseReturnValue:
    """Download an annex, always as an attachment with its detected type (never inline HTML)."""
    req = _load(public_id)
    found = next((a for a in req.annexes if a.sha256 == sha256), None)
    if found is None:
        abort(404)
    try:
        data = services.read_annex(_blobs_dir(), found)
    except services.MlaError:
        abort(404)
    response = send_file(
        io.BytesIO(data),
        mimetype=found.content_type,
        as_attachment=True,
        download_name=annex_filename(found),
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/<public_id>/messages")
@permission_required("messages.send")
def send_message(public_id: str) -> ResponseReturnValue:
    """Send a threaded message about a request."""
    req = _load(public_id)
    form = MessageForm()
    if not form.validate_on_submit():
        flash(_("Write a message."), "error")
        return redirect(url_for("mla.view", public_id=public_id), code=303)
    try:
        services.send_message(
            db.session, current_user, body=form.body.data or "", kind=form.kind.data, request=req
        )
    except services.MlaError as exc:
        db.session.rollback()
        flash(error_message(exc.code), "error")
        return redirect(url_for("mla.view", public_id=public_id), code=303)
    flash(_("Message queued for delivery."), "success")
    return redirect(url_for("mla.view", public_id=public_id), code=303)


# --- statistics -------------------------------------------------------------------------------------


@bp.get("/statistics")
@permission_required("stats.view")
def statistics() -> ResponseReturnValue:
    """Show the authority's figures as charts drawn on the server (SVG, no script)."""
    direction = request.args.get("direction", OUTGOING)
    if direction not in (OUTGOING, INCOMING):
        direction = OUTGOING
    figures = queries.stats(db.session, current_user, direction)
    locale = _locale()
    names = {j.code: j.name(locale) for j in directory.jurisdictions(db.session)}
    return render_template(
        "mla/statistics.html",
        figures=figures,
        direction=direction,
        country_chart=charts.bar_chart(
            [(names.get(k, k), v) for k, v in figures.by_country], _("Requests by country")
        ),
        type_chart=charts.bar_chart(
            [(_type_label(k), v) for k, v in figures.by_type], _("Requests by type")
        ),
        ground_chart=charts.bar_chart(
            [(str(GROUND_LABELS.get(k, k)), v) for k, v in figures.refusal_grounds],
            _("Refusal grounds"),
        ),
        direction_labels=DIRECTION_LABELS,
    )


@bp.get("/statistics.csv")
@permission_required("stats.view")
def statistics_csv() -> ResponseReturnValue:
    """Download the aggregates as CSV for research partners: counts and medians, no personal data."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["direction", "measure", "key", "value"])
    for direction in (OUTGOING, INCOMING):
        figures = queries.stats(db.session, current_user, direction)
        for key, count in figures.by_country:
            writer.writerow([direction, "count_by_country", key, count])
        for key, count in figures.by_type:
            writer.writerow([direction, "count_by_type", key, count])
        for key, count in figures.by_state:
            writer.writerow([direction, "count_by_state", key, count])
        for key, count in figures.refusal_grounds:
            writer.writerow([direction, "refusal_ground", key, count])
        writer.writerow(
            [
                direction,
                "median_days_to_acknowledgement",
                "",
                figures.median_days_to_ack if figures.median_days_to_ack is not None else "",
            ]
        )
        writer.writerow(
            [
                direction,
                "median_days_to_execution",
                "",
                figures.median_days_to_execution
                if figures.median_days_to_execution is not None
                else "",
            ]
        )
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=exchange-statistics.csv"
    return response
