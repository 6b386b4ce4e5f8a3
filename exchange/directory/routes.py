"""Directory pages: states, authorities, instruments in force, and the competence lookup."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from exchange.auth.permissions import permission_required
from exchange.core import navigation
from exchange.directory import instrument_edits, languages, measures, queries, services
from exchange.directory.forms import (
    ALL_MEASURES_LABEL,
    APPLIES_LABELS,
    CHANGE_LABELS,
    INSTRUMENT_CHANGE_LABELS,
    INSTRUMENT_KIND_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    AuthorityForm,
    InstrumentForm,
    LookupForm,
    NewAuthorityForm,
)
from exchange.directory.models import ALL_MEASURES, Instrument
from exchange.extensions import db
from exchange.i18n import collation_key
from exchange.policy import accounts as policy

bp = Blueprint("directory", __name__, url_prefix="/directory", template_folder="templates")
navigation.add("directory.states", _l("Directory"), "directory.view", order=80)


@bp.app_context_processor
def inject_labels() -> dict[str, object]:
    """Give templates the translated kinds, statuses and measures."""
    return {
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
        "measure_label": measure_label,
    }


def measure_label(code: str) -> str:
    """Return a measure (request type, or ``*`` for all) by its name in the reader's language."""
    if code == ALL_MEASURES:
        return str(ALL_MEASURES_LABEL)
    return measures.label(code, str(get_locale()))


def measure_choices() -> list[SelectChoice]:
    """Return every measure to choose from: "all" first, then each request type by its name."""
    locale = str(get_locale())
    return [SelectChoice(ALL_MEASURES, str(ALL_MEASURES_LABEL))] + [
        SelectChoice(code, measures.label(code, locale)) for code in measures.catalogue()
    ]


def state_choices() -> list[SelectChoice]:
    """Return the directory's states by their names in the reader's language, in its order."""
    locale = str(get_locale())
    return [
        SelectChoice(j.code, j.name(locale))
        for j in sorted(
            queries.jurisdictions(db.session), key=lambda j: collation_key(j.name(locale))
        )
    ]


@bp.get("/")
@permission_required("directory.view")
def states() -> ResponseReturnValue:
    """List the states of the directory."""
    locale = str(get_locale())
    states = sorted(queries.jurisdictions(db.session), key=lambda j: collation_key(j.name(locale)))
    return render_template(
        "directory/states.html",
        states=states,
        locale=locale,
        accepted={s.code: _accepted_from_own_state(s.code) for s in states},
    )


def _accepted_from_own_state(requested: str) -> languages.AcceptedLanguages:
    """Return what ``requested`` accepts from the reader's state: what their drafts are checked on."""
    own = current_user.authority.jurisdiction_code
    return languages.accepted_languages(db.session, own, requested)


@bp.get("/states/<code>")
@permission_required("directory.view")
def state(code: str) -> ResponseReturnValue:
    """Show a state: its languages, authorities, and the instruments in force with each other state."""
    jurisdiction = queries.jurisdiction(db.session, code)
    if jurisdiction is None:
        abort(404)
    locale = str(get_locale())
    others = sorted(
        (j for j in queries.jurisdictions(db.session) if j.code != jurisdiction.code),
        key=lambda j: collation_key(j.name(locale)),
    )
    return render_template(
        "directory/state.html",
        state=jurisdiction,
        locale=str(get_locale()),
        instruments={
            o.code: queries.instruments_between(db.session, jurisdiction.code, o.code)
            for o in others
        },
        others=others,
        accepted=_accepted_from_own_state(jurisdiction.code),
        laws=queries.national_laws(db.session, jurisdiction.code),
    )


@bp.get("/authorities/<code>")
@permission_required("directory.view")
def authority(code: str) -> ResponseReturnValue:
    """Show an authority's details and competences."""
    found = queries.authority_by_code(db.session, code)
    if found is None:
        abort(404)
    can_edit = policy.can_edit_authority(current_user, found)
    return render_template(
        "directory/authority.html",
        authority=found,
        locale=str(get_locale()),
        can_edit=can_edit,
        changes=queries.authority_changes(db.session, found) if can_edit else [],
        change_labels=CHANGE_LABELS,
    )


DIRECTORY_ERRORS = {
    "bad_code": _l("The code may hold only letters, digits and hyphens."),
    "code_taken": _l("An authority with this code exists already."),
    "unknown_jurisdiction": _l("Choose a state of the directory."),
    "unknown_kind": _l("Choose a kind of authority."),
    "bad_email": _l("Enter a valid e-mail address."),
    "unknown_measure": _l("“%(value)s” is not a request type: choose from the list."),
    "unknown_instrument_kind": _l("Choose a kind of instrument."),
    "unknown_rule": _l("Choose whom the instrument binds."),
    "bad_precedence": _l("Enter a whole number from 0 to 1000."),
    "no_measure": _l("Choose at least one request type."),
    "title_required": _l("Enter the title in the three languages."),
    "too_long": _l("This text is too long."),
    "forbidden": _l("You may not change this entry."),
}
# The field of the form that each refusal is about; the code field for the rest.
DIRECTORY_ERROR_FIELDS = {
    "bad_email": "email",
    "unknown_kind": "kind",
    "unknown_jurisdiction": "state",
    "unknown_measure": "measures",
    "no_measure": "measures",
    "unknown_instrument_kind": "kind",
    "unknown_rule": "applies",
    "bad_precedence": "precedence",
}


def _show_refusal(form: AuthorityForm | InstrumentForm, exc: services.DirectoryError) -> None:
    """Show a refusal of the directory's services at the field it is about."""
    name = DIRECTORY_ERROR_FIELDS.get(exc.code, "code")
    field = getattr(form, name, None)  # a field the form has not (or no longer, "del form.kind")
    message = str(DIRECTORY_ERRORS.get(exc.code, exc.code))
    if "%(value)s" in message:
        message = message % {"value": exc.detail[:60]}
    if field is None:
        flash(message, "error")
    else:
        field.errors = [message]


@bp.route("/authorities/new", methods=["GET", "POST"])
@permission_required("directory.manage_all")
def new_authority() -> ResponseReturnValue:
    """Add a foreign authority to the directory (hosted ones are added on the command line)."""
    form = NewAuthorityForm()
    form.state.choices = state_choices()
    form.measures.choices = measure_choices()
    if form.validate_on_submit():
        try:
            created = services.add_authority(
                db.session,
                code=form.code.data or "",
                name=form.name.data or "",
                kind=form.kind.data or "",
                jurisdiction_code=form.state.data or "",
                hosted=False,
                email=form.email.data or "",
                phone=form.phone.data or "",
                address=form.address.data or "",
                notes=form.notes.data or "",
                last_verified=form.last_verified.data,
                measures=list(form.measures.data or []) or None,
                actor=current_user,
            )
        except services.DirectoryError as exc:
            _show_refusal(form, exc)
        else:
            flash(_("The authority was added."), "success")
            return redirect(url_for("directory.authority", code=created.code), code=303)
    return render_template("directory/new_authority.html", form=form)


@bp.route("/authorities/<code>/edit", methods=["GET", "POST"])
@permission_required("directory.manage")
def edit_authority(code: str) -> ResponseReturnValue:
    """Edit an authority's details; its kind and competences only for the node administrators."""
    found = queries.authority_by_code(db.session, code)
    # Another authority's entry is out of scope: 404, as for any object one may not change.
    if found is None or not policy.can_edit_authority(current_user, found):
        abort(404)
    form = AuthorityForm(obj=found)
    standing = policy.can_change_authority_standing(current_user)
    if not standing:
        # Who reviews and who receives requests follows from these two: not offered at all.
        del form.kind
        del form.measures
    else:
        form.measures.choices = measure_choices()
        if request.method == "GET":
            form.measures.data = sorted(c.measure for c in found.competences)
    if form.validate_on_submit():
        details = {
            "name": form.name.data or "",
            "email": form.email.data or "",
            "phone": form.phone.data or "",
            "address": form.address.data or "",
            "notes": form.notes.data or "",
            "last_verified": form.last_verified.data,
        }
        if standing:
            details["kind"] = form.kind.data
        try:
            services.update_authority(
                db.session,
                found,
                actor=current_user,
                measures=list(form.measures.data or []) if standing else None,
                **details,
            )
        except services.DirectoryError as exc:
            _show_refusal(form, exc)
        else:
            flash(_("The authority was saved."), "success")
            return redirect(url_for("directory.authority", code=found.code), code=303)
    return render_template("directory/edit_authority.html", form=form, authority=found)


@bp.get("/lookup")
@permission_required("directory.view")
def lookup() -> ResponseReturnValue:
    """Answer "who is competent in state X for measure Y", falling back to the central authority."""
    form = LookupForm(request.args)
    form.state.choices = state_choices()
    form.measure.choices = measure_choices()
    results = None
    if request.args and form.validate():
        results = queries.competent_authorities(
            db.session, form.state.data, form.measure.data or ALL_MEASURES
        )
    return render_template("directory/lookup.html", form=form, results=results)


# --- legal instruments: what each covers and whom it binds, changed by node administrators -----


@bp.get("/instruments")
@permission_required("directory.view")
def instruments() -> ResponseReturnValue:
    """List the legal instruments of the directory: whom each binds and what it provides for."""
    return render_template(
        "directory/instruments.html",
        instruments=queries.instruments(db.session),
        locale=str(get_locale()),
        names={j.code: j.name(str(get_locale())) for j in queries.jurisdictions(db.session)},
        applies_labels=APPLIES_LABELS,
        instrument_kind_labels=INSTRUMENT_KIND_LABELS,
        can_edit=policy.can_edit_instrument(current_user),
    )


def _instrument_or_404(instrument_id: str) -> Instrument:
    """Return the instrument with this id, or answer 404."""
    if not instrument_id.isdigit() or len(instrument_id) > 9:
        abort(404)
    found = db.session.get(Instrument, int(instrument_id))
    if found is None:
        abort(404)
    return found


@bp.get("/instruments/<instrument_id>")
@permission_required("directory.view")
def instrument(instrument_id: str) -> ResponseReturnValue:
    """Show an instrument's entry and, to those who may change it, its recorded changes."""
    found = _instrument_or_404(instrument_id)
    can_edit = policy.can_edit_instrument(current_user)
    return render_template(
        "directory/instrument.html",
        instrument=found,
        locale=str(get_locale()),
        names={j.code: j.name(str(get_locale())) for j in queries.jurisdictions(db.session)},
        applies_labels=APPLIES_LABELS,
        instrument_kind_labels=INSTRUMENT_KIND_LABELS,
        can_edit=can_edit,
        changes=queries.instrument_changes(db.session, found) if can_edit else [],
        change_labels=INSTRUMENT_CHANGE_LABELS,
    )


@bp.route("/instruments/<instrument_id>/edit", methods=["GET", "POST"])
@permission_required("directory.manage_all")
def edit_instrument(instrument_id: str) -> ResponseReturnValue:
    """Change an instrument: its titles, whom it binds, what it covers; every change recorded."""
    found = _instrument_or_404(instrument_id)
    form = InstrumentForm(obj=found)
    form.parties.choices = state_choices()
    form.unverified_parties.choices = state_choices()
    form.measures.choices = measure_choices()
    if request.method == "GET":
        form.parties.data = sorted(found.party_codes())
        form.unverified_parties.data = sorted(
            p.jurisdiction_code for p in found.parties if p.unverified
        )
        form.measures.data = found.measures
    if form.validate_on_submit():
        fields = {
            name: getattr(form, name).data
            for name in (*instrument_edits.TEXT_FIELDS, "kind", "applies", "precedence")
        }
        fields.update({name: bool(getattr(form, name).data) for name in instrument_edits.FLAGS})
        try:
            instrument_edits.update_instrument(
                db.session,
                found,
                actor=current_user,
                parties=list(form.parties.data or []),
                unverified_parties=list(form.unverified_parties.data or []),
                measures=list(form.measures.data or []),
                last_verified=form.last_verified.data,
                **fields,
            )
        except services.DirectoryError as exc:
            _show_refusal(form, exc)
        else:
            flash(_("The instrument was saved."), "success")
            return redirect(url_for("directory.instrument", instrument_id=found.id), code=303)
    return render_template("directory/edit_instrument.html", form=form, instrument=found)
