"""A request's page: its contents, timeline and moves, annexes and threaded messages."""

from __future__ import annotations

import json
import logging
from functools import partial
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from exchange import policy, uow
from exchange.auth.models import User
from exchange.auth.permissions import permission_required
from exchange.directory import queries as directory
from exchange.directory.models import Instrument
from exchange.envelopes import EnvelopeError
from exchange.exceptions import Refused
from exchange.extensions import db
from exchange.mla import evidence, grounds, lifecycle, queries, services
from exchange.mla.blueprint import (
    Move,
    annex_download,
    bp,
    load_request,
    locale,
    make_move,
    store_upload,
    targets,
)
from exchange.mla.clock import deadline_date
from exchange.mla.definitions import get_type
from exchange.mla.forms import (
    ActionForm,
    AnnexForm,
    MessageForm,
    NoteForm,
    WithdrawForm,
    as_choices,
)
from exchange.mla.labels import (
    ACTION_LABELS,
    CONDITION_KIND_LABELS,
    CONDITION_KIND_SOURCES,
    COSTS_SOURCE,
    GROUND_LABELS,
    POSTPONEMENT_GROUND_LABELS,
    error_message,
)
from exchange.mla.models import INCOMING, MlaRequest
from exchange.mla.payloads import annex_filename, details_of
from exchange.mla.review_routes import persons_view
from exchange.mla.uploads import accepts_evidence

log = logging.getLogger(__name__)

# Moves with a page or a route of their own, never made through the generic ``act`` route: the
# request's page and the checklist step share one submit form and route (``mla.submit``), so
# that both make the same checks (issue 15, defect 1: the page's button went to ``act``, which
# refuses a submission). A withdrawal has its confirmation page (``mla.withdraw``, defect 4).
# A retrieval is recorded by opening the page, never by a move (``_note_retrieval``).
OWN_ROUTES = frozenset({"submit", "approve", "withdraw", "retrieve"})


def _citations(codes: str) -> list[str]:
    """Return the short citations, in the interface language, of a request's instrument codes."""
    lang = locale()
    wanted = [code for code in codes.split(",") if code]
    found = {
        i.code: i.citation(lang)
        for i in db.session.scalars(select(Instrument).where(Instrument.code.in_(wanted)))
    }
    return [found.get(code, code) for code in wanted]


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
    # The grounds of the instrument the request relies on, each with its source (UNTOC 18(7)).
    lang = locale()
    offered = grounds.offer(req.legal_basis)
    form.ground.choices = as_choices(
        [("", "—")]
        + [(g.code, f"{GROUND_LABELS[g.code]} — {g.source_in(lang)}") for g in offered.refusal]
    )
    form.postponement_ground.choices = as_choices(
        [("", "—")]
        + [
            (g.code, f"{POSTPONEMENT_GROUND_LABELS[g.code]} — {g.source_in(lang)}")
            for g in offered.postponement
        ]
    )
    form.kinds.choices = as_choices(
        [
            (code, f"{label} ({CONDITION_KIND_SOURCES[code].get(lang, code)})")
            for code, label in CONDITION_KIND_LABELS.items()
        ]
    )
    return form


def _consultation(req: MlaRequest) -> dict[str, Any]:
    """Return what the page says of the consultation before a refusal (UNTOC 18(26)): whether one
    took place, the conditions last proposed, and whose grounds are offered."""
    offered = grounds.offer(req.legal_basis)
    proposed = next(
        (json.loads(e.payload) for e in reversed(req.events) if e.action == "propose_conditions"),
        None,
    )
    return {
        "offer": offered,
        "unlisted": _citations(",".join(offered.unlisted)),
        "offer_citation": (_citations(offered.instrument) or [offered.instrument])[0],
        "consulted": any(e.action in lifecycle.CONSULTATION_ACTIONS for e in req.events),
        "proposed": proposed,
    }


def _note_retrieval(req: MlaRequest) -> None:
    """Record the first opening of an incoming request by a person (its retrieval evidence).

    Its own unit of work, run again if two people open it at once: opening a page never fails
    because of it, and it is recorded once."""
    if req.side != INCOMING or any(e.action == "retrieve" for e in req.events):
        return
    try:
        uow.run_job(db.session, partial(evidence.record_retrieval, db.session, current_user, req))
    except (SQLAlchemyError, EnvelopeError, Refused):
        log.exception("the first opening of request %s could not be recorded", req.public_id)


@bp.get("/<public_id>")
@permission_required("requests.view")
def view(public_id: str) -> ResponseReturnValue:
    """Show a request: its contents, persons (to the team only), annexes, timeline and moves."""
    req = load_request(public_id)
    _note_retrieval(req)
    definition = get_type(req.request_type)
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
        persons_view=persons_view(req),
        actions=[a for a in actions if a not in ("approve",)],
        own_pages=OWN_ROUTES,
        missing=services.missing(db.session, req) if "submit" in actions else [],
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
        note_form=NoteForm(),
        can_keep_notes=policy.can_keep_notes(current_user, req),
        thread=services.thread_entries(db.session, current_user, req),
        annex_names={a.id: annex_filename(a) for a in req.annexes},
        event_payload=lambda e: json.loads(e.payload),
        overdue=queries.is_overdue(req),
        locale=locale(),
        consultation=_consultation(req),
        postponement_labels=POSTPONEMENT_GROUND_LABELS,
        condition_kind_labels=CONDITION_KIND_LABELS,
        costs_source=COSTS_SOURCE.get(locale(), COSTS_SOURCE["en"]),
        deadline=deadline_date(req, definition.deadline)
        if definition is not None and definition.deadline is not None
        else None,
    )


@bp.post("/<public_id>/act/<action>")
@permission_required("requests.view")
def act(public_id: str, action: str) -> ResponseReturnValue:
    """Make a move on a request; the lifecycle checks the permission it needs."""
    req = load_request(public_id)
    if action not in lifecycle.ACTIONS or action in OWN_ROUTES:
        abort(404)
    form = _action_form(req)
    if not form.validate_on_submit():
        flash(error_message("not_allowed"), "error")
        return redirect(url_for("mla.view", public_id=public_id), code=303)
    payload: dict[str, Any] = {}
    for key in lifecycle.REQUIRED_PAYLOAD.get(action, ()):
        value = form[key].data
        payload[key] = value.isoformat() if key == "on" and value else (value or "")
    if action in ("close", "accept_conditions", "grant_extradition", "surrender") and (
        form.reason.data
    ):
        payload["reason"] = form.reason.data
    if action in ("refuse", "postpone") and form.no_consultation_reason.data:
        payload["no_consultation_reason"] = form.no_consultation_reason.data
    if action == "postpone":
        payload["ground"] = form.postponement_ground.data or ""
    if action == "propose_conditions":
        payload["kinds"] = list(form.kinds.data or [])
    if action in ("execute", "execute_partially") and form.conditions.data:
        # Conditions on the results' use, confidentiality, return (UNTOC 18(19), 18(20)).
        payload["conditions"] = form.conditions.data
        payload["kinds"] = list(form.kinds.data or [])
    if action == "take_note" and form.reference.data:
        payload["reference"] = form.reference.data
    if action == "assign" and form.officer.data:
        payload["officer"] = form.officer.data
    if action in ("execute", "execute_partially"):
        payload["annexes"] = list(form.annexes.data or [])
    if action == "postpone" and form.until.data:
        payload["until"] = form.until.data.isoformat()
    done = _("Done: %(action)s.", action=ACTION_LABELS.get(action, action))
    move = Move(req, action, done, payload)
    return make_move(
        move,
        lambda: services.act(db.session, current_user, req, action, payload, targets=targets()),
    )


@bp.route("/<public_id>/withdraw", methods=["GET", "POST"])
@permission_required("requests.draft")
def withdraw(public_id: str) -> ResponseReturnValue:
    """Withdraw a request once its reasons are given and its consequences confirmed (UNTOC 18(24))."""
    req = load_request(public_id)
    abroad = lifecycle.tells_other_side(req, "withdraw")
    form = WithdrawForm()
    if request.method == "POST" and form.validate_on_submit():
        payload = {"reason": form.reason.data or ""}
        done = (
            _(
                "The request is withdrawn. The withdrawal is queued for delivery to %(authority)s.",
                authority=req.counterpart.name,
            )
            if abroad
            else _("The request is withdrawn.")
        )
        move = Move(req, "withdraw", done, payload)
        return make_move(
            move,
            lambda: services.act(
                db.session, current_user, req, "withdraw", payload, targets=targets()
            ),
        )
    if "withdraw" not in lifecycle.available_actions(req, current_user):
        flash(error_message("not_allowed"), "error")
        return redirect(url_for("mla.view", public_id=public_id), code=303)
    return render_template("mla/withdraw.html", req=req, form=form, abroad=abroad), (
        400 if request.method == "POST" else 200
    )


@bp.post("/<public_id>/results")
@accepts_evidence
@permission_required("requests.execute")
def add_result(public_id: str) -> ResponseReturnValue:
    """Upload a result annex on the requested side, to send with partial or final results."""
    req = load_request(public_id)
    form = AnnexForm()
    if not form.validate_on_submit():
        flash(_("Choose a file."), "error")
        return redirect(url_for("mla.view", public_id=public_id), code=303)
    store_upload(req, form.file.data, "result")
    flash(_("Added."), "success")
    return redirect(url_for("mla.view", public_id=public_id), code=303)


@bp.get("/<public_id>/annexes/<sha256>")
@permission_required("requests.view")
def annex(public_id: str, sha256: str) -> ResponseReturnValue:
    """Download an annex, always as an attachment with its detected type (never inline HTML)."""
    req = load_request(public_id)
    return annex_download(req, sha256)


@bp.post("/<public_id>/messages")
@permission_required("messages.send")
def send_message(public_id: str) -> ResponseReturnValue:
    """Send a threaded message about a request."""
    req = load_request(public_id)
    form = MessageForm()
    if not form.validate_on_submit():
        flash(_("Write a message."), "error")
        return redirect(url_for("mla.view", public_id=public_id), code=303)
    services.send_message(
        db.session, current_user, body=form.body.data or "", kind=form.kind.data, request=req
    )
    flash(_("Message queued for delivery."), "success")
    return redirect(url_for("mla.view", public_id=public_id), code=303)


@bp.post("/<public_id>/notes")
@permission_required("requests.view")
def add_note(public_id: str) -> ResponseReturnValue:
    """Keep an internal note of the team about a request: it is never sent abroad."""
    req = load_request(public_id)
    if not policy.can_keep_notes(current_user, req):
        abort(404)  # another team's notes do not exist for this user
    form = NoteForm()
    if not form.validate_on_submit():
        flash(form.note.errors[0] if form.note.errors else error_message("empty_note"), "error")
        return redirect(url_for("mla.view", public_id=public_id), code=303)
    services.add_note(db.session, current_user, req, body=form.note.data or "")
    flash(_("Note kept for your team. It is not sent abroad."), "success")
    return redirect(url_for("mla.view", public_id=public_id), code=303)


# --- statistics -------------------------------------------------------------------------------------
