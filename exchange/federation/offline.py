"""Offline carriage: an envelope exported to a file, carried by hand, imported on the other side.

For a state whose node cannot be reached. The file is the single-file container of
schemas/README.md ("Single-file container"): the compact JWE itself when the message carries no
attachment, otherwise a ZIP (``envelope.jwe`` first, then ``attachments/<id>.blob``) — the very
bytes the worker would POST to the peer's inbox. The envelope is sealed once (``Delivery``) and
each export kept with its bytes (``CarriedEnvelope``), so whichever way it arrives first, by the
line or by hand, the other is answered with the same receipt and nothing is applied twice.

The receiving side imports the file through the inbox's own function (``inbox.receive``): the same
size limits, outer checks before decryption, idempotent apply and signed receipt. The receipt
(a compact JWS) is carried back and imported on the sending side, where it is checked against
the envelope that left and recorded as the worker records a receipt it was answered with.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from exchange.auth.models import User
from exchange.db import DbSession, utcnow
from exchange.directory import queries as directory
from exchange.envelopes import EnvelopeError, read_container, routing_header, write_container
from exchange.envelopes.container import ZIP_MAGIC
from exchange.envelopes.stores import node_envelopes
from exchange.envelopes.wire import MAX_RECEIPT_BYTES, RECEIPT_JWS_TYP
from exchange.federation import inbox
from exchange.federation.delivery import FINAL_REASONS, DeliveryConfig, seal_message
from exchange.federation.errors import FederationError
from exchange.federation.journal import record_action
from exchange.federation.models import Delivery
from exchange.federation.records import CarriedEnvelope, FederationAction
from exchange.mla import services as mla
from exchange.mla.models import OutboxMessage

log = logging.getLogger(__name__)

ENVELOPE = "envelope"
RECEIPT = "receipt"


@dataclass(frozen=True)
class Exported:
    """An envelope written to a file: its message, file name, media type and SHA-256."""

    msg_id: str
    filename: str
    media_type: str
    envelope_sha256: str


@dataclass(frozen=True)
class Imported:
    """What importing a file did: an envelope answered by a receipt, or a receipt recorded."""

    kind: str  # envelope | receipt
    msg_id: str | None
    outcome: str  # delivered | duplicate | rejected:<reason> | recorded | parked | ...
    receipt: bytes  # the receipt to carry back (an envelope import), else the one recorded
    action: FederationAction

    @property
    def accepted(self) -> bool:
        """Tell whether the file did what it was carried for."""
        return not self.outcome.startswith("rejected") and self.outcome != "unavailable"


# -- sending side: export -----------------------------------------------------------------------


def carriable(session: DbSession, authority_code: str | None = None) -> list[OutboxMessage]:
    """Return the queued messages to authorities hosted elsewhere (one authority's if named)."""
    hosted = {a.code for a in directory.authorities(session, hosted=True)}
    query = select(OutboxMessage).where(OutboxMessage.state == "queued").order_by(OutboxMessage.id)
    if authority_code is not None:
        query = query.where(OutboxMessage.sender_code == authority_code)
    return [m for m in session.scalars(query.limit(500)) if m.recipient_code not in hosted]


def _message_for(session: DbSession, msg_id: str, actor: User | None) -> OutboxMessage:
    """Return the outbox message ``msg_id``, locked; the actor's authority must have sent it."""
    message = session.scalar(
        select(OutboxMessage).where(OutboxMessage.msg_id == msg_id[:36]).with_for_update()
    )
    if message is None or (actor is not None and message.sender_code != actor.authority.code):
        raise FederationError("unknown_message", f"no message {msg_id[:36]} of yours")
    return message


def export_envelope(
    session: DbSession,
    config: DeliveryConfig,
    msg_id: str,
    dest: Path,
    *,
    actor: User | None = None,
) -> Exported:
    """Write a queued message's envelope (and its attachments) to ``dest``; flush, never commit.

    The envelope the worker sealed is used as it is; one is sealed now if there is none yet (or
    its attachment blobs are gone), and kept for the worker, so both roads carry the same bytes.
    """
    message = _message_for(session, msg_id, actor)
    if message.state != "queued":
        raise FederationError("not_queued", f"message {message.msg_id} is {message.state}")
    recipient = directory.authority_by_code(session, message.recipient_code)
    if recipient is not None and recipient.hosted:
        raise FederationError("hosted_here", f"{message.recipient_code} is hosted on this node")
    delivery = session.get(Delivery, message.id)
    if delivery is None:
        delivery = Delivery(outbox_id=message.id, attempts=0, next_attempt_at=utcnow())
        session.add(delivery)
        session.flush()  # its defaults
    blobs = _spooled(config, message.msg_id, delivery)
    if delivery.envelope is None or any(not p.exists() for p in blobs.values()):
        try:
            seal_message(session, config, message, delivery)
        except EnvelopeError as exc:  # no trusted key of the recipient, for instance
            raise FederationError("cannot_seal", f"{exc.reason}: {exc}") from exc
        blobs = _spooled(config, message.msg_id, delivery)
    token = delivery.envelope or b""
    write_container(dest, token, blobs)
    session.add(
        CarriedEnvelope(
            outbox_id=message.id,
            msg_id=message.msg_id,
            envelope=token,
            envelope_sha256=delivery.envelope_sha256,
            actor_id=actor.id if actor is not None else None,
        )
    )
    record_action(
        session, actor, "envelope_export", message.msg_id, "exported", detail=message.recipient_code
    )
    media_type = "application/zip" if blobs else "application/jose"
    suffix = "zip" if blobs else "jwe"
    log.info("envelope %s exported for carriage to %s", message.msg_id, message.recipient_code)
    return Exported(
        message.msg_id, f"{message.msg_id}.{suffix}", media_type, delivery.envelope_sha256
    )


def _spooled(config: DeliveryConfig, msg_id: str, delivery: Delivery) -> dict[str, Path]:
    """Return the sealed attachment blobs of a delivery, by manifest id (where the worker keeps them)."""
    ids = [i for i in delivery.blob_ids.split(",") if i]
    return {i: config.spool_dir / f"{msg_id}.{i}.blob" for i in ids}


def exported_at(session: DbSession, outbox_ids: list[int]) -> dict[int, Any]:
    """Return the time of the latest export of each of these outbox messages."""
    if not outbox_ids:
        return {}
    rows = session.execute(
        select(CarriedEnvelope.outbox_id, CarriedEnvelope.exported_at).where(
            CarriedEnvelope.outbox_id.in_(outbox_ids)
        )
    ).all()
    latest: dict[int, Any] = {}
    for outbox_id, at in rows:
        if outbox_id not in latest or at > latest[outbox_id]:
            latest[outbox_id] = at
    return latest


# -- either side: what a carried file is ------------------------------------------------------


def classify(data: bytes) -> tuple[str, bytes]:
    """Tell an envelope file (container or compact JWE) from a receipt file (a compact JWS)."""
    if data.startswith(ZIP_MAGIC):
        return ENVELOPE, data
    text = data.strip(b" \t\r\n")  # a file saved by an editor may end with a newline
    if not text.startswith(b"eyJ") or not text.isascii():
        raise FederationError("unrecognised_file", "neither an envelope nor a receipt")
    dots = text.count(b".")
    if dots == 4:
        return ENVELOPE, text
    if dots == 2 and _jws_part(text, 0).get("typ") == RECEIPT_JWS_TYP:
        return RECEIPT, text
    raise FederationError("unrecognised_file", "neither an envelope nor a receipt")


def _jws_part(token: bytes, index: int) -> dict[str, Any]:
    """Decode one JSON part of a compact JWS, unverified (to route it; the signature comes later)."""
    if len(token) > MAX_RECEIPT_BYTES:
        raise FederationError("oversized", f"a receipt is at most {MAX_RECEIPT_BYTES} bytes")
    try:
        part = token.split(b".")[index]
        value = json.loads(base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4)))
    except (IndexError, ValueError, binascii.Error) as exc:
        raise FederationError("unrecognised_file", "a damaged signed token") from exc
    if not isinstance(value, dict):
        raise FederationError("unrecognised_file", "a damaged signed token")
    return value


def _addressee(body: bytes, max_envelope_bytes: int) -> str | None:
    """Return the ``aud`` of an envelope's routing header (container or compact), or None."""
    try:
        if body.startswith(ZIP_MAGIC):
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "envelope.zip"
                path.write_bytes(body)
                with read_container(path, max_envelope_bytes) as box:
                    token = box.token
        else:
            token = body
        aud = routing_header(token, max_envelope_bytes).get("aud")
    except (EnvelopeError, OSError, ValueError):
        return None  # the inbox's checks name what is wrong with it
    return aud if isinstance(aud, str) else None


# -- import ---------------------------------------------------------------------------------


def import_file(
    session: DbSession,
    data: bytes,
    *,
    blobs_dir: Path,
    max_annex_bytes: int,
    max_bytes: int,
    actor: User | None = None,
) -> Imported:
    """Import a carried file: an envelope (answered by a receipt) or a receipt (recorded).

    An envelope goes through the inbox (``inbox.receive``), which commits the message it applies
    with its message id; the record of the import is flushed, for the caller to commit. With an
    ``actor`` (the upload page) the envelope must be addressed to the actor's authority and the
    receipt must answer a message it sent.
    """
    if len(data) > max_bytes:
        raise FederationError("oversized", f"the file exceeds {max_bytes} bytes")
    kind, body = classify(data)
    if kind == RECEIPT:
        return import_receipt(session, body, actor=actor)
    envelopes = node_envelopes(session)
    if actor is not None:
        aud = _addressee(body, envelopes.max_envelope_bytes)
        if aud is not None and aud != actor.authority.code:
            raise FederationError("not_yours", f"the envelope is addressed to {aud}")
    answer = inbox.receive(session, body, blobs_dir=blobs_dir, max_annex_bytes=max_annex_bytes)
    msg_id = _answered_message(answer.receipt)
    action = record_action(
        session,
        actor,
        "envelope_import",
        msg_id or "-",
        answer.outcome,
        receipt=answer.receipt or None,
    )
    return Imported(ENVELOPE, msg_id, answer.outcome, answer.receipt, action)


def _answered_message(receipt: bytes) -> str | None:
    """Return the message id a receipt we signed answers (None for an unreadable envelope)."""
    if not receipt:
        return None
    value = _jws_part(receipt, 1).get("in_reply_to")
    return value if isinstance(value, str) else None


def import_receipt(session: DbSession, token: bytes, *, actor: User | None = None) -> Imported:
    """Check a carried receipt against the envelope that left and record it; flush, never commit."""
    claims = _jws_part(token, 1)
    msg_id = claims.get("in_reply_to")
    if not isinstance(msg_id, str):
        raise FederationError("unknown_message", "the receipt names no message")
    message = _message_for(session, msg_id, actor)
    delivery = session.get(Delivery, message.id)
    sent = [
        c.envelope
        for c in session.scalars(
            select(CarriedEnvelope).where(CarriedEnvelope.outbox_id == message.id)
        )
    ]
    if delivery is not None and delivery.envelope is not None:
        sent.append(delivery.envelope)
    if not sent:
        raise FederationError("never_sent", f"message {msg_id} has not left this node")
    info, problem = None, "no envelope of this message matches"
    for envelope in sent:
        try:
            info = node_envelopes(session).check_receipt(token, envelope)
            break
        except EnvelopeError as exc:
            problem = f"{exc.reason}: {exc}"
    if info is None:
        raise FederationError("bad_receipt", problem)
    outcome = _record_receipt(session, message, delivery, token, info.status, info.issued_at)
    action = record_action(session, actor, "receipt_import", message.msg_id, outcome)
    return Imported(RECEIPT, message.msg_id, outcome, token, action)


def _record_receipt(
    session: DbSession,
    message: OutboxMessage,
    delivery: Delivery | None,
    token: bytes,
    status: str,
    issued: Any,
) -> str:
    """Record a verified receipt as the worker records one it was answered with."""
    if status == "retrieved":
        raise FederationError("not_delivery_evidence", "a retrieval receipt, not a delivery one")
    if message.state == "delivered":
        return "already_recorded"
    if delivery is None:
        delivery = Delivery(outbox_id=message.id, attempts=0, next_attempt_at=utcnow())
        session.add(delivery)
        session.flush()
    delivery.receipt = token
    delivery.receipt_status = status
    if status == "delivered":
        message.state = "delivered"
        delivery.delivered_at = issued
        delivery.last_error = ""
        session.flush()
        mla.record_delivery(session, message.msg_id)
        log.info("receipt carried back: message %s delivered", message.msg_id)
        return "recorded"
    delivery.last_error = status[:200]
    if status.split(":", 1)[-1] in FINAL_REASONS:
        message.state = "undeliverable"  # refused for good: an administrator looks at it
        session.flush()
        return "parked"
    session.flush()
    return "refused"  # stays queued: a corrected export may follow
