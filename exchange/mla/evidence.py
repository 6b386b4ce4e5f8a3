"""The retrieval evidence: a person at the requested authority first opened the request.

ETSI EN 319 522's ``RETRIEVAL`` evidence, the second receipt after ``delivered``
(schemas/README.md, "Receipts"). When a person at the requested side first opens an incoming
request, the system records it on that side's timeline and signs a ``retrieved`` receipt for the
message that carried the request; the receipt travels back in an envelope of type ``evidence``
(it answers no POST), through the outbox like every other message, so it is retried, ordered and
applied once. The requesting side checks it and records it on its own timeline, at the time the
receipt gives.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
from typing import Any

from sqlalchemy import select

from exchange.auth.models import User
from exchange.db import DbSession, new_uuid, utcnow
from exchange.directory.models import Authority
from exchange.envelopes import EnvelopeError
from exchange.envelopes.stores import node_envelopes
from exchange.envelopes.wire import RECEIPT_JWS_TYP, issued_at
from exchange.mla import lifecycle, sealing
from exchange.mla.errors import Rejected
from exchange.mla.models import INCOMING, OUTGOING, MlaRequest, OutboxMessage

log = logging.getLogger(__name__)

EVIDENCE_MESSAGE = "evidence"
RETRIEVE = "retrieve"


def _claims(token: bytes) -> dict[str, Any]:
    """Return the claims of a receipt we signed ourselves (read, not verified)."""
    payload = token.split(b".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4))
    )
    return claims


def record_retrieval(session: DbSession, actor: User, request: MlaRequest) -> bool:
    """Record the first opening of an incoming request by ``actor`` and send its evidence.

    Does nothing (returns False) for an outgoing request, one opened before, or one in a state
    that records no retrieval. Flushes, never commits: the caller runs it as a unit of work.
    """
    if request.side != INCOMING or any(e.action == RETRIEVE for e in request.events):
        return False
    kind = lifecycle.lifecycle_of(request.request_type)
    if lifecycle.rule_for(request.side, request.state, RETRIEVE, kind) is None:
        return False
    now = utcnow()
    event = lifecycle.transition(session, request, RETRIEVE, at=now)
    # The system records it; the person who opened it is named.
    event.actor_id, event.actor_authority = actor.id, actor.authority.code
    if request.counterpart.hosted:
        # Both sides on this node (the hand-over of ``deliver-local``): no envelope, no receipt.
        _record_on_request(
            session, request.counterpart, request.authority, request.conversation_id, now
        )
    else:
        _send_evidence(session, request, now)
    session.flush()
    log.info("request %s first opened by user %s", request.conversation_id, actor.id)
    return True


def _send_evidence(session: DbSession, request: MlaRequest, now: dt.datetime) -> None:
    """Sign the ``retrieved`` receipt of the request's message and queue it to the other side."""
    envelopes = node_envelopes(session)
    first = envelopes.seen.receipt_for(request.conversation_id) if envelopes.seen else None
    # The SHA-256 of the envelope that carried the request, as its delivery receipt quoted it.
    digest = str(_claims(first)["envelope_sha256"]) if first else hashlib.sha256(b"").hexdigest()
    receipt = envelopes.make_receipt(
        request.authority.code,
        digest,
        "retrieved",
        in_reply_to=request.conversation_id,
        to=request.counterpart.code,
        now=now,
    )
    # A conversation of its own: an evidence never holds up the request's messages behind it.
    own = new_uuid()
    sealing.queue_message(
        session,
        sender=request.authority.code,
        recipient=request.counterpart.code,
        msg_type=EVIDENCE_MESSAGE,
        payload={"receipt": receipt.decode("ascii")},
        conversation=own,
        in_reply_to=request.conversation_id,
        msg_id=own,
    )


def _record_on_request(
    session: DbSession, addressed: Authority, origin: Authority, msg_id: str, at: dt.datetime
) -> None:
    """Record on our outgoing request, whose message ``msg_id`` ``origin`` opened, its retrieval."""
    sent = session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.msg_id == msg_id,
            OutboxMessage.sender_code == addressed.code,
            OutboxMessage.recipient_code == origin.code,
        )
    )
    if sent is None:
        raise Rejected("unknown-request", "the evidence names no message we sent")
    request = session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == sent.conversation_id,
            MlaRequest.side == OUTGOING,
            MlaRequest.counterpart_id == origin.id,
        )
    )
    if request is None:
        raise Rejected("unknown-request", "the evidence names no request of ours")
    if any(e.action == RETRIEVE for e in request.events):
        return  # one retrieval per request: a second evidence adds nothing
    lifecycle.transition(session, request, RETRIEVE, peer=origin.code, at=at)


def receive_evidence(
    session: DbSession, addressed: Authority, origin: Authority, payload: dict[str, Any]
) -> None:
    """Record a retrieval evidence from ``origin`` on the outgoing request it is about."""
    try:
        claims = node_envelopes(session).verify_jws(
            payload["receipt"], [origin.code], typ=RECEIPT_JWS_TYP
        )
    except EnvelopeError as exc:
        raise Rejected("invalid-payload", "the evidence's receipt does not verify") from exc
    if claims.get("status") != "retrieved" or claims.get("evidence") != "RETRIEVAL":
        raise Rejected("invalid-payload", "an evidence carries a retrieved receipt")
    if claims.get("aud") != addressed.code:
        raise Rejected("invalid-payload", "the evidence is about another authority's message")
    _record_on_request(
        session, addressed, origin, str(claims.get("in_reply_to")), issued_at(claims.get("iat"))
    )
