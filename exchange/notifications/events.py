"""The moves and messages that concern people, turned into notifications within their own flush.

A listener on every ORM session's ``before_flush`` looks at the new ``RequestEvent`` and incoming
``Message`` rows and adds the notifications they call for to the same flush, hence to the same
transaction: a move that is rolled back notifies nobody, and one that commits cannot lose its
notifications. The MLA area is unaware of it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from exchange.mla.models import INCOMING, Message, MlaRequest, RequestEvent
from exchange.notifications import recipients
from exchange.notifications.services import notify


def _request_of(session: Session, row: RequestEvent | Message) -> MlaRequest | None:
    """Return the request a new event or message belongs to (it may itself be new)."""
    if row.request is not None:
        return row.request
    return session.get(MlaRequest, row.request_id) if row.request_id is not None else None


def _on_event(session: Session, move: RequestEvent) -> None:
    """Notify the people a move concerns (never the person who made it)."""
    request = _request_of(session, move)
    if request is None:
        return
    found = recipients.MOVES.get((request.side, move.action))
    if found is None:
        return
    kind, who = found
    people = [p for p in recipients.audience(session, request, who) if p.id != move.actor_id]
    notify(session, people, kind, request, at=move.at)


def _on_message(session: Session, message: Message) -> None:
    """Notify the people who handle a request of a message received about it."""
    if message.direction != INCOMING:
        return  # the team's own messages go abroad; the author's colleagues see the thread
    request = _request_of(session, message)
    if request is None:
        return  # a message about a case reference alone: no request to point to
    notify(session, recipients.audience(session, request, recipients.HANDLERS), "message", request)


def record_notifications(session: Session, _context: Any, _instances: Any) -> None:
    """Add the notifications of this flush's new moves and messages (``before_flush``)."""
    for row in list(session.new):
        if isinstance(row, RequestEvent):
            _on_event(session, row)
        elif isinstance(row, Message):
            _on_message(session, row)


def listen() -> None:
    """Register the listener on every ORM session, once."""
    if not event.contains(Session, "before_flush", record_notifications):
        event.listen(Session, "before_flush", record_notifications)
