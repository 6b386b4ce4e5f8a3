"""Reads of the auth area: a user's own sessions."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from exchange.auth.models import User, UserSession
from exchange.db import DbSession, utcnow


def live_sessions(
    session: DbSession,
    user: User,
    *,
    idle: timedelta,
    lifetime: timedelta,
    now: datetime | None = None,
) -> list[UserSession]:
    """Return the user's signed-in sessions that are still usable, most recently used first."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.user_token == user.session_token,
                UserSession.ended_at.is_(None),
                UserSession.authenticated_at.is_not(None),
                UserSession.created_at > now - lifetime,
                UserSession.last_seen_at > now - idle,
            )
            .order_by(UserSession.last_seen_at.desc())
        )
    )


def own_session(session: DbSession, user: User, public_id: str) -> UserSession | None:
    """Return one of the user's own live sessions by its public id (never another user's)."""
    return session.scalar(
        select(UserSession).where(
            UserSession.user_id == user.id,
            UserSession.public_id == public_id,
            UserSession.ended_at.is_(None),
        )
    )
