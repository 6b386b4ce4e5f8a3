"""Delivery of the outbox: each queued message sealed, sent, receipted, or parked.

One pass (``deliver_due``) takes the queued messages whose time has come, oldest first. Each
message is three short units of work, so no lock is held while the network is slow:

1. **claim** — lock the row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share
   the queue; SQLite has one worker), check that no earlier message of its conversation is still
   undelivered (messages of one conversation leave in order), seal it once (the same bytes are
   sent at every attempt, so the receipt of a lost answer still matches), and take a lease: the
   next attempt is put off, so another worker leaves it alone and a killed worker's message is
   taken up again when the lease ends. A message to an authority hosted here is applied now,
   through the same receiving functions as ``exchange mla deliver-local`` (``apply_queued``);
2. **send** — POST the envelope (or its container) to the peer's inbox, outside any transaction;
3. **record** — verify the signed receipt against the envelope sent and store it; mark the
   message delivered (and the request, when it is the ``mla.request``); or plan the next attempt
   with exponential backoff and jitter; or park the message as undeliverable once it has waited
   longer than ``EXCHANGE_DELIVERY_GIVE_UP_HOURS`` or the peer refused it for good.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import aliased

from exchange import uow
from exchange.db import DbSession, utcnow
from exchange.directory import queries as directory
from exchange.envelopes import AttachmentIn, EnvelopeError, write_container
from exchange.envelopes.stores import node_envelopes
from exchange.exceptions import Refused
from exchange.federation.client import Answer
from exchange.federation.errors import FederationError
from exchange.federation.models import Delivery
from exchange.federation.services import peer_for_authority
from exchange.mla import sealing
from exchange.mla import services as mla
from exchange.mla.annexes import discard, open_annex
from exchange.mla.models import OutboxMessage
from exchange.mla.payloads import ANNEX_CARRIERS, carried_annexes
from exchange.mla.storage import StoredBlob

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=2)
MAX_BACKOFF = dt.timedelta(hours=1)
# Refusals that the same message will meet again however often it is sent: parked at once.
FINAL_REASONS = frozenset(
    {
        "malformed",
        "truncated",
        "oversized",
        "forbidden-header",
        "algorithm-not-allowed",
        "header-claims-mismatch",
        "bad-signature",
        "wrong-sender-key",
        "not-addressed-to-us",
        "decryption-failed",
        "attachment-hash-mismatch",
        "invalid-payload",
        "unknown-type",
        "predecessor-missing",  # held by the peer past its expiry (federation.held)
    }
)

Poster = Callable[[str, bytes, str], Answer]


@dataclass(frozen=True)
class DeliveryConfig:
    """What a worker needs to know: timings, where annexes and sealed blobs live, how to POST."""

    retry: dt.timedelta
    give_up: dt.timedelta
    blobs_dir: Path  # the annex store (encrypted at rest, per request and SHA-256)
    max_annex_bytes: int  # the largest annex a message handed over here may carry
    spool_dir: Path  # sealed attachment blobs waiting to be sent
    post: Poster
    lease: dt.timedelta = LEASE  # how long a taken message is left to its worker
    # The largest annex an envelope carries to a peer: the peer's inbox reads a posted envelope
    # whole (federation/routes.py), so carriage keeps the node's ordinary body limit
    # (max_upload_mb), while annexes handed over inside this node go up to ``max_annex_bytes``.
    max_carried_bytes: int = 25 << 20


@dataclass(frozen=True)
class _Send:
    """A claimed message ready to be sent."""

    outbox_id: int
    msg_id: str
    url: str
    envelope: bytes
    blobs: dict[str, Path]


class Routes:
    """Where the messages to each authority go, read once per pass: applied here (an authority
    hosted on this node) or POSTed to the URL of the peer that hosts it (None: no route)."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[bool, str | None]] = {}

    def route(self, session: DbSession, code: str) -> tuple[bool, str | None]:
        """Return whether ``code`` is hosted here, and else its peer's URL."""
        known = self._known.get(code)
        if known is None:
            recipient = directory.authority_by_code(session, code)
            if recipient is not None and recipient.hosted:
                known = (True, None)
            else:
                peer = peer_for_authority(session, code)
                known = (False, None if peer is None else peer.url)
            self._known[code] = known
        return known


def _due(session: DbSession, now: dt.datetime, limit: int) -> list[int]:
    """Return the ids of queued messages whose next attempt is due, oldest first."""
    rows = session.scalars(
        select(OutboxMessage.id)
        .outerjoin(Delivery, Delivery.outbox_id == OutboxMessage.id)
        .where(OutboxMessage.state == "queued")
        .where((Delivery.outbox_id.is_(None)) | (Delivery.next_attempt_at <= now))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return list(rows)


def deliver_due(session: DbSession, config: DeliveryConfig, *, limit: int = 200) -> dict[str, int]:
    """Make one pass over the due messages; return how many ended in each outcome."""
    counts: dict[str, int] = {}
    routes = Routes()
    for outbox_id in _due(session, utcnow(), limit):
        outcome = deliver_one(session, config, outbox_id, routes)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def deliver_one(
    session: DbSession, config: DeliveryConfig, outbox_id: int, routes: Routes | None = None
) -> str:
    """Deliver one outbox message if it is ours to take; return the outcome.

    ``routes`` is the pass's knowledge of where messages go (read afresh when not given).
    """
    routes = routes or Routes()
    try:
        claimed = uow.run_job(session, partial(_claim, session, config, outbox_id, routes))
    except (Refused, EnvelopeError, KeyError, TypeError, ValueError) as exc:
        reason = getattr(exc, "code", None) or getattr(exc, "reason", None) or type(exc).__name__
        log.warning("delivery of outbox row %s failed: %s", outbox_id, exc)
        return uow.run_job(session, partial(_retry_later, session, config, outbox_id, str(reason)))
    if not isinstance(claimed, _Send):
        return claimed
    body, content_type = _body(claimed)
    try:
        answer = config.post(claimed.url, body, content_type)
    except FederationError as exc:
        log.info("delivery of %s to %s: %s", claimed.msg_id, claimed.url, exc)
        return uow.run_job(session, partial(_retry_later, session, config, outbox_id, exc.code))
    outcome = uow.run_job(session, partial(_record, session, config, claimed, answer))
    if outcome in ("delivered", "parked"):
        for path in claimed.blobs.values():
            path.unlink(missing_ok=True)
    return outcome


def _body(claimed: _Send) -> tuple[bytes, str]:
    """Return what is POSTed: the compact envelope, or the container with its blobs."""
    if not claimed.blobs:
        return claimed.envelope, "application/jose"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "envelope.zip"
        write_container(path, claimed.envelope, claimed.blobs)
        return path.read_bytes(), "application/zip"


def _claim_statement() -> Select[OutboxMessage, Delivery, bool]:
    """Lock one queued message (if no other worker holds it) with its delivery row, and tell in
    the same statement whether an earlier message of its conversation has not left yet."""
    before = aliased(OutboxMessage)
    waits = (
        select(before.id)
        .where(
            before.conversation_id == OutboxMessage.conversation_id,
            before.id < OutboxMessage.id,
            before.state != "delivered",
        )
        .exists()
    )
    return (
        select(OutboxMessage, Delivery, waits)
        .outerjoin(Delivery, Delivery.outbox_id == OutboxMessage.id)
        .where(OutboxMessage.id == bindparam("outbox_id"), OutboxMessage.state == "queued")
        .with_for_update(skip_locked=True, of=OutboxMessage)
    )


# Built once per process: each message is claimed and recorded, and building these statements
# anew each time cost more than running them.
_CLAIM = _claim_statement()
_SENT = (
    select(OutboxMessage, Delivery)
    .join(Delivery, Delivery.outbox_id == OutboxMessage.id)
    .where(OutboxMessage.id == bindparam("outbox_id"))
)


def _claim(
    session: DbSession, config: DeliveryConfig, outbox_id: int, routes: Routes
) -> _Send | str:
    """Lock a due message, apply it here or seal it for its peer, and take a lease on it."""
    now = utcnow()
    row = session.execute(_CLAIM, {"outbox_id": outbox_id}).first()
    if row is None:
        return "taken"  # delivered or locked by another worker meanwhile
    message, delivery, earlier = row[0], row[1], bool(row[2])
    if delivery is None:
        # Added to the session once complete, so that the queries in between do not flush it
        # early and update it after: one INSERT.
        delivery = Delivery(outbox_id=outbox_id, attempts=0, next_attempt_at=now)
    elif delivery.next_attempt_at > now:
        return "taken"  # another worker holds the lease
    if now - message.created_at > config.give_up:
        session.add(delivery)
        return _park(message, delivery, delivery.last_error or "gave_up")
    if earlier:
        return "waiting"  # its conversation's earlier message has not left yet
    hosted, peer_url = routes.route(session, message.recipient_code)
    if hosted:
        created: list[StoredBlob] = []  # blobs stored for the request it creates
        try:  # the path of `exchange mla deliver-local`
            mla.apply_queued(
                session,
                message.id,
                blobs_dir=config.blobs_dir,
                max_annex_bytes=config.max_annex_bytes,
                created=created,
            )
        except BaseException:
            discard(created)
            raise
        delivery.attempts += 1
        delivery.delivered_at = now
        delivery.receipt_status = "delivered"
        delivery.last_error = ""
        session.add(delivery)
        session.flush()
        return "delivered"
    payload = None
    if delivery.envelope is None:
        # Decrypted once for the size check and the seal, where the check reads it.
        if message.msg_type in ANNEX_CARRIERS:
            payload = sealing.message_payload(message)
        too_large = _too_large_to_carry(session, config, message, payload)
        if too_large:  # no retry would change that: an administrator decides how it travels
            session.add(delivery)
            result = _park(message, delivery, too_large)
            session.flush()
            return result
    if peer_url is None:
        raise FederationError("no_route", f"no peer hosts {message.recipient_code}")
    if delivery.envelope is None:
        seal_message(session, config, message, delivery, payload)
    delivery.attempts += 1
    delivery.next_attempt_at = now + config.lease
    session.add(delivery)
    session.flush()
    ids = [i for i in delivery.blob_ids.split(",") if i]
    return _Send(
        outbox_id,
        message.msg_id,
        peer_url,
        delivery.envelope or b"",
        {i: _spool_path(config, message.msg_id, i) for i in ids},
    )


def _spool_path(config: DeliveryConfig, msg_id: str, att_id: str) -> Path:
    return config.spool_dir / f"{msg_id}.{att_id}.blob"


def _too_large_to_carry(
    session: DbSession,
    config: DeliveryConfig,
    message: OutboxMessage,
    payload: dict[str, Any] | None,
) -> str:
    """Name the first annex of a message larger than an envelope carries, or return ""."""
    for annex in carried_annexes(session, message, payload):
        if annex.size > config.max_carried_bytes:
            return f"annex_too_large: {annex.size} bytes, carriage takes {config.max_carried_bytes}"
    return ""


def seal_message(
    session: DbSession,
    config: DeliveryConfig,
    message: OutboxMessage,
    delivery: Delivery,
    payload: dict[str, Any] | None = None,
) -> None:
    """Seal a message once, with the annexes its payload announces as attachments (``payload``
    is its payload if the caller decrypted it already)."""
    if payload is None:
        payload = sealing.message_payload(message)
    # The stored annexes of the copy of the request that sends the message, by SHA-256: the
    # payload names them, and each travels as an attachment of the envelope.
    annexes = payload.get("annexes")
    named: list[Any] = annexes if isinstance(annexes, list) else []
    stored = (
        {annex.sha256: annex for annex in carried_annexes(session, message, payload)}
        if named
        else {}
    )
    attachments = []
    for entry in named:
        annex = stored.get(str(entry.get("sha256", "")))
        if annex is None:
            raise FederationError("annex_missing", f"annex {entry.get('sha256')} is not stored")
        attachments.append(
            AttachmentIn(
                str(entry.get("filename") or "annex")[:255],
                str(entry.get("media_type") or "application/octet-stream"),
                open_annex(config.blobs_dir, annex),
            )
        )
    config.spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    sealed = node_envelopes(session).seal(
        payload,
        sender=message.sender_code,
        recipient=message.recipient_code,
        msg_type=message.msg_type,
        conversation=message.conversation_id,
        in_reply_to=message.in_reply_to,
        msg_id=message.msg_id,
        attachments=attachments,
        blob_dir=config.spool_dir,
    )
    delivery.envelope = sealed.token
    delivery.envelope_sha256 = sealed.sha256
    delivery.blob_ids = ",".join(sorted(sealed.blobs))


def _park(message: OutboxMessage, delivery: Delivery, reason: str) -> str:
    """Stop trying: the message waits, undeliverable, for an administrator."""
    message.state = "undeliverable"
    delivery.last_error = reason[:200]
    log.warning(
        "message %s to %s parked as undeliverable: %s",
        message.msg_id,
        message.recipient_code,
        reason,
    )
    return "parked"


def _retry_later(
    session: DbSession, config: DeliveryConfig, outbox_id: int, reason: str, *, reseal: bool = False
) -> str:
    """Plan the next attempt with exponential backoff and jitter (or park past the give-up time)."""
    message = session.get(OutboxMessage, outbox_id)
    if message is None or message.state != "queued":
        return "taken"
    delivery = session.get(Delivery, outbox_id)
    if delivery is None:
        delivery = Delivery(outbox_id=outbox_id, attempts=1)
        session.add(delivery)
    now = utcnow()
    delivery.last_error = reason[:200]
    if reseal:
        delivery.envelope = None  # refused, so never accepted: the next attempt seals afresh
        delivery.blob_ids = ""
    if now - message.created_at > config.give_up:
        _park(message, delivery, reason)
        session.flush()
        return "parked"
    exponent = min(max(delivery.attempts, 1) - 1, 20)
    delay = min(config.retry * 2**exponent, MAX_BACKOFF)
    delay *= 0.5 + random.random()  # noqa: S311 - jitter, not a secret
    delivery.next_attempt_at = now + delay
    session.flush()
    return "retry"


def _record(session: DbSession, config: DeliveryConfig, claimed: _Send, answer: Answer) -> str:
    """Check the peer's receipt for the envelope sent and act on it."""
    row = session.execute(_SENT, {"outbox_id": claimed.outbox_id}).first()
    if row is None or row[0].state != "queued":
        return "taken"
    message, delivery = row[0], row[1]
    if answer.status == 202 and not answer.body:
        # Held by the peer until the message it follows arrives there: ask again soon, with the
        # same bytes, for the receipt (schemas/README.md, "Inbox").
        return _retry_later(session, config, claimed.outbox_id, "held_by_peer")
    if not answer.body or answer.status >= 500 or answer.status == 429:
        return _retry_later(session, config, claimed.outbox_id, f"http_{answer.status}")
    try:
        info = node_envelopes(session).check_receipt(answer.body, claimed.envelope)
    except EnvelopeError as exc:
        log.warning("receipt for %s refused: %s", claimed.msg_id, exc)
        return _retry_later(session, config, claimed.outbox_id, f"bad_receipt:{exc.reason}")
    delivery.receipt = answer.body
    delivery.receipt_status = info.status
    if info.status == "delivered":
        message.state = "delivered"
        delivery.delivered_at = info.issued_at
        delivery.last_error = ""
        mla.record_delivery(session, message.msg_id, at=info.issued_at, message=message)
        log.info("message %s delivered to %s", message.msg_id, message.recipient_code)
        return "delivered"
    reason = info.status.split(":", 1)[-1]
    if reason in FINAL_REASONS:
        return _park(message, delivery, info.status)
    return _retry_later(session, config, claimed.outbox_id, info.status, reseal=True)


def retry_parked(session: DbSession, outbox_id: int) -> bool:
    """Put an undeliverable message back in the queue, due now, with a fresh give-up clock."""
    message = session.get(OutboxMessage, outbox_id)
    if message is None or message.state != "undeliverable":
        return False
    message.state = "queued"
    message.created_at = utcnow()
    delivery = session.get(Delivery, outbox_id)
    if delivery is not None:
        delivery.next_attempt_at = utcnow()
        delivery.envelope = None
        delivery.blob_ids = ""
    session.flush()
    return True


def undeliverable(session: DbSession) -> list[tuple[OutboxMessage, Delivery | None]]:
    """Return the parked messages with their delivery record, oldest first."""
    rows = session.execute(
        select(OutboxMessage, Delivery)
        .outerjoin(Delivery, Delivery.outbox_id == OutboxMessage.id)
        .where(OutboxMessage.state == "undeliverable")
        .order_by(OutboxMessage.id)
    ).all()
    return [(row[0], row[1]) for row in rows]
