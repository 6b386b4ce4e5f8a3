"""Writes of notifications: record them for the people concerned, mark them read, keep each
person's e-mail preference, and notice the deadlines that have passed. Flush, never commit —
except the overdue pass, a background job that is its own unit of work."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, exists, select, update

from exchange.auth.models import User
from exchange.db import DbSession, utcnow
from exchange.mla.models import MlaRequest
from exchange.mla.states import FINAL_STATES
from exchange.notifications import recipients
from exchange.notifications.models import (
    DAILY,
    EACH,
    MAIL_DIGEST,
    MAIL_NONE,
    MAIL_PENDING,
    MODES,
    NONE,
    Notification,
    NotificationPreference,
)
from exchange.uow import run_job

# The mail status a new notification starts in, by the person's preference.
_FIRST_STATUS = {EACH: MAIL_PENDING, DAILY: MAIL_DIGEST, NONE: MAIL_NONE}
# How many overdue requests one pass looks at: the rest wait for the next pass.
OVERDUE_BATCH = 200


class BadPreference(ValueError):
    """The preference is not one of ``MODES``."""


def preferences_of(session: DbSession, user_ids: Iterable[int]) -> dict[int, str]:
    """Return the e-mail preference of each of ``user_ids`` (``EACH`` when never chosen)."""
    ids = sorted(set(user_ids))
    chosen: dict[int, str] = {}
    if ids:
        rows = session.execute(
            select(NotificationPreference.user_id, NotificationPreference.mode).where(
                NotificationPreference.user_id.in_(ids)
            )
        )
        chosen = {user_id: mode for user_id, mode in rows}
    return {i: chosen.get(i, EACH) for i in ids}


def notify(
    session: DbSession,
    people: Iterable[User],
    kind: str,
    request: MlaRequest | None,
    *,
    dedup_key: str | None = None,
    at: datetime | None = None,
) -> list[Notification]:
    """Add a notification of ``kind`` for each of ``people`` (no flush: the caller's flush takes it).

    Called from within a flush (``events``) as well as from the overdue pass, so it only adds.
    """
    people = list(people)
    modes = preferences_of(session, (p.id for p in people))
    added = []
    for person in people:
        notification = Notification(
            user=person,
            kind=kind,
            request=request,
            dedup_key=dedup_key,
            created_at=at or utcnow(),
            mail_status=_FIRST_STATUS[modes[person.id]],
        )
        session.add(notification)
        added.append(notification)
    return added


def mark_read(session: DbSession, user: User, notification: Notification) -> None:
    """Mark one of ``user``'s notifications read (nothing if it is someone else's)."""
    if notification.user_id == user.id and notification.read_at is None:
        notification.read_at = utcnow()
        session.flush()


def mark_all_read(session: DbSession, user: User) -> int:
    """Mark every unread notification of ``user`` read; return how many."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def set_preference(session: DbSession, user: User, mode: str) -> None:
    """Record how ``user`` wants to be told by e-mail: each event, a daily digest, or none.

    The choice applies to the notifications to come, and to those still waiting for their
    e-mail (a person who turns e-mail off gets none of what was queued).
    """
    if mode not in MODES:
        raise BadPreference(mode)
    row = session.scalar(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id)
    )
    if row is None:
        row = NotificationPreference(user_id=user.id, mode=mode)
        session.add(row)
    row.mode = mode
    # Those that were to be told (each or in a digest) follow the new choice; those of a time
    # when the person wanted no e-mail stay so: turning e-mail on does not send the past.
    waiting = (MAIL_PENDING, MAIL_DIGEST)
    session.execute(
        update(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.mail_status.in_(waiting),
            Notification.read_at.is_(None),
        )
        .values(mail_status=_FIRST_STATUS[mode])
        .execution_options(synchronize_session=False)
    )
    session.flush()


def _overdue_requests(session: DbSession, now: datetime) -> list[MlaRequest]:
    """Return open requests whose deadline has passed and that were not yet noticed for it."""
    noticed = exists().where(
        and_(
            Notification.request_id == MlaRequest.id,
            Notification.kind == recipients.OVERDUE,
            Notification.created_at >= MlaRequest.due_at,
        )
    )
    query = (
        select(MlaRequest)
        .where(MlaRequest.due_at.is_not(None), MlaRequest.due_at < now)
        .where(MlaRequest.state.notin_(FINAL_STATES), ~noticed)
        .order_by(MlaRequest.due_at, MlaRequest.id)
        .limit(OVERDUE_BATCH)
    )
    return list(session.scalars(query))


def notice_overdue(session: DbSession, now: datetime | None = None) -> dict[str, int]:
    """Notify, once per deadline, the people handling each request whose deadline has passed.

    The background pass of overdue deadlines; idempotent: a deadline already noticed is not
    noticed again (each notification's ``dedup_key`` names the request and the deadline, unique
    per person, so two workers noticing it at once keep one: the loser is run again and finds it).
    """
    moment = now or utcnow()

    def job() -> int:
        count = 0
        for request in _overdue_requests(session, moment):
            due = request.due_at.timestamp() if request.due_at is not None else 0
            key = f"overdue:{request.id}:{int(due)}"
            people = recipients.audience(session, request, recipients.HANDLERS)
            count += len(notify(session, people, recipients.OVERDUE, request, dedup_key=key))
        session.flush()
        return count

    count = run_job(session, job)
    return {"overdue": count} if count else {}
