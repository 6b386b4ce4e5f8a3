"""Reads of the desk: for each role of a user, the sections of what awaits them.

Every section is one statement built on a scope of ``exchange.policy`` (nothing the user could
not open is ever listed), reading at most ``LIMIT`` + 1 rows with what its page shows joined in,
so that a desk costs the same number of statements whether a section holds one item or twenty.
The badge of the navigation counts the sections that ask for a move, in one statement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    LABEL_STYLE_TABLENAME_PLUS_COL,
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import lazyload

from exchange import policy
from exchange.auth.models import EnrolmentLink, LoginThrottle, User, UserSession
from exchange.auth.permissions import (
    ADMINISTRATOR,
    CENTRAL_AUTHORITY_OFFICER,
    INVESTIGATOR,
    LIAISON_OFFICER,
    PROSECUTOR,
)
from exchange.cases.models import Case
from exchange.db import DbSession
from exchange.documents import dispatch
from exchange.mla.models import INCOMING, OUTGOING, MlaRequest, RequestEvent
from exchange.mla.states import EDITABLE_STATES, FINAL_STATES, RECORDED_VIEWS

# Items shown per section; the section says when there are more.
LIMIT = 20
# The badge counts up to this many items per section (then shows the figure reached).
BADGE_CAP = 99
# The moves of the requested side that answer a request: its results, or its refusal.
RESPONSE_ACTIONS = ("execute", "execute_partially", "refuse")
# The states in which the requesting side owes an answer: information asked for (UNTOC 18(16)),
# conditions proposed before a refusal or postponement (UNTOC 18(26)).
AWAITING_ANSWER_STATES = ("info_requested", "conditions_proposed")
# Registered incoming requests that still have no executing authority assigned.
ASSIGNABLE_STATES = (
    "registered",
    "in_execution",
    "partially_executed",
    "info_requested",
    "conditions_proposed",
)
# Moves that are no news to the team: recorded views, and the retrieval evidence.
QUIET_ACTIONS = (*RECORDED_VIEWS, "retrieve")
DEADLINE_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class DeskContext:
    """Who looks at the desk, when, and since when they last visited it."""

    actor: User
    now: datetime
    since: datetime | None = None  # the end of the previous visit; None for a first one
    # Names the account-wide sign-in counter of an e-mail address (``signin.account_lock_key``).
    lock_key: Callable[[str], str] | None = None


@dataclass
class Section:
    """One section of the desk: its name, its rows (at most ``LIMIT``), whether there are more."""

    key: str
    role: str
    rows: list[Any] = field(default_factory=list)
    more: bool = False
    counted: bool = False


def previous_visit(session: DbSession, user: User, current: UserSession | None) -> datetime | None:
    """Return when the user's previous visit ended: the last use of an earlier session.

    Each signed-in browser session is a visit (``user_sessions`` keeps 30 days of them): what
    happened after the last request of the one before this is news. None for a first visit.
    """
    query = select(func.max(UserSession.last_seen_at)).where(
        UserSession.user_id == user.id, UserSession.authenticated_at.is_not(None)
    )
    if current is not None:
        query = query.where(
            UserSession.id != current.id, UserSession.created_at <= current.created_at
        )
    last: datetime | None = session.scalar(query)
    return last


# --- prosecutor ------------------------------------------------------------------------------


def _own(ctx: DeskContext) -> ColumnElement[bool]:
    """Return the outgoing requests of the user's team (within what they may open)."""
    return and_(policy.outgoing_condition(ctx.actor), policy.request_team_condition(ctx.actor))


def drafts(ctx: DeskContext) -> Select[Any]:
    """Return the team's drafts (and those sent back for changes), last edited first."""
    if not ctx.actor.can("requests.draft"):
        return select(MlaRequest).where(false())
    return (
        select(MlaRequest)
        .where(_own(ctx), MlaRequest.state.in_(EDITABLE_STATES))
        .order_by(MlaRequest.updated_at.desc(), MlaRequest.id.desc())
    )


def awaiting_answer(ctx: DeskContext) -> Select[Any]:
    """Return the team's requests awaiting its answer (information, conditions), oldest first."""
    if not ctx.actor.can("requests.draft"):
        return select(MlaRequest).where(false())
    return (
        select(MlaRequest)
        .where(_own(ctx), MlaRequest.state.in_(AWAITING_ANSWER_STATES))
        .order_by(MlaRequest.updated_at, MlaRequest.id)
    )


def responses(ctx: DeskContext) -> Select[Any]:
    """Return the responses (results, refusals) received since the last visit on open requests.

    A response stays until the request is closed or the next visit, whichever comes first.
    """
    query: Select[Any] = cast(
        "Select[Any]",
        select(RequestEvent, MlaRequest)
        .join(MlaRequest, MlaRequest.id == RequestEvent.request_id)
        .where(
            _own(ctx),
            RequestEvent.action.in_(RESPONSE_ACTIONS),
            RequestEvent.actor_id.is_(None),  # a move of the other side, received here
            MlaRequest.state != "closed",
        )
        .order_by(RequestEvent.at.desc(), RequestEvent.id.desc()),
    )
    if ctx.since is not None:
        query = query.where(RequestEvent.at > ctx.since)
    return query


def overdue_and_urgent(ctx: DeskContext) -> Select[Any]:
    """Return the team's open requests that are late or urgent, the latest deadline last."""
    return (
        select(MlaRequest)
        .where(
            _own(ctx),
            MlaRequest.state.notin_([*FINAL_STATES, *EDITABLE_STATES]),
            or_(MlaRequest.due_at < ctx.now, MlaRequest.urgent.is_(True)),
        )
        .order_by(MlaRequest.due_at.is_(None), MlaRequest.due_at, MlaRequest.id)
    )


# --- central authority officer -----------------------------------------------------------------


def review_queue(ctx: DeskContext) -> Select[Any]:
    """Return the requests submitted to the officer's authority for review, oldest first."""
    if not ctx.actor.can("requests.approve"):
        return select(MlaRequest).where(false())
    return (
        select(MlaRequest)
        .where(
            policy.outgoing_condition(ctx.actor),
            MlaRequest.side == OUTGOING,
            MlaRequest.state == "in_review",
            MlaRequest.reviewing_authority_id == ctx.actor.authority_id,
        )
        .order_by(MlaRequest.created_at, MlaRequest.id)
    )


def to_register(ctx: DeskContext) -> Select[Any]:
    """Return the incoming requests to register, or registered but assigned to no one, oldest first."""
    if not ctx.actor.can("requests.register"):
        return select(MlaRequest).where(false())
    return (
        select(MlaRequest)
        .where(
            policy.incoming_condition(ctx.actor),
            MlaRequest.side == INCOMING,
            MlaRequest.authority_id == ctx.actor.authority_id,
            or_(
                MlaRequest.state == "received",
                and_(
                    MlaRequest.state.in_(ASSIGNABLE_STATES),
                    MlaRequest.assigned_authority_id.is_(None),
                ),
            ),
        )
        .order_by(MlaRequest.created_at, MlaRequest.id)
    )


def deadlines_this_week(ctx: DeskContext) -> Select[Any]:
    """Return the requests due within the week (or already late), the nearest first."""
    if not ctx.actor.can("requests.view_all"):
        return select(MlaRequest).where(false())
    return (
        select(MlaRequest)
        .where(
            or_(policy.incoming_condition(ctx.actor), policy.outgoing_condition(ctx.actor)),
            MlaRequest.due_at.is_not(None),
            MlaRequest.due_at <= ctx.now + DEADLINE_WINDOW,
        )
        .order_by(MlaRequest.due_at, MlaRequest.id)
    )


# --- investigator ------------------------------------------------------------------------------


def team_cases(ctx: DeskContext) -> Select[Any]:
    """Return the cases the user is on the team of, last changed first."""
    return policy.cases_scope(ctx.actor).order_by(Case.updated_at.desc(), Case.id.desc())


def case_moves(ctx: DeskContext) -> Select[Any]:
    """Return the moves others made on the requests of the user's cases since the last visit."""
    query: Select[Any] = cast(
        "Select[Any]",
        select(RequestEvent, MlaRequest)
        .join(MlaRequest, MlaRequest.id == RequestEvent.request_id)
        .where(
            _own(ctx),
            MlaRequest.case_id.is_not(None),
            RequestEvent.action.notin_(QUIET_ACTIONS),
            or_(RequestEvent.actor_id.is_(None), RequestEvent.actor_id != ctx.actor.id),
        )
        .order_by(RequestEvent.at.desc(), RequestEvent.id.desc()),
    )
    if ctx.since is not None:
        query = query.where(RequestEvent.at > ctx.since)
    return query


# --- liaison officer ---------------------------------------------------------------------------


def awaiting_paper_transmission(ctx: DeskContext) -> Select[Any]:
    """Return what the liaison officer has to send on paper: the paper desk's own query.

    Requests of the officer's authority whose present subject (the request, or an answer to one)
    is due on the official channel and not yet recorded as dispatched
    (``exchange.documents.dispatch.awaiting_query``); an item leaves once its dispatch is recorded.
    """
    return dispatch.awaiting_query(ctx.actor)


# --- administrator -----------------------------------------------------------------------------


def _link_waiting(ctx: DeskContext) -> Any:
    """Return a column: whether the user has an unused enrolment link that has not expired."""
    return (
        exists()
        .where(
            EnrolmentLink.user_id == User.id,
            EnrolmentLink.used_at.is_(None),
            EnrolmentLink.expires_at > ctx.now,
        )
        .label("link_waiting")
    )


def pending_enrolments(ctx: DeskContext) -> Select[Any]:
    """Return the authority's active accounts with no password yet (enrolment not completed)."""
    return (
        policy.users_scope(ctx.actor)
        .add_columns(_link_waiting(ctx))
        .where(User.active.is_(True), User.password_hash.is_(None))
        .options(lazyload(User.role_rows))
        .order_by(User.created_at, User.id)
    )


def locked_accounts(session: DbSession, ctx: DeskContext) -> list[User]:
    """Return the authority's accounts whose sign-in is paused after failed attempts.

    The counters are keyed by an HMAC of the address typed (no address kept in clear), so the
    keys of the authority's accounts are computed here and looked up in one statement.
    """
    if ctx.lock_key is None or not ctx.actor.can("users.manage"):
        return []
    users: list[User] = list(
        session.scalars(
            policy.users_scope(ctx.actor)
            .where(User.active.is_(True))
            .options(lazyload(User.role_rows))
            .order_by(User.email)
        )
    )
    keys = {ctx.lock_key(user.email): user for user in users}
    if not keys:
        return []
    locked = set(
        session.scalars(
            select(LoginThrottle.key).where(
                LoginThrottle.key.in_(list(keys)), LoginThrottle.locked_until > ctx.now
            )
        )
    )
    return [user for key, user in keys.items() if key in locked]


# --- the sections of each role -----------------------------------------------------------------


@dataclass(frozen=True)
class SectionSpec:
    """How one section is read, and whether the badge counts it (it asks for a move)."""

    key: str
    build: Callable[[DeskContext], Select[Any]]
    counted: bool


ROLE_SECTIONS: dict[str, tuple[SectionSpec, ...]] = {
    PROSECUTOR: (
        SectionSpec("drafts", drafts, counted=False),
        SectionSpec("awaiting_answer", awaiting_answer, counted=True),
        SectionSpec("responses", responses, counted=True),
        SectionSpec("overdue_and_urgent", overdue_and_urgent, counted=True),
    ),
    CENTRAL_AUTHORITY_OFFICER: (
        SectionSpec("review_queue", review_queue, counted=True),
        SectionSpec("to_register", to_register, counted=True),
        SectionSpec("deadlines_this_week", deadlines_this_week, counted=False),
    ),
    INVESTIGATOR: (
        SectionSpec("team_cases", team_cases, counted=False),
        SectionSpec("case_moves", case_moves, counted=True),
    ),
    LIAISON_OFFICER: (
        SectionSpec("awaiting_paper_transmission", awaiting_paper_transmission, counted=True),
    ),
    ADMINISTRATOR: (SectionSpec("pending_enrolments", pending_enrolments, counted=True),),
}
# The desk's order of the roles, when a user holds several.
ROLE_ORDER = (PROSECUTOR, CENTRAL_AUTHORITY_OFFICER, INVESTIGATOR, LIAISON_OFFICER, ADMINISTRATOR)


def _specs(actor: User) -> list[tuple[str, SectionSpec]]:
    """Return the sections of each of the user's roles, in the desk's order."""
    return [
        (role, spec) for role in ROLE_ORDER if role in actor.roles for spec in ROLE_SECTIONS[role]
    ]


def _rows(session: DbSession, query: Select[Any]) -> list[Any]:
    """Run a section's statement for ``LIMIT`` + 1 rows: entities alone, or tuples of them."""
    result = session.execute(query.limit(LIMIT + 1))
    if len(query.column_descriptions) == 1:
        return list(result.scalars().unique())
    return [tuple(row) for row in result.unique()]


def desk_sections(session: DbSession, ctx: DeskContext) -> list[Section]:
    """Return the desk of ``ctx.actor``: each section of each of their roles, one statement each."""
    sections = []
    for role, spec in _specs(ctx.actor):
        rows = _rows(session, spec.build(ctx))
        sections.append(
            Section(spec.key, role, rows[:LIMIT], more=len(rows) > LIMIT, counted=spec.counted)
        )
        if spec.key == "pending_enrolments":
            sections.append(Section("locked_accounts", role, locked_accounts(session, ctx)))
    return sections


def badge_count(session: DbSession, ctx: DeskContext) -> int:
    """Return how many items await a move on the desk (each section up to ``BADGE_CAP``), in one statement."""
    counts = [
        select(func.count())
        .select_from(
            spec.build(ctx)
            .limit(BADGE_CAP)
            .set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
            .subquery()
        )
        .scalar_subquery()
        for _role, spec in _specs(ctx.actor)
        if spec.counted
    ]
    if not counts:
        return 0
    row = session.execute(select(*counts)).one()
    return sum(int(n or 0) for n in row)
