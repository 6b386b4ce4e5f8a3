"""Case pages (files, teams) and case references (shared and received), with their messages."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from exchange import policy, uow
from exchange.auth.models import User
from exchange.auth.permissions import permission_required
from exchange.cases import queries, services
from exchange.cases.forms import (
    DISCLOSURE_LABELS,
    STAGE_LABELS,
    CaseForm,
    LinkForm,
    ShareReferenceForm,
    TeamForm,
)
from exchange.core import navigation
from exchange.directory import queries as directory
from exchange.errors import render_error
from exchange.exceptions import Refused
from exchange.extensions import db
from exchange.i18n import collation_key
from exchange.mla import queries as mla_queries
from exchange.mla import services as mla_services
from exchange.mla.forms import MessageForm, as_choices
from exchange.mla.labels import error_message
from exchange.mla.models import Message

bp = Blueprint("cases", __name__, template_folder="templates")


@uow.refusal_responder(bp)
def explain_refusal(exc: Refused) -> ResponseReturnValue:
    """Explain a refused change on the page it came from (its changes are already discarded)."""
    text = _case_error(exc.code) if isinstance(exc, services.CaseError) else error_message(exc.code)
    public_id = (request.view_args or {}).get("public_id")
    rule = request.url_rule.rule if request.url_rule else ""
    if public_id is None:
        return render_error(400, text)
    flash(text, "error")
    page = "cases.reference" if rule.startswith("/references/") else "cases.view"
    return redirect(url_for(page, public_id=public_id), code=303)


navigation.add("cases.index", _l("Cases"), "cases.view", order=10)
navigation.add("cases.references", _l("Case references"), "references.share", order=30)

CASE_ERRORS = {
    "forbidden": _l("You may not do this on this case."),
    "missing": _l("Fill in the required fields."),
    "bad_stage": _l("Choose a stage."),
    "duplicate_number": _l("A case with this number exists already."),
    "other_authority": _l("Only people of the case's authority can join its team."),
    "bad_role": _l("Only prosecutors and investigators can join a case team."),
    "creator_stays": _l("The creator of a case stays on its team."),
    "same_state": _l("Choose an authority of another state."),
    "bad_disclosure": _l("Choose what to disclose from the list."),
    "already_linked": _l("This reference is already linked to a case."),
    "unknown_reference": _l("Unknown case reference."),
    "missing_name": _l("Enter the person's name."),
    "too_long": _l("One of the entries is too long."),
    "bad_no_contact": _l("A person can be kept from contact only with suspects of the case."),
    "bad_capacity": _l("Choose the capacities from the list."),
}


def _case_error(code: str) -> str:
    """Return the translated explanation of a refusal code."""
    return str(CASE_ERRORS.get(code, CASE_ERRORS["forbidden"]))


@bp.app_context_processor
def inject_case_labels() -> dict[str, object]:
    """Give templates the translated stages and disclosure items."""
    return {"stage_labels": STAGE_LABELS, "disclosure_labels": DISCLOSURE_LABELS}


@bp.get("/cases/")
@permission_required("cases.view")
def index() -> ResponseReturnValue:
    """List the cases the user is on the team of."""
    return render_template(
        "cases/index.html", cases=queries.visible_cases(db.session, current_user)
    )


@bp.route("/cases/new", methods=["GET", "POST"])
@permission_required("cases.manage")
def new() -> ResponseReturnValue:
    """Open a case."""
    form = CaseForm()
    if form.validate_on_submit():
        try:
            case = services.create_case(
                db.session,
                current_user,
                number=form.number.data or "",
                title=form.title.data or "",
                offences=form.offences.data or "",
                stage=form.stage.data,
                border_localities=form.border_localities.data or "",
            )
        except services.CaseError as exc:
            flash(_case_error(exc.code), "error")
        else:
            flash(_("The case was opened."), "success")
            return redirect(url_for("cases.view", public_id=case.public_id), code=303)
    return render_template("cases/new.html", form=form), (400 if request.method == "POST" else 200)


@bp.get("/cases/<public_id>")
@permission_required("cases.view")
def view(public_id: str) -> ResponseReturnValue:
    """Show a case: its team, its requests and its shared references."""
    case = queries.find_case(db.session, current_user, public_id)
    if case is None:
        abort(404)
    team_form = TeamForm()
    team_form.user.choices = as_choices(
        [(u.public_id, u.display_name) for u in services.team_candidates(db.session, case)]
    )
    return render_template(
        "cases/view.html",
        case=case,
        requests=mla_queries.case_requests(db.session, current_user, case),
        references=queries.case_references(db.session, case),
        team_form=team_form,
        can_manage=policy.can_manage_case(current_user, case),
        can_share=policy.can_share_case(current_user, case),
    )


@bp.route("/cases/<public_id>/edit", methods=["GET", "POST"])
@permission_required("cases.manage")
def edit(public_id: str) -> ResponseReturnValue:
    """Change a case's title, offences, stage and border localities."""
    case = queries.find_case(db.session, current_user, public_id)
    if case is None or not policy.can_manage_case(current_user, case):
        abort(404)
    form = CaseForm(obj=case)
    del form.number  # the number identifies the case and its references abroad: it stays
    if form.validate_on_submit():
        try:
            services.update_case(
                db.session,
                current_user,
                case,
                title=form.title.data or "",
                offences=form.offences.data or "",
                stage=form.stage.data,
                border_localities=form.border_localities.data or "",
            )
        except services.CaseError as exc:
            flash(_case_error(exc.code), "error")
        else:
            flash(_("The case was saved."), "success")
            return redirect(url_for("cases.view", public_id=public_id), code=303)
    return render_template("cases/edit.html", form=form, case=case), (
        400 if request.method == "POST" else 200
    )


@bp.post("/cases/<public_id>/team")
@permission_required("cases.manage")
def add_member(public_id: str) -> ResponseReturnValue:
    """Add a prosecutor or investigator to the case team."""
    case = queries.find_case(db.session, current_user, public_id)
    if case is None:
        abort(404)
    form = TeamForm()
    form.user.choices = as_choices(
        [(u.public_id, u.display_name) for u in services.team_candidates(db.session, case)]
    )
    if not form.validate_on_submit():
        flash(_("Choose a person."), "error")
        return redirect(url_for("cases.view", public_id=public_id), code=303)
    user = db.session.scalar(select(User).where(User.public_id == form.user.data))
    if user is None:
        raise services.CaseError("other_authority")
    services.add_member(db.session, current_user, case, user)
    flash(_("Added to the team."), "success")
    return redirect(url_for("cases.view", public_id=public_id), code=303)


@bp.post("/cases/<public_id>/team/<user_id>/remove")
@permission_required("cases.manage")
def remove_member(public_id: str, user_id: str) -> ResponseReturnValue:
    """Take someone off the case team."""
    case = queries.find_case(db.session, current_user, public_id)
    if case is None:
        abort(404)
    user = db.session.scalar(select(User).where(User.public_id == user_id))
    if user is None:
        abort(404)
    services.remove_member(db.session, current_user, case, user.id)
    flash(_("Removed from the team."), "success")
    return redirect(url_for("cases.view", public_id=public_id), code=303)


# --- case references -------------------------------------------------------------------------------


@bp.route("/cases/<public_id>/share", methods=["GET", "POST"])
@permission_required("references.share")
def share(public_id: str) -> ResponseReturnValue:
    """Share a reference of the case with a foreign authority, choosing what it discloses."""
    case = queries.find_case(db.session, current_user, public_id)
    if case is None or not policy.can_share_case(current_user, case):
        abort(404)
    form = ShareReferenceForm()
    own = current_user.authority.jurisdiction_code
    lang = str(get_locale())
    foreign = [a for a in directory.authorities(db.session) if a.jurisdiction_code != own]
    foreign.sort(key=lambda a: (collation_key(a.jurisdiction.name(lang)), a.code))
    form.counterpart.choices = as_choices([(a.code, f"{a.name} ({a.code})") for a in foreign])
    if form.validate_on_submit():
        counterpart = directory.authority_by_code(db.session, form.counterpart.data)
        try:
            if counterpart is None:
                raise services.CaseError("same_state")
            reference = services.share_reference(
                db.session,
                current_user,
                case,
                counterpart=counterpart,
                disclose=set(form.disclose.data or []),
                contact_point=form.contact_point.data or "",
                offence_categories=form.offence_categories.data or "",
            )
        except services.CaseError as exc:  # shown on the form; the unit of work keeps nothing
            flash(_case_error(exc.code), "error")
        else:
            flash(_("The case reference is queued for delivery."), "success")
            return redirect(url_for("cases.reference", public_id=reference.public_id), code=303)
    return render_template("cases/share.html", form=form, case=case), (
        400 if request.method == "POST" else 200
    )


@bp.get("/references/")
@permission_required("references.share")
def references() -> ResponseReturnValue:
    """List the case references shared and received."""
    return render_template(
        "cases/references.html", references=queries.visible_references(db.session, current_user)
    )


@bp.get("/references/<public_id>")
@permission_required("references.share")
def reference(public_id: str) -> ResponseReturnValue:
    """Show a case reference, its link and its messages."""
    found = queries.find_reference(db.session, current_user, public_id)
    if found is None:
        abort(404)
    link_form = LinkForm()
    link_form.case.choices = as_choices(
        [
            (c.public_id, f"{c.number} — {c.title}")
            for c in queries.visible_cases(db.session, current_user)
        ]
    )
    messages = db.session.scalars(
        select(Message).where(Message.case_reference_id == found.id).order_by(Message.id)
    ).all()
    return render_template(
        "cases/reference.html",
        ref=found,
        disclosed=services.disclosed_of(found),
        link_form=link_form,
        message_form=MessageForm(),
        messages=messages,
        message_body=mla_services.message_body,
        can_see_case=found.case is not None and policy.can_view_case(current_user, found.case),
    )


@bp.post("/references/<public_id>/link")
@permission_required("references.share")
def link(public_id: str) -> ResponseReturnValue:
    """Accept an incoming case reference and link it to a local case."""
    found = queries.find_reference(db.session, current_user, public_id)
    if found is None:
        abort(404)
    form = LinkForm()
    form.case.choices = as_choices(
        [(c.public_id, c.number) for c in queries.visible_cases(db.session, current_user)]
    )
    if not form.validate_on_submit():
        flash(_("Choose a case."), "error")
        return redirect(url_for("cases.reference", public_id=public_id), code=303)
    case = queries.find_case(db.session, current_user, form.case.data)
    if case is None:
        raise services.CaseError("forbidden")
    services.link_reference(db.session, current_user, found, case)
    flash(_("Linked. The other side is told which case it is linked to."), "success")
    return redirect(url_for("cases.reference", public_id=public_id), code=303)


@bp.post("/references/<public_id>/messages")
@permission_required("messages.send")
def reference_message(public_id: str) -> ResponseReturnValue:
    """Send a threaded message about a case reference (pre-request consultation)."""
    found = queries.find_reference(db.session, current_user, public_id)
    if found is None:
        abort(404)
    form = MessageForm()
    if not form.validate_on_submit():
        flash(_("Write a message."), "error")
        return redirect(url_for("cases.reference", public_id=public_id), code=303)
    mla_services.send_message(
        db.session,
        current_user,
        body=form.body.data or "",
        kind=form.kind.data,
        reference=found,
    )
    flash(_("Message queued for delivery."), "success")
    return redirect(url_for("cases.reference", public_id=public_id), code=303)
