"""Who a move, a message or a passed deadline concerns: chosen by role and object, then checked
against the object-level policy, so that nobody is told of a request they may not open."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from sqlalchemy import Select, bindparam, select

from exchange import policy
from exchange.auth.models import User, UserRole
from exchange.auth.permissions import ROLE_PERMISSIONS
from exchange.db import DbSession
from exchange.mla.models import OUTGOING, MlaRequest

# Kinds of notification. Each names what awaits, never what the request says.
REVIEW_REQUESTED = "review_requested"
APPROVED = "approved"
CHANGES_REQUESTED = "changes_requested"
INCOMING_REQUEST = "incoming"
ASSIGNED = "assigned"
INFO_REQUESTED = "info_requested"
INFO_PROVIDED = "info_provided"
CONDITIONS_PROPOSED = "conditions_proposed"
RESPONSE = "response"
REFUSED = "refused"
WITHDRAWN = "withdrawn"
MESSAGE = "message"
OVERDUE = "overdue"

# The audience of a kind: the requesting side's team (the drafter and the case team), the
# central authority officers who review a submitted request, the officers who register an
# incoming one, or those who handle it (the officer it is assigned to, else the authority's).
TEAM, REVIEWERS, REGISTRARS, HANDLERS, ASSIGNEE = (
    "team",
    "reviewers",
    "registrars",
    "handlers",
    "assignee",
)

# (side, action) of a move -> (kind, audience). Moves absent here notify nobody: the person who
# made them knows, and nothing new awaits anyone else (a delivery receipt, a retrieval).
MOVES: dict[tuple[str, str], tuple[str, str]] = {
    ("outgoing", "submit"): (REVIEW_REQUESTED, REVIEWERS),
    ("outgoing", "approve"): (APPROVED, TEAM),
    ("outgoing", "request_changes"): (CHANGES_REQUESTED, TEAM),
    ("outgoing", "request_info"): (INFO_REQUESTED, TEAM),
    ("outgoing", "propose_conditions"): (CONDITIONS_PROPOSED, TEAM),
    ("outgoing", "execute"): (RESPONSE, TEAM),
    ("outgoing", "execute_partially"): (RESPONSE, TEAM),
    ("outgoing", "refuse"): (REFUSED, TEAM),
    ("incoming", "receive"): (INCOMING_REQUEST, REGISTRARS),
    ("incoming", "assign"): (ASSIGNED, ASSIGNEE),
    ("incoming", "provide_info"): (INFO_PROVIDED, HANDLERS),
    ("incoming", "accept_conditions"): (RESPONSE, HANDLERS),
    ("incoming", "decline_conditions"): (RESPONSE, HANDLERS),
    ("incoming", "withdraw"): (WITHDRAWN, HANDLERS),
}


def _roles_granting(permission: str) -> list[str]:
    """Return the roles whose holders have ``permission``."""
    return sorted(role for role, granted in ROLE_PERMISSIONS.items() if permission in granted)


def _officers(
    session: DbSession, authority_ids: Iterable[int | None], permission: str
) -> list[User]:
    """Return the active users of these authorities holding ``permission``."""
    ids = sorted({i for i in authority_ids if i is not None})
    if not ids:
        return []
    return list(session.scalars(_officers_query(permission), {"ids": ids}).unique())


@cache
def _officers_query(permission: str) -> Select[User]:
    """Build once per permission the query of ``_officers`` (every move asks it, in its flush)."""
    return (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.authority_id.in_(bindparam("ids", expanding=True)), User.active.is_(True))
        .where(UserRole.role.in_(_roles_granting(permission)))
        .order_by(User.id)
    )


def _team(session: DbSession, request: MlaRequest) -> list[User]:
    """Return the drafter of an outgoing request and its case team."""
    people: list[User | None] = [request.created_by]
    if request.case is not None:
        people.append(request.case.created_by)
        ids = [m.user_id for m in request.case.members]
        if ids:
            people += session.scalars(select(User).where(User.id.in_(ids))).all()
    return [p for p in people if p is not None]


def _assignee(session: DbSession, request: MlaRequest) -> list[User]:
    """Return the officer an incoming request is assigned to (by id: the move may have just set it)."""
    if request.assigned_officer_id is None:
        return []
    officer = session.get(User, request.assigned_officer_id)
    return [officer] if officer is not None else []


def audience(session: DbSession, request: MlaRequest, who: str) -> list[User]:
    """Return the people of ``who`` for ``request`` whom the policy lets open it, once each."""
    if who == TEAM or (who == HANDLERS and request.side == OUTGOING):
        candidates = _team(session, request)
    elif who == REVIEWERS:
        reviewing = request.reviewing_authority_id or request.authority_id
        candidates = _officers(session, [reviewing], "requests.approve")
    elif who == REGISTRARS:
        candidates = _officers(session, [request.authority_id], "requests.register")
    elif who == ASSIGNEE or request.assigned_officer_id is not None:
        # The officer it is assigned to handles an incoming request, before the authority's.
        candidates = _assignee(session, request)
    else:
        candidates = _officers(
            session, [request.assigned_authority_id or request.authority_id], "requests.execute"
        )
    chosen: dict[int, User] = {}
    for person in candidates:
        if person.active and person.id not in chosen and policy.can_view_request(person, request):
            chosen[person.id] = person
    return list(chosen.values())
