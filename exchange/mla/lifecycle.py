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
Before refusing or postponing, the requested side consults (UNTOC 18(26)): it proposes conditions
(-> conditions_proposed, both sides) that the requesting side accepts or declines, or records a
consultation held; a refusal or postponement without one gives the reason why none took place.

Each request type names its lifecycle (``states.LIFECYCLES``), one table each: a request for
assistance (``mla``); a notice (spontaneous information, UNTOC 18(4)-(5)): transmitted ->
received -> noted (acknowledged on the sending side), with an optional objection to its
conditions, and nothing to execute or refuse; extradition and provisional arrest, whose steps
(arrest, release, the formal request, the decision, the surrender) are data in ``steps``, as is
the consultation on extraordinary costs (UNTOC 18(28)).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from exchange import policy
from exchange.auth.models import User
from exchange.db import DbSession, utcnow
from exchange.mla import payloads, steps
from exchange.mla.clock import DEFAULT_TARGETS as DEFAULT_TARGETS
from exchange.mla.clock import Targets as Targets
from exchange.mla.clock import apply_deadline, update_clock
from exchange.mla.definitions import get_type
from exchange.mla.errors import TransitionError
from exchange.mla.models import INCOMING, MlaRequest, RequestEvent
from exchange.mla.particulars import CONDITION_KINDS as CONDITION_KINDS
from exchange.mla.particulars import REQUIRED_PAYLOAD as REQUIRED_PAYLOAD
from exchange.mla.particulars import check_payload
from exchange.mla.states import MLA_LIFECYCLE, NOTICE_LIFECYCLE, RECORDED_VIEWS
from exchange.mla.transitions import ACTIONS as ACTIONS
from exchange.mla.transitions import CONSULTATION_ACTIONS as CONSULTATION_ACTIONS
from exchange.mla.transitions import PEER as PEER
from exchange.mla.transitions import PEER_ACTION as PEER_ACTION
from exchange.mla.transitions import SYSTEM as SYSTEM
from exchange.mla.transitions import TABLE as TABLE
from exchange.mla.transitions import TABLES as TABLES
from exchange.mla.transitions import USER as USER
from exchange.mla.transitions import Rule as Rule


def lifecycle_of(request_type: str) -> str:
    """Return the lifecycle that requests of ``request_type`` run (a request for assistance if
    the type is unknown here)."""
    definition = get_type(request_type)
    return definition.lifecycle if definition is not None else MLA_LIFECYCLE


def rule_for(side: str, state: str, action: str, lifecycle: str = MLA_LIFECYCLE) -> Rule | None:
    """Return the rule for ``action`` from ``state`` on ``side``, or None if it is not allowed."""
    return TABLES[lifecycle].get((side, state, action))


def available_actions(request: MlaRequest, actor: User) -> list[str]:
    """Return the moves ``actor`` may make on ``request`` now (for the buttons of the page)."""
    found = []
    for action, rule in _user_moves(
        lifecycle_of(request.request_type), request.side, request.state
    ):
        if (
            rule.permission
            and actor.can(rule.permission)
            and policy.can_act_on_request(actor, request, rule.permission)
        ):
            if action == "approve" and is_author(request, actor):
                continue
            if _answers_something(request, action):
                found.append(action)
    return found


@cache
def _user_moves(lifecycle: str, side: str, state: str) -> tuple[tuple[str, Rule], ...]:
    """Return the moves a person may make from ``state`` on ``side``, by action name (the
    tables are complete once imported, so each answer is worked out once per process)."""
    return tuple(
        (action, rule)
        for (rule_side, from_state, action), rule in sorted(TABLES[lifecycle].items())
        if rule_side == side and from_state == state and rule.by == USER
    )


def _answers_something(request: MlaRequest, action: str) -> bool:
    """Tell whether a move that answers another (``steps.ANSWERS``) has something to answer."""
    answered = steps.ANSWERS.get(action)
    return answered is None or any(e.action == answered for e in request.events)


def tells_other_side(request: MlaRequest, action: str) -> bool:
    """Tell whether ``action`` from the request's state now sends a message to the other side."""
    rule = rule_for(request.side, request.state, action, lifecycle_of(request.request_type))
    return rule is not None and rule.notify is not None


def is_author(request: MlaRequest, actor: User) -> bool:
    """Tell whether ``actor`` wrote the request: created it or submitted it for review."""
    if request.created_by_id == actor.id:
        return True
    return any(e.action == "submit" and e.actor_id == actor.id for e in request.events)


def fold(
    events: Iterable[RequestEvent | tuple[str, str]], side: str, lifecycle: str = MLA_LIFECYCLE
) -> str:
    """Replay ``events`` (or (action, _) pairs) through the table and return the state they reach."""
    state = ""
    for event in events:
        action = event.action if isinstance(event, RequestEvent) else event[0]
        if action in RECORDED_VIEWS:
            continue  # a recorded view, not a move
        rule = rule_for(side, state, action, lifecycle)
        if rule is None:
            raise TransitionError("inconsistent_history", f"{action} from {state or 'nothing'}")
        state = rule.to
    return state


def _check_consultation(request: MlaRequest, action: str, payload: dict[str, Any]) -> None:
    """Refuse a refusal or postponement that follows no consultation and says not why.

    UNTOC 18(26) (ECOWAS art. 4(4), numbering UNVERIFIED): before refusing or postponing, the
    requested state consults on granting the assistance subject to conditions.
    """
    if any(e.action in CONSULTATION_ACTIONS for e in request.events):
        return
    if not str(payload.get("no_consultation_reason") or "").strip():
        raise TransitionError("consultation_required")


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
    rule = rule_for(request.side, state or "", action, lifecycle_of(request.request_type))
    if rule is None:
        raise TransitionError("not_allowed", f"{action} from {state or 'nothing'} ({request.side})")
    if rule.by == USER:
        if actor is None or rule.permission is None or not actor.can(rule.permission):
            raise TransitionError("forbidden")
        if action != "create" and not policy.can_act_on_request(actor, request, rule.permission):
            raise TransitionError("forbidden")
        if not _answers_something(request, action):
            raise TransitionError("not_allowed", f"{action} answers nothing yet")
        # Four-eyes: whoever wrote a request never approves it.
        if action == "approve" and is_author(request, actor):
            raise TransitionError("four_eyes")
    elif rule.by == PEER:
        if not peer or actor is not None:
            raise TransitionError("forbidden")
    elif actor is not None or peer is not None:
        raise TransitionError("forbidden")
    data = dict(payload or {})
    check_payload(request, action, data, by_user=rule.by == USER)
    if rule.by == USER and request.side == INCOMING and action in ("refuse", "postpone"):
        _check_consultation(request, action, data)
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
    if request.id is None:  # a request being created: one INSERT, with its state, at the flush
        session.add(request)
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
    if action == "register" or (action == "take_note" and payload.get("reference")):
        request.reference = str(payload["reference"])[:80]
    if action == "acknowledge" and payload.get("reference"):
        request.foreign_reference = str(payload["reference"])[:80]
    notice = lifecycle_of(request.request_type) == NOTICE_LIFECYCLE
    update_clock(request, action, at, targets, notice=notice)
    definition = get_type(request.request_type)
    if definition is not None and definition.deadline is not None:
        apply_deadline(request, action, payload, at, definition.deadline)
    session.flush()
    if rule.notify:
        message = payloads.queue_for(session, request, event, rule.notify)
        event.message_id = message.msg_id
        session.flush()
    return event
