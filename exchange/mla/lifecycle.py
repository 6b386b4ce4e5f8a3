"""The lifecycle of a request: the transition table and the one function that moves a request.

Every change of a request's state goes through ``transition``; nothing else writes
``MlaRequest.state``. The table maps (side, state, action) to the new state, who may make the
move (a ``user`` holding a permission, the ``peer`` authority through a message, or the
``system`` on a delivery receipt) and which message, if any, goes to the other side. The state is
the fold of the events (``fold``), which a test checks against the cached column.

Requesting side (DESIGN.md): draft -> in_review -> approved -> transmitted -> delivered ->
acknowledged -> in_execution <-> info_requested -> partially_executed -> executed -> closed, with
changes_requested (back to drafting), refused and withdrawn as exits. Requested side: received ->
registered -> in_execution <-> info_requested -> partially_executed | executed | refused -> closed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from exchange import policy
from exchange.auth.models import User
from exchange.db import DbSession, utcnow
from exchange.exceptions import Refused
from exchange.mla import payloads
from exchange.mla.models import INCOMING, OUTGOING, MlaRequest, RequestEvent
from exchange.mla.states import (
    FINAL_STATES,
    INCOMING_STATES,
    OUTGOING_STATES,
    REQUEST_MESSAGE,
    RESPONSE_MESSAGE,
    STATUS_MESSAGE,
)

USER, PEER, SYSTEM = "user", "peer", "system"

# Grounds on which a request may be refused; a reason is mandatory besides (UNTOC 18(23)).
# Bank secrecy (18(8)) and fiscal matters alone (18(22)) are not grounds, so they are absent.
REFUSAL_GROUNDS: dict[str, str] = {
    "not_in_conformity": "UNTOC 18(21)(a)",
    "essential_interests": "UNTOC 18(21)(b)",
    "domestic_law_prohibits": "UNTOC 18(21)(c)",
    "contrary_to_legal_system": "UNTOC 18(21)(d)",
    "dual_criminality": "UNTOC 18(9)",
    "discrimination": "ECOWAS A/P.1/7/92 (race, sex, religion, nationality, ethnic origin, political opinions)",
    "political_offence": "UN Model Treaty on MLA art. 4 (UNVERIFIED for ECOWAS)",
    "military_offence": "UN Model Treaty on MLA art. 4 (UNVERIFIED for ECOWAS)",
    "ne_bis_in_idem": "UN Model Treaty on MLA art. 4 (UNVERIFIED for ECOWAS)",
}

# Payload keys each action must carry (non-empty), checked before any move.
REQUIRED_PAYLOAD: dict[str, tuple[str, ...]] = {
    "request_changes": ("reason",),
    "register": ("reference",),
    "assign": ("authority",),
    "request_info": ("reason",),
    "provide_info": ("reason",),
    "postpone": ("reason",),
    "refuse": ("ground", "reason"),
    "execute_partially": ("summary",),
    "execute": ("summary",),
}
# Payload keys a person must give but a peer's message may lack. A withdrawal says why (issue
# 15, defect 4); the requested side learns it from mla.status, where ``reason`` stays optional
# (schemas/v1/payloads/mla.status.json) for nodes that send a withdrawal without one.
REQUIRED_OF_A_PERSON: dict[str, tuple[str, ...]] = {"withdraw": ("reason",)}
# The longest reasons a person may give: what an mla.status message carries (maxLength there).
MAX_REASON_LENGTH = 4000


@dataclass(frozen=True)
class Rule:
    """One allowed move: the new state, who makes it, and the message it sends to the other side."""

    to: str
    by: str
    permission: str | None = None
    notify: str | None = None
    same: bool = False  # the move keeps the state (postpone, assign)


@dataclass(frozen=True)
class Targets:
    """Service targets that produce overdue flags (configurable; EIO figures as defaults)."""

    acknowledge_days: int = 7
    execute_days: int = 90


DEFAULT_TARGETS = Targets()

TABLE: dict[tuple[str, str, str], Rule] = {}


def _allow(side: str, states: Iterable[str], action: str, rule: Rule) -> None:
    """Add ``rule`` for ``action`` from each of ``states`` on ``side``."""
    for state in states:
        to = state if rule.same else rule.to
        TABLE[(side, state, action)] = Rule(to, rule.by, rule.permission, rule.notify, rule.same)


# --- requesting side ------------------------------------------------------------------------
_REQ_OPEN_ABROAD = (
    "transmitted",
    "delivered",
    "acknowledged",
    "in_execution",
    "info_requested",
    "partially_executed",
)
_allow(OUTGOING, [""], "create", Rule("draft", USER, "requests.draft"))
_allow(
    OUTGOING, ["draft", "changes_requested"], "submit", Rule("in_review", USER, "requests.draft")
)
_allow(OUTGOING, ["in_review"], "approve", Rule("approved", USER, "requests.approve"))
_allow(
    OUTGOING, ["in_review"], "request_changes", Rule("changes_requested", USER, "requests.approve")
)
_allow(
    OUTGOING,
    ["approved"],
    "transmit",
    Rule("transmitted", USER, "requests.approve", REQUEST_MESSAGE),
)
_allow(OUTGOING, ["transmitted"], "deliver", Rule("delivered", SYSTEM))
_allow(OUTGOING, ["transmitted", "delivered"], "acknowledge", Rule("acknowledged", PEER))
_allow(
    OUTGOING,
    ["transmitted", "delivered", "acknowledged"],
    "start_execution",
    Rule("in_execution", PEER),
)
_allow(
    OUTGOING,
    ["acknowledged", "in_execution", "partially_executed"],
    "request_info",
    Rule("info_requested", PEER),
)
_allow(
    OUTGOING,
    ["info_requested"],
    "provide_info",
    Rule("in_execution", USER, "requests.draft", STATUS_MESSAGE),
)
_allow(
    OUTGOING,
    ["acknowledged", "in_execution", "partially_executed"],
    "postpone",
    Rule("", PEER, same=True),
)
_allow(
    OUTGOING,
    ["acknowledged", "in_execution", "partially_executed"],
    "execute_partially",
    Rule("partially_executed", PEER),
)
_allow(
    OUTGOING,
    ["acknowledged", "in_execution", "partially_executed"],
    "execute",
    Rule("executed", PEER),
)
_allow(OUTGOING, _REQ_OPEN_ABROAD, "refuse", Rule("refused", PEER))
_allow(
    OUTGOING,
    ["executed", "refused", "partially_executed"],
    "close",
    Rule("closed", USER, "requests.draft"),
)
_allow(
    OUTGOING,
    ["draft", "changes_requested", "in_review", "approved"],
    "withdraw",
    Rule("withdrawn", USER, "requests.draft"),
)
# Withdrawal once abroad: "no longer required" (UNTOC 18(24)) is told to the requested side.
_allow(
    OUTGOING,
    _REQ_OPEN_ABROAD,
    "withdraw",
    Rule("withdrawn", USER, "requests.draft", STATUS_MESSAGE),
)

# --- requested side -------------------------------------------------------------------------
_RCV_WORKING = ("registered", "in_execution", "partially_executed")
_allow(INCOMING, [""], "receive", Rule("received", PEER))
_allow(
    INCOMING,
    ["received"],
    "register",
    Rule("registered", USER, "requests.register", STATUS_MESSAGE),
)
_allow(
    INCOMING,
    [*_RCV_WORKING, "info_requested"],
    "assign",
    Rule("", USER, "requests.register", same=True),
)
_allow(
    INCOMING,
    ["registered"],
    "start_execution",
    Rule("in_execution", USER, "requests.execute", STATUS_MESSAGE),
)
# Additional information: UNTOC 18(16); ECOWAS 5(3).
_allow(
    INCOMING,
    _RCV_WORKING,
    "request_info",
    Rule("info_requested", USER, "requests.execute", STATUS_MESSAGE),
)
_allow(INCOMING, ["info_requested"], "provide_info", Rule("in_execution", PEER))
# Postponement with reasons and consultation: UNTOC 18(25)-(26).
_allow(
    INCOMING,
    _RCV_WORKING,
    "postpone",
    Rule("", USER, "requests.execute", STATUS_MESSAGE, same=True),
)
_allow(
    INCOMING,
    _RCV_WORKING,
    "execute_partially",
    Rule("partially_executed", USER, "requests.execute", RESPONSE_MESSAGE),
)
_allow(
    INCOMING, _RCV_WORKING, "execute", Rule("executed", USER, "requests.execute", RESPONSE_MESSAGE)
)
_allow(
    INCOMING,
    ["received", *_RCV_WORKING, "info_requested"],
    "refuse",
    Rule("refused", USER, "requests.execute", STATUS_MESSAGE),
)
_allow(
    INCOMING,
    ["executed", "refused", "withdrawn"],
    "close",
    Rule("closed", USER, "requests.register"),
)
_allow(INCOMING, ["received", *_RCV_WORKING, "info_requested"], "withdraw", Rule("withdrawn", PEER))

ACTIONS: frozenset[str] = frozenset(action for (_s, _f, action) in TABLE)

# The table reaches only the declared states of each side (states.py lists them for the pages).
_DECLARED = {OUTGOING: set(OUTGOING_STATES), INCOMING: set(INCOMING_STATES)}
if any(rule.to not in _DECLARED[side] for (side, _f, _a), rule in TABLE.items()):
    raise RuntimeError("the transition table reaches a state that states.py does not declare")

# A move made on one side arrives on the other side as this action (same name unless listed).
PEER_ACTION = {"register": "acknowledge", "transmit": "receive"}


class TransitionError(Refused):
    """A move was refused; ``code`` says why (for a translated message)."""


def rule_for(side: str, state: str, action: str) -> Rule | None:
    """Return the rule for ``action`` from ``state`` on ``side``, or None if it is not allowed."""
    return TABLE.get((side, state, action))


def available_actions(request: MlaRequest, actor: User) -> list[str]:
    """Return the moves ``actor`` may make on ``request`` now (for the buttons of the page)."""
    found = []
    for (side, state, action), rule in sorted(TABLE.items()):
        if side != request.side or state != request.state or rule.by != USER:
            continue
        if (
            rule.permission
            and actor.can(rule.permission)
            and policy.can_act_on_request(actor, request, rule.permission)
        ):
            if action == "approve" and is_author(request, actor):
                continue
            found.append(action)
    return found


def tells_other_side(request: MlaRequest, action: str) -> bool:
    """Tell whether ``action`` from the request's state now sends a message to the other side."""
    rule = rule_for(request.side, request.state, action)
    return rule is not None and rule.notify is not None


def is_author(request: MlaRequest, actor: User) -> bool:
    """Tell whether ``actor`` wrote the request: created it or submitted it for review."""
    if request.created_by_id == actor.id:
        return True
    return any(e.action == "submit" and e.actor_id == actor.id for e in request.events)


def fold(events: Iterable[RequestEvent | tuple[str, str]], side: str) -> str:
    """Replay ``events`` (or (action, _) pairs) through the table and return the state they reach."""
    state = ""
    for event in events:
        action = event.action if isinstance(event, RequestEvent) else event[0]
        rule = rule_for(side, state, action)
        if rule is None:
            raise TransitionError("inconsistent_history", f"{action} from {state or 'nothing'}")
        state = rule.to
    return state


def _check_payload(action: str, payload: dict[str, Any], by: str) -> None:
    """Refuse a move whose payload lacks a mandatory element (a reason, a ground...)."""
    required = REQUIRED_PAYLOAD.get(action, ())
    if by == USER:
        required += REQUIRED_OF_A_PERSON.get(action, ())
    for key in required:
        value = payload.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise TransitionError(f"missing_{key}")
    if by == USER and len(str(payload.get("reason") or "")) > MAX_REASON_LENGTH:
        raise TransitionError("too_long")
    if action == "refuse" and payload["ground"] not in REFUSAL_GROUNDS:
        raise TransitionError("unknown_ground")


def _end_of(day: Any) -> datetime:
    """Return the end of a desired date, in UTC."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def _update_clock(request: MlaRequest, action: str, at: datetime, targets: Targets) -> None:
    """Keep the timestamps and the overdue deadline (``due_at``) in step with the move."""
    if action in ("transmit", "receive"):
        request.transmitted_at = at
        request.due_at = at + timedelta(days=targets.acknowledge_days)
    elif action in ("acknowledge", "register"):
        request.acknowledged_at = at
        deadline = at + timedelta(days=targets.execute_days)
        if request.desired_date is not None:
            deadline = min(deadline, _end_of(request.desired_date))
        request.due_at = deadline
    elif action == "execute":
        request.executed_at = at
    if request.state in FINAL_STATES or request.state == "closed":
        request.due_at = None


def check(
    request: MlaRequest,
    action: str,
    *,
    actor: User | None = None,
    peer: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Rule:
    """Return the rule that allows ``action`` now, or raise TransitionError; changes nothing.

    Services call it before they change anything, so that a refused move leaves no trace.
    """
    state = request.state if request.id is not None or request.state else ""
    rule = rule_for(request.side, state or "", action)
    if rule is None:
        raise TransitionError("not_allowed", f"{action} from {state or 'nothing'} ({request.side})")
    if rule.by == USER:
        if actor is None or rule.permission is None or not actor.can(rule.permission):
            raise TransitionError("forbidden")
        if action != "create" and not policy.can_act_on_request(actor, request, rule.permission):
            raise TransitionError("forbidden")
        # Four-eyes: whoever wrote a request never approves it.
        if action == "approve" and is_author(request, actor):
            raise TransitionError("four_eyes")
    elif rule.by == PEER:
        if not peer or actor is not None:
            raise TransitionError("forbidden")
    elif actor is not None or peer is not None:
        raise TransitionError("forbidden")
    _check_payload(action, dict(payload or {}), rule.by)
    return rule


def transition(
    session: DbSession,
    request: MlaRequest,
    action: str,
    *,
    actor: User | None = None,
    peer: str | None = None,
    payload: dict[str, Any] | None = None,
    at: datetime | None = None,
    message_id: str | None = None,
    targets: Targets = DEFAULT_TARGETS,
) -> RequestEvent:
    """Make ``action`` on ``request`` if the table allows it for this actor; record the event.

    ``actor`` is a signed-in user; ``peer`` the authority code of the other side when the move
    arrives by message (with its ``message_id``); neither for a system move. The event records
    actor, time and payload; a move that concerns the other side queues its message, in the same
    unit of work (transactional outbox). Flushes, never commits.

    Every move writes the request's row, so the optimistic lock (``MlaRequest.version``) decides
    between two moves made at once: the second one's flush raises ``StaleDataError``, which the
    unit of work answers as a lost race (``exchange.uow``).
    """
    payload = dict(payload or {})
    state = request.state if request.id is not None or request.state else ""
    rule = check(request, action, actor=actor, peer=peer, payload=payload)

    at = at or utcnow()
    if request.id is None:
        session.add(request)
        session.flush()
    seq = max((e.seq for e in request.events), default=0) + 1
    event = RequestEvent(
        seq=seq,
        action=action,
        from_state=state or "",
        to_state=rule.to,
        actor_id=actor.id if actor is not None else None,
        actor_authority=(actor.authority.code if actor is not None else peer or SYSTEM),
        at=at,
        payload=json.dumps(payload, sort_keys=True, ensure_ascii=False),
        message_id=message_id,
    )
    request.events.append(event)
    request.state = rule.to
    # Even a move that keeps the state (assign, postpone) updates the row: the version moves on.
    request.updated_at = at
    if action == "refuse":
        request.refusal_ground = payload["ground"]
    if action == "register":
        request.reference = str(payload["reference"])[:80]
    if action == "acknowledge" and payload.get("reference"):
        request.foreign_reference = str(payload["reference"])[:80]
    _update_clock(request, action, at, targets)
    session.flush()
    if rule.notify:
        message = payloads.queue_for(session, request, event, rule.notify)
        event.message_id = message.msg_id
        session.flush()
    return event
