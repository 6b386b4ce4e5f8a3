"""Bursts of messages between two real nodes, and what the receiving side holds of them.

``queue_burst`` queues, on Dakar, requests to Nigeria's central authority and threaded messages
about each of them (in the order of their conversation, each naming the one before it), as the
worker finds them after a busy day. ``received`` reads back, on Abuja, what was applied: each
conversation's messages in the order they were applied, and the count of each message id.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tests.federation.nodes import Node, make_user


@dataclass(frozen=True)
class Burst:
    """What was queued: each conversation with the texts of its messages, in order."""

    conversations: dict[str, list[str]]

    @property
    def total(self) -> int:
        """Return how many envelopes the burst makes (a request and its messages each)."""
        return sum(1 + len(texts) for texts in self.conversations.values())

    @property
    def msg_ids(self) -> set[str]:
        return set(self.conversations)


def _person(session: Any, role: str, code: str) -> Any:
    from exchange.auth.models import User

    found = session.scalar(sa.select(User).where(User.email == f"{role}@{code.lower()}.example"))
    return found or make_user(session, role, code)


def queue_burst(dakar: Node, conversations: int, per_conversation: int, tag: str) -> Burst:
    """Queue ``conversations`` requests and ``per_conversation`` messages about each, on Dakar."""
    from exchange.cases import services as cases
    from exchange.directory.queries import authority_by_code
    from exchange.mla import sealing, services
    from tests.mla.conftest import fill_request

    queued: dict[str, list[str]] = {}
    with dakar.app() as session:
        prosecutor = _person(session, "prosecutor", "SN-TGI-TAMBA")
        officer = _person(session, "central_authority_officer", "SN-CA")
        case = cases.create_case(
            session,
            prosecutor,
            number=f"PR-TAMBA-{tag}",
            title="Exploitation sur le site d'orpaillage",
            offences="trafficking in persons",
            stage="investigation",
            border_localities="Kédougou",
        )
        for c in range(conversations):
            request = services.create_request(
                session,
                prosecutor,
                case,
                request_type="taking_evidence",
                counterpart=authority_by_code(session, "NG-CA"),
            )
            fill_request(request, prosecutor)
            services.submit(session, prosecutor, request)
            services.approve(session, officer, request)
            previous, texts = request.conversation_id, []
            for i in range(per_conversation):
                text = f"{tag}-{c}-{i:04d}"
                previous = sealing.queue_message(
                    session,
                    sender="SN-CA",
                    recipient="NG-CA",
                    msg_type="message",
                    payload={"subject": "Progress inquiry", "text": text, "lang": "fr"},
                    conversation=request.conversation_id,
                    in_reply_to=previous,
                ).msg_id
                texts.append(text)
            queued[request.conversation_id] = texts
        session.commit()
    return Burst(queued)


def delivered_count(dakar: Node, burst: Burst) -> int:
    """Return how many of the burst's messages Dakar holds as delivered."""
    from exchange.mla.models import OutboxMessage

    with dakar.app() as session:
        return int(
            session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.conversation_id.in_(burst.msg_ids),
                    OutboxMessage.state == "delivered",
                )
            )
            or 0
        )


def wait_delivered(dakar: Node, burst: Burst, timeout: float) -> float:
    """Wait until Dakar holds every message of the burst delivered; return the seconds taken."""
    start = time.monotonic()
    while delivered_count(dakar, burst) < burst.total:
        assert time.monotonic() - start < timeout, (
            f"{delivered_count(dakar, burst)} of {burst.total} delivered after {timeout} s"
        )
        time.sleep(0.5)
    return time.monotonic() - start


def check_received(abuja: Node, burst: Burst) -> None:
    """Check that Abuja applied every message of the burst once, in order per conversation, and
    that it never had to hold one for its predecessor: the workers sent each message of a
    conversation only after the receipt of the one before it."""
    held = [
        line
        for line in abuja.log.read_text("utf-8", "replace").splitlines()
        if "held until" in line
    ]
    assert held == [], f"the inbox held messages that arrived out of order: {held[:3]}"
    from exchange.envelopes.models import SeenMessage
    from exchange.mla.messages import message_body
    from exchange.mla.models import Message, MlaRequest

    with abuja.app() as session:
        requests = Counter(
            session.scalars(
                sa.select(MlaRequest.conversation_id).where(
                    MlaRequest.conversation_id.in_(burst.msg_ids)
                )
            )
        )
        assert requests == Counter(burst.msg_ids), "a request lost or applied twice"
        messages = session.scalars(
            sa.select(Message)
            .where(Message.conversation_id.in_(burst.msg_ids))
            .order_by(Message.id)
        ).all()
        counts = Counter(m.msg_id for m in messages)
        assert len(counts) == burst.total - len(burst.conversations), "a message lost"
        assert set(counts.values()) == {1}, "a message applied twice"
        order: dict[str, list[str]] = {c: [] for c in burst.conversations}
        for message in messages:
            order[message.conversation_id].append(message_body(message))
        for conversation, texts in burst.conversations.items():
            assert order[conversation] == texts, "messages of a conversation out of order"
        seen = session.scalar(
            sa.select(sa.func.count())
            .select_from(SeenMessage)
            .where(SeenMessage.msg_id.in_([m.msg_id for m in messages] + list(burst.msg_ids)))
        )
        assert seen == burst.total
