"""Paper dispatches: what the liaison officer must send by an official channel, and its record.

A request travels on paper once its central authority has approved it (the approval makes it a
request of the state, UNTOC 18(13)), and stays due while it is live on the requesting side —
the requested court may ask for the signed original at any point until execution ends. On the
requested side, each answer sent (partial or final results, a refusal) is due on paper: the
foreign court files paper. A dispatch and its later receipt are recorded on the request's
timeline as records, not moves (``mla.states.PAPER_RECORDS``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from exchange import policy
from exchange.auth.models import User
from exchange.db import DbSession, utcnow
from exchange.documents.models import BundleJob, PaperDispatch
from exchange.exceptions import Refused
from exchange.mla.models import INCOMING, OUTGOING, MlaRequest, RequestEvent
from exchange.mla.states import PAPER_DISPATCHED, PAPER_RECEIVED

CHANNELS = ("diplomatic_pouch", "courier", "central_authority_courier", "email", "other")
MAX_REFERENCE = 120
# Requesting side: from the approval while the request is live (see the module's docstring).
REQUEST_STATES = frozenset(
    {
        "approved",
        "transmitted",
        "delivered",
        "acknowledged",
        "in_execution",
        "info_requested",
        "conditions_proposed",
        "partially_executed",
    }
)
# Requested side: the answers that were sent by envelope and follow on paper.
ANSWER_STATES = frozenset({"partially_executed", "executed", "refused"})
REQUEST_SUBJECT = "request"


class DeskError(Refused):
    """A dispatch or a receipt the desk refuses; ``code`` names why (a translated message)."""


@dataclass
class DeskItem:
    """One request on the desk: what is due on paper, its dispatch (if any) and latest bundle."""

    request: MlaRequest
    subject: str
    dispatch: PaperDispatch | None
    job: BundleJob | None


def paper_subject(request: MlaRequest) -> str | None:
    """Return what of ``request`` is due on paper now (``request`` or the answer's state)."""
    if request.side == OUTGOING and request.state in REQUEST_STATES:
        return REQUEST_SUBJECT
    if request.side == INCOMING and request.state in ANSWER_STATES:
        return request.state
    return None


def _subject_column() -> Any:
    """Return the SQL expression of a request's paper subject (as ``paper_subject``)."""
    return case((MlaRequest.side == OUTGOING, REQUEST_SUBJECT), else_=MlaRequest.state)


def _due_condition() -> Any:
    """Return the SQL condition of the requests whose paper is due in their present state."""
    return or_(
        and_(MlaRequest.side == OUTGOING, MlaRequest.state.in_(sorted(REQUEST_STATES))),
        and_(MlaRequest.side == INCOMING, MlaRequest.state.in_(sorted(ANSWER_STATES))),
    )


def _dispatched() -> Any:
    """Return the SQL condition that the request's present subject has been dispatched."""
    return exists().where(
        PaperDispatch.request_id == MlaRequest.id, PaperDispatch.subject == _subject_column()
    )


def awaiting_query(user: User) -> Select[Any]:
    """Return the requests of ``user``'s authority whose paper is due and not yet sent."""
    return (
        select(MlaRequest)
        .where(policy.paper_condition(user), _due_condition(), ~_dispatched())
        .order_by(MlaRequest.urgent.desc(), MlaRequest.created_at, MlaRequest.id)
    )


def awaiting_dispatch(session: DbSession, user: User, *, limit: int = 200) -> list[MlaRequest]:
    """Return the dispatches ``user`` (a liaison officer) has to make: urgent first, oldest first.

    Empty for anyone without ``documents.dispatch``; other desks call it to count or list them.
    """
    return list(session.scalars(awaiting_query(user).limit(limit)))


def count_awaiting_dispatch(session: DbSession, user: User) -> int:
    """Return how many dispatches ``user`` has to make (one query)."""
    query = awaiting_query(user).order_by(None).with_only_columns(func.count(MlaRequest.id))
    return int(session.scalar(query) or 0)


def awaiting_receipt(session: DbSession, user: User, *, limit: int = 200) -> list[PaperDispatch]:
    """Return ``user``'s authority's dispatches whose receipt abroad is not recorded yet."""
    query = (
        select(PaperDispatch)
        .join(MlaRequest, PaperDispatch.request_id == MlaRequest.id)
        .where(policy.paper_condition(user), PaperDispatch.received_on.is_(None))
        .order_by(PaperDispatch.dispatched_on, PaperDispatch.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def find_paper_request(session: DbSession, user: User, public_id: str) -> MlaRequest | None:
    """Return the request ``public_id`` if ``user`` may handle its paper, else None (404)."""
    request = session.scalar(select(MlaRequest).where(MlaRequest.public_id == public_id))
    if request is None or not policy.can_handle_paper(user, request):
        return None
    return request


def dispatches_of(session: DbSession, request: MlaRequest) -> list[PaperDispatch]:
    """Return a request's dispatches, newest first."""
    query = select(PaperDispatch).where(PaperDispatch.request_id == request.id)
    return list(session.scalars(query.order_by(PaperDispatch.id.desc())))


def desk_item(session: DbSession, request: MlaRequest) -> DeskItem:
    """Return what the desk shows of one request."""
    subject = paper_subject(request) or ""
    dispatch = next((d for d in dispatches_of(session, request) if d.subject == subject), None)
    job = session.scalar(
        select(BundleJob).where(BundleJob.request_id == request.id).order_by(BundleJob.id.desc())
    )
    return DeskItem(request, subject, dispatch, job)


def record_on_timeline(
    session: DbSession, actor: User | None, request: MlaRequest, action: str, data: dict[str, Any]
) -> RequestEvent:
    """Record a paper step on the request's timeline, keeping its state and version.

    As ``mla.disclosure.record_view``: two records at once cannot take the same place in the
    timeline (the unique sequence number): the second takes the next one.
    """
    for _attempt in range(3):
        seq = session.scalar(
            select(func.coalesce(func.max(RequestEvent.seq), 0)).where(
                RequestEvent.request_id == request.id
            )
        )
        event = RequestEvent(
            seq=int(seq or 0) + 1,
            action=action,
            from_state=request.state,
            to_state=request.state,
            actor_id=actor.id if actor is not None else None,
            actor_authority=actor.authority.code if actor is not None else "system",
            at=utcnow(),
            payload=json.dumps(data, sort_keys=True, ensure_ascii=False),
        )
        try:
            with session.begin_nested():
                event.request_id = request.id
                session.add(event)
                session.flush()
        except IntegrityError:
            continue
        session.expire(request, ["events"])
        return event
    raise DeskError("busy")


def _clean_reference(reference: str) -> str:
    """Return a reference stripped of control characters, or refuse one too long."""
    clean = "".join(c for c in reference if c.isprintable()).strip()
    if len(clean) > MAX_REFERENCE:
        raise DeskError("reference_too_long")
    return clean


def _check_date(on: date, *, not_before: date | None = None) -> None:
    """Refuse a date in the future (a day of grace for time zones) or before ``not_before``."""
    if on > utcnow().date() + timedelta(days=1):
        raise DeskError("date_in_future")
    if not_before is not None and on < not_before:
        raise DeskError("date_too_early")


def record_dispatch(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    *,
    channel: str,
    reference: str,
    on: date,
    job: BundleJob | None = None,
) -> PaperDispatch:
    """Record that the request's present subject left by ``channel``; put it on the timeline.

    A repeat of the same record (a double click) returns the first one; a different second
    dispatch of the same subject is refused.
    """
    if not policy.can_handle_paper(actor, request):
        raise DeskError("forbidden")
    subject = paper_subject(request)
    if subject is None:
        raise DeskError("nothing_due")
    if channel not in CHANNELS:
        raise DeskError("bad_channel")
    reference = _clean_reference(reference)
    transmitted = request.transmitted_at.date() if request.transmitted_at else None
    _check_date(on, not_before=transmitted if request.side == OUTGOING else None)
    for existing in dispatches_of(session, request):
        if existing.subject == subject:
            if (existing.channel, existing.reference, existing.dispatched_on) == (
                channel,
                reference,
                on,
            ):
                return existing
            raise DeskError("already_dispatched")
    if job is not None and (job.request_id != request.id or job.state != "done"):
        job = None
    dispatch = PaperDispatch(
        request_id=request.id,
        subject=subject,
        channel=channel,
        reference=reference,
        dispatched_on=on,
        bundle_job_id=job.id if job else None,
        dispatched_by_id=actor.id,
    )
    session.add(dispatch)
    session.flush()
    data: dict[str, Any] = {"channel": channel, "reference": reference, "on": on.isoformat()}
    if job is not None:
        data["sha256"] = job.sha256
    record_on_timeline(session, actor, request, PAPER_DISPATCHED, data)
    return dispatch


def record_receipt(
    session: DbSession, actor: User, dispatch: PaperDispatch, *, on: date, reference: str
) -> PaperDispatch:
    """Record that the other side received a dispatch (its date, their reference); once."""
    request = dispatch.request
    if not policy.can_handle_paper(actor, request):
        raise DeskError("forbidden")
    reference = _clean_reference(reference)
    _check_date(on, not_before=dispatch.dispatched_on)
    if dispatch.received_on is not None:
        if (dispatch.received_on, dispatch.receipt_reference) == (on, reference):
            return dispatch
        raise DeskError("already_received")
    dispatch.received_on = on
    dispatch.receipt_reference = reference
    dispatch.received_recorded_by_id = actor.id
    session.flush()
    data = {"channel": dispatch.channel, "reference": reference, "on": on.isoformat()}
    record_on_timeline(session, actor, request, PAPER_RECEIVED, data)
    return dispatch
