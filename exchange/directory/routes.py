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
from exchange.directory import languages, queries, services
from exchange.directory.forms import (
    CHANGE_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    AuthorityForm,
    LookupForm,
    NewAuthorityForm,
)
from exchange.extensions import db
from exchange.i18n import collation_key
from exchange.policy import accounts as policy

bp = Blueprint("directory", __name__, url_prefix="/directory", template_folder="templates")
navigation.add("directory.states", _l("Directory"), "directory.view", order=80)


@bp.app_context_processor
def inject_labels() -> dict[str, object]:
    """Give templates the translated kinds and statuses."""
    return {"kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS}


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
}
# The field of the form that each refusal is about; the code field for the rest.
DIRECTORY_ERROR_FIELDS = {
    "bad_email": "email",
    "unknown_kind": "kind",
    "unknown_jurisdiction": "state",
}


def _show_refusal(form: AuthorityForm, exc: services.DirectoryError) -> None:
    """Show a refusal of the directory's services at the field it is about."""
    name = DIRECTORY_ERROR_FIELDS.get(exc.code, "code")
    field = getattr(form, name, None)  # a field the form has not (or no longer, "del form.kind")
    message = str(DIRECTORY_ERRORS.get(exc.code, exc.code))
    if field is None:
        flash(message, "error")
    else:
        field.errors = [message]


@bp.route("/authorities/new", methods=["GET", "POST"])
@permission_required("directory.manage_all")
def new_authority() -> ResponseReturnValue:
    """Add a foreign authority to the directory (hosted ones are added on the command line)."""
    locale = str(get_locale())
    form = NewAuthorityForm()
    form.state.choices = [
        SelectChoice(j.code, j.name(locale))
        for j in sorted(
            queries.jurisdictions(db.session), key=lambda j: collation_key(j.name(locale))
        )
    ]
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
                measures=(form.measures.data or "").split(",") if form.measures.data else None,
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
    elif request.method == "GET":
        form.measures.data = ", ".join(sorted(c.measure for c in found.competences))
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
                measures=(form.measures.data or "").split(",") if standing else None,
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
    locale = str(get_locale())
    form = LookupForm(request.args)
    form.state.choices = [
        SelectChoice(j.code, j.name(locale)) for j in queries.jurisdictions(db.session)
    ]
    results = None
    if request.args and form.validate():
        results = queries.competent_authorities(
            db.session, form.state.data, (form.measure.data or "").strip() or "*"
        )
    return render_template("directory/lookup.html", form=form, results=results)
