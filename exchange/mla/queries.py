"""Reads of MLA requests: the dashboard (keyset pagination), a request's timeline, statistics."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, tuple_, union
from sqlalchemy.orm import joinedload, selectinload

from exchange import policy
from exchange.auth.models import User
from exchange.cases.models import Case, CaseReference
from exchange.db import DbSession, UTCDateTime, utcnow
from exchange.mla.models import (
    INCOMING,
    OUTGOING,
    Message,
    MlaRequest,
    RequestEvent,
    RequestPerson,
)
from exchange.mla.states import PAPER_DISPATCHED, PAPER_RECEIVED

PAGE_SIZE = 25


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters; every one maps to an index (see ``MlaRequest.__table_args__``)."""

    direction: str = OUTGOING
    state: str = ""
    country: str = ""
    request_type: str = ""
    urgent: bool = False
    overdue: bool = False
    mine: bool = False


@dataclass
class Page:
    """One page of the dashboard and the cursor of the next one."""

    rows: list[MlaRequest] = field(default_factory=list)
    next_cursor: str | None = None


def encode_cursor(request: MlaRequest) -> str:
    """Return the keyset cursor after ``request``: its creation time (microseconds) and id."""
    micros = int(request.created_at.timestamp() * 1_000_000)
    return f"{micros}-{request.id}"


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    """Read a cursor; None if it is malformed (the first page is shown instead)."""
    try:
        micros, ident = cursor.split("-", 1)
        position = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC), int(ident)
    except (ValueError, OverflowError, OSError):
        return None
    # Both engines store ids as signed 64-bit integers: a larger one is no cursor of ours.
    return position if 0 < position[1] < 2**63 else None


def _filter_conditions(
    actor: User, filters: Filters, now: datetime | None
) -> list[ColumnElement[bool]]:
    """Return the conditions of the chosen filters."""
    conditions: list[ColumnElement[bool]] = []
    if filters.state:
        conditions.append(MlaRequest.state == filters.state)
    if filters.country:
        conditions.append(MlaRequest.counterpart_state == filters.country)
    if filters.request_type:
        conditions.append(MlaRequest.request_type == filters.request_type)
    if filters.urgent:
        conditions.append(MlaRequest.urgent.is_(True))
    if filters.overdue:
        conditions.append(MlaRequest.due_at < (now or utcnow()))
    return conditions


def _branches(session: DbSession, actor: User, direction: str) -> list[ColumnElement[bool]]:
    """Return the visibility branches of one direction (see ``policy.outgoing_branches``)."""
    if direction == INCOMING:
        return policy.incoming_branches(actor)
    return policy.outgoing_branches(actor, policy.team_case_ids(session, actor))


def dashboard_query(actor: User, filters: Filters, now: datetime | None = None) -> Select[Any]:
    """Return the filtered, scoped query of the dashboard (without order or paging)."""
    scope = (
        policy.incoming_condition(actor)
        if filters.direction == INCOMING
        else policy.outgoing_condition(actor)
    )
    query = select(MlaRequest).where(scope, *_filter_conditions(actor, filters, now))
    if filters.mine:
        query = query.where(
            or_(MlaRequest.assigned_officer_id == actor.id, MlaRequest.created_by_id == actor.id)
        )
    return query


def dashboard_page(
    session: DbSession,
    actor: User,
    filters: Filters,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    now: datetime | None = None,
) -> Page:
    """Return one page of requests, newest first, by keyset on (created_at, id): no OFFSET.

    Each visibility branch (own authority, reviewing authority, each team case, assigned to me...)
    reads its first ``limit + 1`` rows from its own index in (created_at, id) order; the branches
    are merged, and only then are the page's rows loaded, with their counterparts joined. The cost
    of a page thus depends on the page size and the filters' selectivity, not on the table's size;
    the number of statements per page is constant (no N+1).
    """
    branches = _branches(session, actor, filters.direction)
    if filters.mine and branches:
        # "Assigned to me or written by me": both are always within the actor's scope, and each
        # has its own index, so they replace the visibility branches.
        side = MlaRequest.side == filters.direction
        branches = [
            and_(side, MlaRequest.assigned_officer_id == actor.id),
            and_(side, MlaRequest.created_by_id == actor.id),
        ]
    if not branches:
        return Page()
    conditions = _filter_conditions(actor, filters, now)
    after = decode_cursor(cursor) if cursor else None
    if after is not None:
        conditions.append(
            tuple_(MlaRequest.created_at, MlaRequest.id)
            < tuple_(literal(after[0], UTCDateTime()), literal(after[1]))
        )
    firsts = [
        select(MlaRequest.id, MlaRequest.created_at)
        .where(branch, *conditions)
        .order_by(MlaRequest.created_at.desc(), MlaRequest.id.desc())
        .limit(limit + 1)
        .subquery()
        for branch in branches
    ]
    merged = union(*[select(sq.c.id, sq.c.created_at) for sq in firsts]).subquery()
    top = (
        select(merged.c.id)
        .order_by(merged.c.created_at.desc(), merged.c.id.desc())
        .limit(limit + 1)
        .subquery()
    )
    query = (
        select(MlaRequest)
        .join(top, top.c.id == MlaRequest.id)
        .options(joinedload(MlaRequest.counterpart), joinedload(MlaRequest.authority))
        .order_by(MlaRequest.created_at.desc(), MlaRequest.id.desc())
    )
    rows = list(session.scalars(query).unique())
    page = Page(rows=rows[:limit])
    if len(rows) > limit:
        page.next_cursor = encode_cursor(rows[limit - 1])
    return page


def is_overdue(request: MlaRequest, now: datetime | None = None) -> bool:
    """Tell whether the request's next expected step is late."""
    return request.due_at is not None and request.due_at < (now or utcnow())


@dataclass(frozen=True)
class PaperMark:
    """The latest paper step of a request: dispatched or received, and on which date."""

    action: str
    on: str


def paper_marks(session: DbSession, requests: list[MlaRequest]) -> dict[int, PaperMark]:
    """Return, by request id, the latest paper dispatch or receipt on each request's timeline
    (for the dashboard's paper column); one query for the whole page."""
    ids = [r.id for r in requests]
    if not ids:
        return {}
    events = session.scalars(
        select(RequestEvent)
        .where(
            RequestEvent.request_id.in_(ids),
            RequestEvent.action.in_((PAPER_DISPATCHED, PAPER_RECEIVED)),
        )
        .order_by(RequestEvent.request_id, RequestEvent.seq)
    )
    marks = {}
    for event in events:
        on = str(json.loads(event.payload).get("on") or event.at.date().isoformat())
        marks[event.request_id] = PaperMark(event.action, on)
    return marks


def find_request(session: DbSession, actor: User, public_id: str) -> MlaRequest | None:
    """Return the request ``public_id`` if ``actor`` may see it, else None (answered with 404)."""
    request = session.scalar(
        select(MlaRequest)
        .where(MlaRequest.public_id == public_id)
        .options(
            selectinload(MlaRequest.events).joinedload(RequestEvent.actor),
            # The persons of the case each request person stands for (what it discloses).
            selectinload(MlaRequest.persons).joinedload(RequestPerson.case_person),
            selectinload(MlaRequest.annexes),
            joinedload(MlaRequest.case).selectinload(Case.members),
        )
    )
    if request is None or not policy.can_view_request(actor, request):
        return None
    return request


def thread(session: DbSession, request: MlaRequest) -> list[Message]:
    """Return the messages exchanged about a request, oldest first."""
    return list(
        session.scalars(
            select(Message)
            .where(Message.authority_id == request.authority_id, Message.request_id == request.id)
            .order_by(Message.id)
        )
    )


def reference_thread(session: DbSession, reference: CaseReference) -> list[Message]:
    """Return the messages exchanged about a case reference (its consultation), oldest first."""
    return list(
        session.scalars(
            select(Message)
            .where(
                Message.authority_id == reference.authority_id,
                Message.case_reference_id == reference.id,
            )
            .order_by(Message.id)
        )
    )


def case_requests(session: DbSession, actor: User, case: Case) -> list[MlaRequest]:
    """Return the requests of a case that ``actor`` may see, newest first."""
    return list(
        session.scalars(
            select(MlaRequest)
            .where(MlaRequest.case_id == case.id, policy.outgoing_condition(actor))
            .order_by(MlaRequest.created_at.desc(), MlaRequest.id.desc())
        )
    )


# --- statistics (aggregates only: no names, no free text) ----------------------------------------


@dataclass
class Stats:
    """The authority's figures: counts by country and type, medians, refusal grounds."""

    by_country: list[tuple[str, int]]
    by_type: list[tuple[str, int]]
    by_state: list[tuple[str, int]]
    refusal_grounds: list[tuple[str, int]]
    median_days_to_ack: float | None
    median_days_to_execution: float | None
    total: int


def _stats_scope(actor: User) -> ColumnElement[bool]:
    """Return the requests an authority's statistics cover: its own, sent or received."""
    return or_(
        MlaRequest.authority_id == actor.authority_id,
        MlaRequest.reviewing_authority_id == actor.authority_id,
    )


def _median_days(pairs: list[tuple[datetime | None, datetime | None]]) -> float | None:
    """Return the median number of days between the pairs' two times (both set), or None."""
    days = [
        (end - start).total_seconds() / 86400
        for start, end in pairs
        if start and end and end >= start
    ]
    return round(statistics.median(days), 1) if days else None


def stats(session: DbSession, actor: User, direction: str) -> Stats:
    """Compute the statistics of the actor's authority for one direction, in a few GROUP BYs."""
    scope = and_(_stats_scope(actor), MlaRequest.side == direction, MlaRequest.state != "draft")

    def grouped(column: Any) -> list[tuple[str, int]]:
        rows = session.execute(
            select(column, func.count()).where(scope).group_by(column).order_by(func.count().desc())
        ).all()
        return [(str(key or ""), int(count)) for key, count in rows]

    times = session.execute(
        select(MlaRequest.transmitted_at, MlaRequest.acknowledged_at, MlaRequest.executed_at).where(
            scope
        )
    ).all()
    by_state = grouped(MlaRequest.state)
    grounds = Counter(
        {
            str(ground): int(count)
            for ground, count in session.execute(
                select(MlaRequest.refusal_ground, func.count())
                .where(scope, MlaRequest.refusal_ground.is_not(None))
                .group_by(MlaRequest.refusal_ground)
            ).all()
        }
    )
    return Stats(
        by_country=grouped(MlaRequest.counterpart_state),
        by_type=grouped(MlaRequest.request_type),
        by_state=by_state,
        refusal_grounds=sorted(
            ((str(k), int(v)) for k, v in grounds.items()), key=lambda kv: -kv[1]
        ),
        median_days_to_ack=_median_days([(t, a) for t, a, _e in times]),
        median_days_to_execution=_median_days([(t, e) for t, _a, e in times]),
        total=sum(count for _state, count in by_state),
    )
