"""A person's moves on a request: submit, approve and transmit, and every other move.

Each checks the whole move before it changes anything (``lifecycle.check``), so that a refused
move leaves nothing to roll back; the state itself changes only in ``lifecycle.transition``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from exchange import policy
from exchange.auth.models import User
from exchange.db import DbSession
from exchange.directory import queries as directory
from exchange.directory.models import Authority
from exchange.mla import disclosure, lifecycle
from exchange.mla.checklist import missing
from exchange.mla.drafting import check_reviewer
from exchange.mla.errors import MlaError
from exchange.mla.lifecycle import DEFAULT_TARGETS, Targets, TransitionError
from exchange.mla.models import MlaRequest
from exchange.mla.states import RECORDED_VIEWS

# The events that one person's move leaves, in order (approving also transmits).
MOVE_EVENTS: dict[str, tuple[str, ...]] = {"approve": ("approve", "transmit")}
# What must be equal for a second click to be the same move (the rest is derived by the move).
SAME_MOVE_KEYS = (
    "reference",
    "authority",
    "ground",
    "reason",
    "summary",
    "conditions",
    "consultation",
    "no_consultation_reason",
    "costs",
    "on",
)


@dataclass(frozen=True)
class Seen:
    """The state and version of a request as the page that sent a move showed it."""

    state: str
    version: int


def is_repeat(
    request: MlaRequest, actor: User, action: str, payload: dict[str, Any], seen: Seen
) -> bool:
    """Tell whether ``actor`` already made this very move on ``request`` from what they saw.

    A double click sends the same move twice from the same page: the request has moved on since
    (another version), and the latest move made by a person is this actor's same move, made from
    the state the page showed, with the same particulars. The second click then answers as the
    first did, instead of an error.
    """
    if seen.version == request.version:
        return False
    expected = MOVE_EVENTS.get(action, (action,))
    by_persons = [
        e for e in request.events if e.actor_id is not None and e.action not in RECORDED_VIEWS
    ]
    latest = by_persons[-len(expected) :]
    if len(latest) != len(expected) or tuple(e.action for e in latest) != expected:
        return False
    if any(e.actor_id != actor.id for e in latest) or latest[0].from_state != seen.state:
        return False
    recorded = json.loads(latest[0].payload)
    return all(
        str(recorded.get(key, "")).strip() == str(payload.get(key, "")).strip()
        for key in SAME_MOVE_KEYS
        if key in payload
    )


def submit(session: DbSession, actor: User, request: MlaRequest) -> None:
    """Send a complete draft to review; refuse while a required element is missing."""
    if not policy.can_edit_draft(actor, request):
        raise MlaError("forbidden")
    gaps = missing(session, request)
    if gaps:
        raise MlaError("incomplete", ", ".join(item.key for item in gaps))
    check_reviewer(request)  # the directory may have changed since the draft was opened
    lifecycle.transition(session, request, "submit", actor=actor)


def approve(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    targets: Targets = DEFAULT_TARGETS,
    *,
    disclosure_digest: str | None = None,
) -> None:
    """Approve a request under review (four-eyes) and transmit it: its message is queued.

    ``disclosure_digest``: what the approving officer's confirmation page showed of the persons
    disclosed; an approval refuses to send anything else (``disclosure.check_digest``).
    """
    lifecycle.check(request, "approve", actor=actor)
    check_reviewer(request)
    disclosure.check_digest(request, disclosure_digest)
    if missing(session, request):  # re-checked: the type definitions may have changed since
        raise MlaError("incomplete")
    lifecycle.transition(session, request, "approve", actor=actor)
    lifecycle.transition(session, request, "transmit", actor=actor, targets=targets)


def act(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    action: str,
    payload: dict[str, Any],
    targets: Targets = DEFAULT_TARGETS,
) -> None:
    """Make any other user move (register, assign, request info, postpone, execute, refuse...)."""
    if action in ("create", "submit", "approve", "transmit"):
        raise TransitionError("not_allowed", action)
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in payload.items()}
    lifecycle.check(request, action, actor=actor, payload=clean)
    assignment = None
    if action == "assign":
        assignment = _assignment(session, request, clean)
        clean = {
            "authority": assignment.authority.code,
            "officer": assignment.officer.display_name if assignment.officer else "",
        }
    if action in ("execute", "execute_partially"):
        shas = clean.get("annexes") or []
        known = {a.sha256 for a in request.annexes if a.kind == "result"}
        if not set(shas) <= known:
            raise MlaError("unknown_annex")
    # Everything is checked: from here on the move changes the request.
    if assignment is not None:
        request.assigned_authority_id = assignment.authority.id
        request.assigned_officer_id = assignment.officer.id if assignment.officer else None
    lifecycle.transition(session, request, action, actor=actor, payload=clean, targets=targets)


@dataclass(frozen=True)
class _Assignment:
    """An executing authority of the request's state, and optionally one of its officers."""

    authority: Authority
    officer: User | None


def _assignment(session: DbSession, request: MlaRequest, payload: dict[str, Any]) -> _Assignment:
    """Check an assignment to an executing authority (and officer) of the same state."""
    authority = directory.authority_by_code(session, str(payload.get("authority") or ""))
    if authority is None or authority.jurisdiction_code != request.authority.jurisdiction_code:
        raise MlaError("bad_authority")
    officer = None
    if payload.get("officer"):
        officer = session.scalar(
            select(User).where(User.public_id == str(payload["officer"]), User.active.is_(True))
        )
        if officer is None or officer.authority_id != authority.id:
            raise MlaError("bad_officer")
        if not officer.can("requests.execute") and not officer.can("requests.view_all"):
            raise MlaError("bad_officer")
    return _Assignment(authority, officer)
