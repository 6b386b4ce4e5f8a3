"""Administration of the node's federation: its peer nodes, and the delivery of its outbox.

Peers are the node's administrators' (``peers.manage``): trusting a node lets its authorities'
keys into the trust store. The operations page (``deliveries.manage``) shows what is queued, in
retry and parked; an authority's administrator sees the messages of their own authority, a node
administrator every message. The same services as ``exchange peer add|refresh|list|remove``.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from exchange import uow
from exchange.admin.federation_forms import PeerForm, RemovePeerForm
from exchange.auth.forms import EmptyForm
from exchange.auth.permissions import permission_required
from exchange.core import navigation
from exchange.envelopes import EnvelopeError
from exchange.envelopes.node import normalise_fingerprint
from exchange.envelopes.stores import key_store
from exchange.extensions import db
from exchange.federation import client, journal, operations, services
from exchange.federation.errors import FederationError
from exchange.federation.models import Peer

bp = Blueprint("federation_admin", __name__, url_prefix="/admin", template_folder="templates")
navigation.add("federation_admin.peers", _l("Peer nodes"), "peers.manage", order=92)
navigation.add("federation_admin.operations_page", _l("Operations"), "deliveries.manage", order=94)

_NO_DESCRIPTOR = _l(
    "The node at this address did not answer with a node descriptor. Check the address (the"
    " node's base URL, e.g. https://exchange.example.org)."
)
PEER_ERRORS = {
    "bad_url": _l(
        "Enter the node's address: http:// or https:// and a host, without user, query or fragment."
    ),
    "bad_fingerprint": _l(
        "A fingerprint is 32 bytes in hexadecimal (64 digits), as the other node's administrator"
        " reads it from `exchange peer fingerprint`."
    ),
    "fingerprint_mismatch": _l(
        "The node at this address is not signed by the key with this fingerprint. Nothing was"
        " trusted: check the fingerprint with its administrator, by telephone or letter."
    ),
    "unreachable": _l(
        "The node at this address cannot be reached. Check the address and that the node is"
        " running; nothing was trusted."
    ),
    "bad_answer": _NO_DESCRIPTOR,
    "redirected": _NO_DESCRIPTOR,
    "answer_too_large": _NO_DESCRIPTOR,
    "bad_descriptor": _l("The node's descriptor is not valid. Nothing was trusted."),
    "stale_descriptor": _l(
        "The node sent an older descriptor than the one held here. Nothing was changed."
    ),
    "hosted_here": _l("The node announces an authority that this node hosts. Refused."),
    "claimed_by_other_peer": _l(
        "The node announces an authority that another peer hosts. Refused."
    ),
    "peer_exists": _l("This node is a peer already."),
    "fingerprint_required": _l("Enter the fingerprint."),
}
OPERATIONS_ERRORS = {
    "unknown_message": _l("No such message."),
    "not_parked": _l("This message is not parked as undeliverable: there is nothing to retry."),
}


def _peer_error(code: str) -> str:
    """Return the translated reason a peer was refused."""
    return str(PEER_ERRORS.get(code, PEER_ERRORS["bad_descriptor"]))


def _peer_or_404(public_id: str) -> Peer:
    """Return the peer with this public id, or answer 404."""
    found = services.peer_by_public_id(db.session, public_id)
    if found is None:
        abort(404)
    return found


def _peers_page(form: PeerForm, status: int = 200) -> ResponseReturnValue:
    """Render the peers page with ``form`` (as submitted, with its errors)."""
    return render_template(
        "admin/peers.html",
        peers=services.peers(db.session),
        form=form,
        button_form=EmptyForm(),
        own_fingerprint=services.node_key(current_app.config["EXCHANGE"]).fingerprint(),
        actions=[
            a for a in journal.recent_actions(db.session, limit=60) if a.action.startswith("peer_")
        ][:20],
    ), status


@bp.get("/peers")
@permission_required("peers.manage")
def peers() -> ResponseReturnValue:
    """List the peer nodes: fingerprint, hosted authorities, last refresh; the form to add one."""
    return _peers_page(PeerForm())


@bp.post("/peers")
@permission_required("peers.manage")
def add_peer() -> ResponseReturnValue:
    """Fetch a node's descriptor and trust it if the fingerprint given matches its node key."""
    form = PeerForm()
    if not form.validate_on_submit():
        return _peers_page(form, 400)
    try:
        normalise_fingerprint(form.fingerprint.data or "")
    except EnvelopeError:
        form.fingerprint.errors = [_peer_error("bad_fingerprint")]
        return _peers_page(form, 400)
    try:
        peer = services.add_peer(
            db.session,
            key_store(),
            form.url.data or "",
            form.fingerprint.data or "",
            fetch=client.fetch_descriptor,
        )
    except FederationError as exc:
        uow.discard_changes()
        where = form.fingerprint if exc.code.startswith("fingerprint") else form.url
        where.errors = [_peer_error(exc.code)]
        return _peers_page(form, 400)
    journal.record_action(
        db.session, current_user, "peer_add", peer.url, "added", detail=" ".join(peer.authorities)
    )
    flash(_("The node %(url)s is a peer now.", url=peer.url), "success")
    return redirect(url_for("federation_admin.peers"), code=303)


@bp.post("/peers/<public_id>/refresh")
@permission_required("peers.manage")
def refresh_peer(public_id: str) -> ResponseReturnValue:
    """Fetch a peer's descriptor again: rotated keys, revocations, authorities."""
    peer = _peer_or_404(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    url = peer.url
    try:
        services.refresh_peer(db.session, key_store(), peer, fetch=client.fetch_descriptor)
    except FederationError as exc:
        uow.discard_changes()
        flash(_peer_error(exc.code), "error")
        return redirect(url_for("federation_admin.peers"), code=303)
    journal.record_action(db.session, current_user, "peer_refresh", url, f"serial {peer.serial}")
    flash(_("The descriptor of %(url)s was fetched again.", url=url), "success")
    return redirect(url_for("federation_admin.peers"), code=303)


@bp.route("/peers/<public_id>/remove", methods=["GET", "POST"])
@permission_required("peers.manage")
def remove_peer(public_id: str) -> ResponseReturnValue:
    """Ask for confirmation, then stop trusting a peer: its authorities' keys are revoked."""
    peer = _peer_or_404(public_id)
    form = RemovePeerForm()
    if form.validate_on_submit():
        url = peer.url
        services.remove_peer(db.session, peer)
        journal.record_action(db.session, current_user, "peer_remove", url, "removed")
        flash(_("The node %(url)s is no longer a peer.", url=url), "success")
        return redirect(url_for("federation_admin.peers"), code=303)
    return render_template("admin/remove_peer.html", peer=peer, form=form)


@bp.get("/operations")
@permission_required("deliveries.manage")
def operations_page() -> ResponseReturnValue:
    """Show the outbox: queued, in retry, parked as undeliverable (with the reason), the counts."""
    code = operations.scope_code(current_user)
    return render_template(
        "admin/operations.html",
        overview=operations.overview(db.session, code),
        button_form=EmptyForm(),
        scope=code,
        give_up_hours=current_app.config["EXCHANGE"].delivery_give_up_hours,
        actions=[
            a
            for a in journal.recent_actions(db.session, authority_code=code, limit=60)
            if a.action == "delivery_retry"
        ][:20],
    )


@bp.post("/operations/<msg_id>/retry")
@permission_required("deliveries.manage")
def retry(msg_id: str) -> ResponseReturnValue:
    """Put a parked message back in the queue, due now (recorded with who did it)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        operations.retry(db.session, current_user, msg_id)
    except FederationError as exc:
        uow.discard_changes()
        flash(str(OPERATIONS_ERRORS.get(exc.code, exc.code)), "error")
    else:
        flash(_("The message is queued again: the worker sends it at its next pass."), "success")
    return redirect(url_for("federation_admin.operations_page"), code=303)
