"""What the operations page shows: the outbox by stage of delivery, and the retry of a parked message.

A message is *queued* until its first attempt, *in retry* once an attempt failed (attempts, next
attempt, last error), *undeliverable* once parked (after ``EXCHANGE_DELIVERY_GIVE_UP_HOURS`` or a
refusal for good), and *delivered* when its receipt is stored. An authority's administrator sees
the messages its authority sent; a node administrator sees every message of the node.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select

from exchange.auth.models import User
from exchange.db import DbSession
from exchange.federation import delivery as worker
from exchange.federation.errors import FederationError
from exchange.federation.journal import record_action
from exchange.federation.models import Delivery
from exchange.federation.offline import exported_at
from exchange.mla.models import OutboxMessage

ROWS_PER_LIST = 200


@dataclass(frozen=True)
class QueueRow:
    """One undelivered message with what its delivery says."""

    message: OutboxMessage
    delivery: Delivery | None
    exported_at: dt.datetime | None


@dataclass
class Overview:
    """The outbox in three lists and the count of each state."""

    queued: list[QueueRow] = field(default_factory=list)
    retrying: list[QueueRow] = field(default_factory=list)
    parked: list[QueueRow] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def scope_code(actor: User) -> str | None:
    """Return the sending authority whose messages ``actor`` sees, or None for every message."""
    return None if actor.can("deliveries.manage_all") else actor.authority.code


def overview(session: DbSession, authority_code: str | None) -> Overview:
    """Return the undelivered messages (one authority's when named) and the counts by state."""
    result = Overview()
    counting = select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    listing = (
        select(OutboxMessage, Delivery)
        .outerjoin(Delivery, Delivery.outbox_id == OutboxMessage.id)
        .where(OutboxMessage.state.in_(("queued", "undeliverable")))
        .order_by(OutboxMessage.id)
    )
    if authority_code is not None:
        counting = counting.where(OutboxMessage.sender_code == authority_code)
        listing = listing.where(OutboxMessage.sender_code == authority_code)
    result.counts = {"queued": 0, "retrying": 0, "undeliverable": 0, "delivered": 0}
    for state, count in session.execute(counting).all():
        result.counts[state] = int(count)
    rows = session.execute(listing).all()
    exports = exported_at(session, [row[0].id for row in rows])
    for message, delivery in rows:
        row = QueueRow(message, delivery, exports.get(message.id))
        if message.state == "undeliverable":
            result.parked.append(row)
        elif delivery is not None and delivery.attempts > 0 and delivery.last_error:
            result.retrying.append(row)
        else:
            result.queued.append(row)
    result.counts["retrying"] = len(result.retrying)
    result.counts["queued"] -= len(result.retrying)
    result.queued = result.queued[:ROWS_PER_LIST]
    result.retrying = result.retrying[:ROWS_PER_LIST]
    result.parked = result.parked[:ROWS_PER_LIST]
    return result


def retry(session: DbSession, actor: User | None, msg_id: str) -> OutboxMessage:
    """Put a parked message back in the queue, due now; record who did it. Flushes only."""
    message = session.scalar(
        select(OutboxMessage).where(OutboxMessage.msg_id == msg_id[:36]).with_for_update()
    )
    code = scope_code(actor) if actor is not None else None
    if message is None or (code is not None and message.sender_code != code):
        raise FederationError("unknown_message", f"no message {msg_id[:36]}")
    delivery = session.get(Delivery, message.id)
    reason = delivery.last_error if delivery is not None else ""
    if not worker.retry_parked(session, message.id):
        raise FederationError("not_parked", f"message {message.msg_id} is {message.state}")
    record_action(session, actor, "delivery_retry", message.msg_id, "queued", detail=reason)
    return message
