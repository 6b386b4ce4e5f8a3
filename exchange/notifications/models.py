"""Notifications (each one also the outbox row of its e-mail) and each person's e-mail preference."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.db import new_uuid, utcnow
from exchange.extensions import db

if TYPE_CHECKING:
    from exchange.auth.models import User
    from exchange.mla.models import MlaRequest

# What becomes of a notification's e-mail.
MAIL_PENDING = "pending"  # to be sent on its own, as soon as a worker takes it
MAIL_DIGEST = "digest"  # to go in the person's daily digest
MAIL_SENDING = "sending"  # a worker has claimed it and is talking to the SMTP server
MAIL_SENT = "sent"  # the SMTP server accepted it
MAIL_NONE = "none"  # the person asked for no e-mail (still listed in the portal)
MAIL_UNCERTAIN = "uncertain"  # a worker stopped mid-send: never sent again (at most once)
MAIL_STATES = (MAIL_PENDING, MAIL_DIGEST, MAIL_SENDING, MAIL_SENT, MAIL_NONE, MAIL_UNCERTAIN)

# A person's choice of e-mail: each event, one digest a day, or none.
EACH, DAILY, NONE = "each", "daily", "none"
MODES = (EACH, DAILY, NONE)


class Notification(db.Model):  # type: ignore[name-defined]
    """Something that awaits one person, caused by a move or a message, linked to its request.

    It names no case content: its ``kind`` (review requested, response received…) and the
    request it is about are all it holds, so that a page or an e-mail built from it can say no
    more. The ``mail_*`` columns make it the outbox row of its e-mail (``outbox``).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user", "user_id", "created_at", "id"),
        Index("ix_notifications_unread", "user_id", "read_at"),
        Index("ix_notifications_mail", "mail_status", "mail_next_at"),
        # A pass that notices an event more than once (an overdue deadline) records it once.
        UniqueConstraint("user_id", "dedup_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("mla_requests.id", ondelete="CASCADE"), index=True
    )
    dedup_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()
    mail_status: Mapped[str] = mapped_column(String(10), default=MAIL_PENDING)
    mail_claim: Mapped[str | None] = mapped_column(String(36), index=True)
    mail_claimed_at: Mapped[datetime | None] = mapped_column()
    mail_attempts: Mapped[int] = mapped_column(default=0)
    mail_next_at: Mapped[datetime | None] = mapped_column()
    mailed_at: Mapped[datetime | None] = mapped_column()
    mail_error: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()
    request: Mapped[MlaRequest | None] = relationship()


class NotificationPreference(db.Model):  # type: ignore[name-defined]
    """How one person wants to be told by e-mail; absent means each event (``EACH``)."""

    __tablename__ = "notification_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    mode: Mapped[str] = mapped_column(String(10), default=EACH)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
