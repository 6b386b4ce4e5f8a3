"""The review of what a request sends: the persons as they will leave, and the confirmation
before an approval transmits the request abroad (it cannot be undone).

The reviewing officer (four-eyes, UNTOC 18(13)) sees the persons exactly as the payload carries
them, and each time they are shown, the view is recorded on the request's timeline.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from exchange import policy, uow
from exchange.auth.permissions import permission_required
from exchange.extensions import db
from exchange.mla import lifecycle, services
from exchange.mla.blueprint import Move, bp, load_request, locale, make_move, targets
from exchange.mla.forms import ApproveForm
from exchange.mla.labels import error_message
from exchange.mla.models import OUTGOING, MlaRequest


def persons_view(req: MlaRequest) -> dict[str, Any]:
    """Return what the request's page shows of its persons to the current user.

    ``team``: the case team, what the request discloses (the rest is in the case's register);
    ``review``: the reviewing officer, the persons as they will leave (the view is recorded);
    ``executor``: the requested side, as received, a victim's or a minor's identity withheld
    from those it is not assigned to; ``hidden``: labels and capacities only.
    """
    disclosed = services.disclosed_persons(req)
    if req.side == OUTGOING and policy.can_see_identities(current_user, req):
        return {"mode": "team", "disclosed": disclosed}
    if policy.can_review_disclosure(current_user, req):
        if disclosed:
            services.record_view(db.session, current_user, req)
        return {"mode": "review", "disclosed": disclosed}
    if req.side != OUTGOING and policy.can_see_identities(current_user, req):
        shown = []
        for person, entry in zip(req.persons, disclosed, strict=True):
            if policy.can_see_person(current_user, req, person):
                shown.append(entry)
            else:
                shown.append({**entry, "identity": {}, "withheld": True})
        return {"mode": "executor", "disclosed": shown}
    return {"mode": "hidden", "disclosed": []}


def channel_of(req: MlaRequest) -> str:
    """Say how the request leaves: who sends it, to whom, by which way."""
    sender = req.reviewing_authority or req.authority
    if req.counterpart.hosted:
        return _(
            "A sealed envelope (signed by %(sender)s and encrypted to the recipient), delivered on this node to %(authority)s (%(code)s).",
            sender=sender.code,
            authority=req.counterpart.name,
            code=req.counterpart.code,
        )
    return _(
        "A sealed envelope (signed by %(sender)s and encrypted to the recipient), delivered through the Exchange to the node of %(authority)s (%(code)s), or carried as an exported file when the line is down.",
        sender=sender.code,
        authority=req.counterpart.name,
        code=req.counterpart.code,
    )


def _render_confirmation(req: MlaRequest, form: ApproveForm, status: int) -> ResponseReturnValue:
    """Show the confirmation page: receiving authority, channel, persons disclosed."""
    disclosed = services.disclosed_persons(req)
    if disclosed:
        services.record_view(db.session, current_user, req)
        if status >= 400:
            uow.keep_changes_on_error()  # the view happened: it stays on the timeline
    form.disclosure.data = services.disclosure_digest(req)
    return render_template(
        "mla/approve.html",
        req=req,
        form=form,
        disclosed=disclosed,
        channel=channel_of(req),
        locale=locale(),
    ), status


@bp.route("/<public_id>/approve", methods=["GET", "POST"])
@permission_required("requests.approve")
def approve(public_id: str) -> ResponseReturnValue:
    """Confirm, then approve a request under review and transmit it (four-eyes)."""
    req = load_request(public_id)
    form = ApproveForm()
    if request.method == "POST" and form.validate_on_submit():
        move = Move(
            req,
            "approve",
            _("Approved. The request is transmitted: its message is queued for delivery."),
        )
        digest = form.disclosure.data or None
        return make_move(
            move,
            lambda: services.approve(
                db.session, current_user, req, targets=targets(), disclosure_digest=digest
            ),
        )
    if "approve" not in lifecycle.available_actions(req, current_user):
        flash(error_message("not_allowed"), "error")
        return redirect(url_for("mla.view", public_id=public_id), code=303)
    return _render_confirmation(req, form, 400 if request.method == "POST" else 200)
