"""Envelopes held at the inbox until the message they follow has arrived.

An envelope names its predecessor in the conversation in its signed ``in_reply_to`` claim (the
last message sent or received about the request, or in the thread, when it was made;
schemas/README.md). The predecessor has arrived here when we accepted it (the seen-message
register) or when we sent it ourselves (our outbox). Until then the envelope, already checked
whole, is kept as received, with its attachment blobs still encrypted, and the sender is told to
ask again (HTTP 202, no receipt). When its predecessor is applied, the held envelopes that follow
it are applied in turn, in order, through the same checks; a sender asking again then gets the
receipt given the first time.

A held envelope does not wait for ever: past ``EXCHANGE_HELD_EXPIRY_HOURS`` the sender asking
again is refused (``rejected:predecessor-missing``), and the worker's ``held`` pass
(:func:`purge_expired`) drops the envelope and its blobs. The row stays, emptied, for
``REFUSAL_KEPT`` more, so a sender asking again after the purge is still refused rather than held
afresh; then it is forgotten too.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from functools import partial
from pathlib import Path

from sqlalchemy import ColumnElement, Row, bindparam, func, or_, select

from exchange import uow
from exchange.db import DbSession, utcnow
from exchange.envelopes import OpenedEnvelope
from exchange.envelopes.models import SeenMessage
from exchange.federation.models import HeldEnvelope
from exchange.mla.models import OutboxMessage

log = logging.getLogger(__name__)

# Envelopes held for one sender at most: beyond, the inbox asks the sender to try later (503).
MAX_HELD_PER_SENDER = 5000
EXPIRED = "predecessor-missing"  # the reason of the refusal of an envelope held too long
# How long the emptied row of a purged envelope is kept, past its expiry, to refuse it again.
REFUSAL_KEPT = dt.timedelta(days=30)


# Asked of every envelope that follows another (built once; ids only, not the rows).
_SEEN_ID = select(SeenMessage.msg_id).where(SeenMessage.msg_id == bindparam("msg_id"))
_SENT_BY = select(OutboxMessage.id).where(
    OutboxMessage.msg_id == bindparam("msg_id"), OutboxMessage.sender_code == bindparam("sender")
)


def predecessor_arrived(session: DbSession, opened: OpenedEnvelope) -> bool:
    """Tell whether the message an envelope follows is known here: received, or sent by its
    recipient."""
    if opened.in_reply_to is None:
        return True
    if session.scalar(_SEEN_ID, {"msg_id": opened.in_reply_to}) is not None:
        return True
    sent = session.scalar(_SENT_BY, {"msg_id": opened.in_reply_to, "sender": opened.recipient})
    return sent is not None


def held_dir_of(blobs_dir: Path) -> Path:
    """Return the folder of held attachment blobs, beside the annex store."""
    return blobs_dir.parent / "held"


def blob_path(held_dir: Path, msg_id: str, att_id: str) -> Path:
    """Return where one held attachment blob waits."""
    return held_dir / f"{msg_id}.{att_id}.blob"


def _store(
    session: DbSession, opened: OpenedEnvelope, token: bytes, blob_ids: str, expiry: dt.timedelta
) -> str:
    """Record the held envelope once (a second post of it finds the first row, or its expiry)."""
    row = session.get(HeldEnvelope, opened.msg_id)
    if row is not None:
        return "expired" if utcnow() - row.received_at > expiry else "held"
    count = session.scalar(
        select(func.count())
        .select_from(HeldEnvelope)
        .where(HeldEnvelope.sender == opened.sender, _kept())
    )
    if (count or 0) >= MAX_HELD_PER_SENDER:
        return "full"
    session.add(
        HeldEnvelope(
            msg_id=opened.msg_id,
            sender=opened.sender,
            conversation_id=opened.conversation,
            waits_for=opened.in_reply_to or "",
            envelope=token,
            blob_ids=blob_ids,
        )
    )
    session.flush()
    return "held"


def hold(
    session: DbSession,
    opened: OpenedEnvelope,
    token: bytes,
    blobs: dict[str, Path],
    held_dir: Path,
    expiry: dt.timedelta,
) -> str:
    """Keep an envelope whose predecessor has not arrived; return ``held``, ``full`` or
    ``expired`` (held longer than ``expiry`` already: refuse it, :func:`release` drops it)."""
    if blobs:
        held_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for att_id, path in blobs.items():
        target = blob_path(held_dir, opened.msg_id, att_id)
        if not target.exists():
            shutil.copyfile(path, target)
    ids = ",".join(sorted(blobs))
    outcome = uow.run_job(session, partial(_store, session, opened, token, ids, expiry))
    if outcome != "held":  # not kept (a full register, or a purged row that refuses it)
        for att_id in blobs:
            blob_path(held_dir, opened.msg_id, att_id).unlink(missing_ok=True)
    if outcome == "expired":
        log.warning(
            "inbox: message %s from %s held longer than %s for %s, which never arrived: refused",
            opened.msg_id,
            opened.sender,
            expiry,
            opened.in_reply_to,
        )
    elif outcome == "held":
        # A warning: our own nodes send a conversation in order, so this is an envelope carried
        # out of order (a USB key), or a peer that does not keep the order.
        log.warning(
            "inbox: message %s from %s held until %s arrives",
            opened.msg_id,
            opened.sender,
            opened.in_reply_to,
        )
    else:
        log.warning(
            "inbox: too many held messages from %s; %s refused for now",
            opened.sender,
            opened.msg_id,
        )
    return outcome


# Asked after every envelope applied (nearly always to find nothing): built once, and its rows
# read as plain values, not loaded as ORM objects.
_SETTLE = (
    select(
        HeldEnvelope.msg_id, HeldEnvelope.waits_for, HeldEnvelope.envelope, HeldEnvelope.blob_ids
    )
    .where(
        or_(
            HeldEnvelope.waits_for == bindparam("msg_id"),
            HeldEnvelope.msg_id == bindparam("msg_id"),
        )
    )
    .order_by(HeldEnvelope.received_at, HeldEnvelope.msg_id)
)


def settle(
    session: DbSession, msg_id: str, held_dir: Path
) -> list[tuple[str, bytes, dict[str, Path]]]:
    """After ``msg_id`` was applied: forget it if it was held; return the held envelopes that
    follow it (id, envelope, blobs), in the order they came (one query for both)."""
    rows = session.execute(_SETTLE, {"msg_id": msg_id}).all()
    followers = [
        (row.msg_id, row.envelope, held_blobs(held_dir, row))
        for row in rows
        if row.msg_id != msg_id and row.waits_for == msg_id and row.envelope
    ]  # an emptied row (purged past its expiry) waits for its sender's next post, refused
    if any(row.msg_id == msg_id for row in rows):
        release(session, msg_id, held_dir)
    return followers


def held_blobs(held_dir: Path, row: HeldEnvelope | Row[str, str, bytes, str]) -> dict[str, Path]:
    """Return the attachment blobs of a held envelope, by manifest id."""
    return {i: blob_path(held_dir, row.msg_id, i) for i in row.blob_ids.split(",") if i}


def _drop(session: DbSession, msg_id: str) -> None:
    row = session.get(HeldEnvelope, msg_id)
    if row is not None:
        session.delete(row)
        session.flush()


def release(session: DbSession, msg_id: str, held_dir: Path) -> None:
    """Forget a held envelope once it was applied or refused, with its blobs."""
    row = session.get(HeldEnvelope, msg_id)
    if row is None:
        return
    paths = held_blobs(held_dir, row)
    uow.run_job(session, partial(_drop, session, msg_id))
    for path in paths.values():
        path.unlink(missing_ok=True)


def _kept() -> ColumnElement[bool]:
    """Filter of the held rows that still keep their envelope (not purged)."""
    return func.length(HeldEnvelope.envelope) > 0


def purge_expired(session: DbSession, held_dir: Path, expiry: dt.timedelta) -> dict[str, int]:
    """Drop the envelopes held longer than ``expiry``, and their blobs; forget the emptied rows
    ``REFUSAL_KEPT`` after that; commit; return the counts (empty when nothing was due)."""
    now = utcnow()
    rows = list(
        session.scalars(
            select(HeldEnvelope).where(
                or_(
                    (HeldEnvelope.received_at < now - expiry) & _kept(),
                    HeldEnvelope.received_at < now - expiry - REFUSAL_KEPT,
                )
            )
        )
    )
    counts: dict[str, int] = {}
    paths: list[Path] = []
    for row in rows:
        if row.envelope:
            log.warning(
                "held message %s from %s dropped: %s, which it follows, never came within %s",
                row.msg_id,
                row.sender,
                row.waits_for,
                expiry,
            )
            paths.extend(held_blobs(held_dir, row).values())
            row.envelope, row.blob_ids = b"", ""
            counts["expired"] = counts.get("expired", 0) + 1
        else:
            session.delete(row)
            counts["forgotten"] = counts.get("forgotten", 0) + 1
    session.commit()
    for path in paths:  # after the commit: a rolled-back purge keeps its blobs
        path.unlink(missing_ok=True)
    return counts
