"""The clock of a request: its timestamps and the deadline after which it shows as overdue.

Service targets are configurable (``extra`` settings); the defaults are the EIO figures (Directive
2014/41/EU arts. 12 and 16: acknowledge within a week, execute within 90 days), labelled as
targets, not law: classic mutual legal assistance has no statutory deadline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from exchange.mla.models import MlaRequest
from exchange.mla.states import FINAL_STATES

if TYPE_CHECKING:
    from exchange.mla.definitions import Deadline


@dataclass(frozen=True)
class Targets:
    """Service targets that produce overdue flags (configurable; EIO figures as defaults)."""

    acknowledge_days: int = 7
    execute_days: int = 90


DEFAULT_TARGETS = Targets()


def _end_of(day: Any) -> datetime:
    """Return the end of a desired date, in UTC."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def update_clock(
    request: MlaRequest, action: str, at: datetime, targets: Targets, *, notice: bool = False
) -> None:
    """Keep the timestamps and the overdue deadline (``due_at``) in step with the move.

    ``notice``: the request is a notice (spontaneous information), done once noted, so nothing is
    due after its acknowledgement.
    """
    if action in ("transmit", "receive"):
        request.transmitted_at = at
        request.due_at = at + timedelta(days=targets.acknowledge_days)
    elif action in ("acknowledge", "register", "take_note"):
        request.acknowledged_at = at
        deadline = at + timedelta(days=targets.execute_days)
        if request.desired_date is not None:
            deadline = min(deadline, _end_of(request.desired_date))
        request.due_at = None if notice else deadline
    elif action == "execute":
        request.executed_at = at
    if request.state in FINAL_STATES or request.state == "closed":
        request.due_at = None


def apply_deadline(
    request: MlaRequest, action: str, payload: dict[str, Any], at: datetime, deadline: Deadline
) -> None:
    """Start a type's time limit on the move that starts it; the request is due at its end.

    A provisional arrest: the formal request must follow within the convention's time limit
    after the arrest (UNTOC 16(9); ECOWAS A/P.1/8/94 art. 22), counted from the date of the arrest
    the move records. Once the person is released, nothing is due any more.
    """
    if action == deadline.after:
        start = date.fromisoformat(str(payload["on"])) if payload.get("on") else at.date()
        request.due_at = _end_of(start + timedelta(days=deadline.days))
    elif action == "release":
        request.due_at = None


def deadline_date(request: MlaRequest, deadline: Deadline) -> date | None:
    """Return the last day of a running time limit (None if its move was not made)."""
    for event in reversed(request.events):
        if event.action == deadline.after:
            data = json.loads(event.payload)
            start = date.fromisoformat(str(data["on"])) if data.get("on") else event.at.date()
            return start + timedelta(days=deadline.days)
    return None
