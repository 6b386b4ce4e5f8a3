"""Reads of notifications: a person's list, page by page, and their unread count."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from exchange.auth.models import User
from exchange.cases.models import Case
from exchange.db import DbSession
from exchange.mla.models import MlaRequest
from exchange.notifications.models import Notification

PAGE_SIZE = 30


def unread_count(session: DbSession, user: User) -> int:
    """Return how many of ``user``'s notifications are unread (one query)."""
    return int(
        session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def notifications_of(
    session: DbSession, user: User, *, page: int = 1, unread_only: bool = False
) -> tuple[list[Notification], bool]:
    """Return one page of ``user``'s notifications, newest first, and whether more follow.

    The requests and what the policy needs to judge them (their case and its team) are loaded
    with the page, in a fixed number of queries whatever its length.
    """
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = (
        query.options(
            selectinload(Notification.request)
            .selectinload(MlaRequest.case)
            .selectinload(Case.members)
        )
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((max(page, 1) - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    )
    rows = list(session.scalars(query))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def notification_of(session: DbSession, user: User, public_id: str) -> Notification | None:
    """Return ``user``'s notification ``public_id``, or None (another person's is not found)."""
    return session.scalar(
        select(Notification).where(
            Notification.public_id == public_id, Notification.user_id == user.id
        )
    )
