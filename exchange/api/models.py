"""Credentials of the API: refresh tokens of a sign-in, and personal tokens for scripts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.auth.models import User, UserSession
from exchange.db import new_uuid, utcnow
from exchange.extensions import db

READ = "read"
WRITE = "write"
SCOPES = (READ, WRITE)


class RefreshToken(db.Model):  # type: ignore[name-defined]
    """One refresh token of an API sign-in; spent once, replaced by the next (rotation)."""

    __tablename__ = "api_refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The server-side session the API sign-in opened: ending it (sign-out of every session, a
    # credential change) ends every token of the sign-in.
    session_id: Mapped[int] = mapped_column(
        ForeignKey("user_sessions.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 of the token's 256 random bits: a database reader cannot use it.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()

    user_session: Mapped[UserSession] = relationship(lazy="joined")


class PersonalToken(db.Model):  # type: ignore[name-defined]
    """A named token with which a person's script calls the API, read-only or read and write."""

    __tablename__ = "api_personal_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so that its owner can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    # ``User.session_token`` when the token was made: a credential or role change, or a
    # disablement, rotates it and so ends every personal token as it ends every session.
    user_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(lazy="joined")
