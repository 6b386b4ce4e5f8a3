"""The e-mail pass: notifications are the outbox, sent once, after the move that made them committed.

A notification row is written in the move's own transaction (``events``), so an e-mail exists
only for a move that committed. The pass then, for each row due:

1. **claims** it with a conditional UPDATE (``pending`` -> ``sending``, with a random claim
   token) in a transaction of its own, committed before anything is sent: of two workers, on
   SQLite or PostgreSQL, the second's UPDATE matches no row (PostgreSQL re-checks the condition
   after the first commits; SQLite lets one writer at a time), so it skips the row;
2. **sends** it through the SMTP server;
3. **marks** it ``sent`` in a transaction of its own once the server accepted it — or, when the
   server certainly did not take it (``smtp.NotAccepted``), hands it back as ``pending`` with
   a retry time that doubles (with jitter) up to an hour.

**At most once.** A worker that dies between 1 and 3 leaves the row ``sending``; after the lease
it is marked ``uncertain`` and never sent again, as is a row whose connection broke after the
message was handed over (``smtp.Uncertain``). At-least-once would resend those, and a person
could get the same e-mail twice; at-most-once may lose one, rarely, and only an e-mail that says
"something awaits": the notification itself is still listed in the portal, with the unread count
in the navigation, so nothing is lost to the person. The issue asks for "sent once".

A daily digest is claimed the same way, as the group of one person's ``digest`` rows of the
days before today (UTC): one UPDATE claims them all, one e-mail carries them.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, or_, select, update

from exchange.db import DbSession, utcnow
from exchange.notifications import emails, smtp
from exchange.notifications.models import (
    MAIL_DIGEST,
    MAIL_PENDING,
    MAIL_SENDING,
    MAIL_SENT,
    MAIL_UNCERTAIN,
    Notification,
)
from exchange.settings import Settings
from exchange.uow import lost_race

log = logging.getLogger(__name__)

# How long a claim holds: past it, a worker is presumed dead in the middle of the send.
LEASE = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=1)
BATCH = 100


def _due(now: datetime) -> ColumnElement[bool]:
    """Return the condition of rows whose retry time (if any) has come."""
    return or_(Notification.mail_next_at.is_(None), Notification.mail_next_at <= now)


def _claim(session: DbSession, condition: ColumnElement[bool], now: datetime) -> str | None:
    """Claim the rows matching ``condition`` for this worker; return the claim token, or None.

    Committed at once, before any e-mail is sent. A lost race (another worker's claim holds the
    SQLite write lock, or a PostgreSQL lock) counts as nothing claimed.
    """
    token = str(uuid.uuid4())
    try:
        result = session.execute(
            update(Notification)
            .where(condition)
            .values(
                mail_status=MAIL_SENDING,
                mail_claim=token,
                mail_claimed_at=now,
                mail_attempts=Notification.mail_attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
    except Exception as exc:
        session.rollback()
        if not lost_race(exc):
            raise
        return None
    return token if result.rowcount else None  # type: ignore[attr-defined]


def _finish(session: DbSession, token: str, **values: Any) -> None:
    """Set ``values`` on the rows of claim ``token`` and commit (their own transaction)."""
    session.execute(
        update(Notification)
        .where(Notification.mail_claim == token, Notification.mail_status == MAIL_SENDING)
        .values(mail_claim=None, **values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _backoff(settings: Settings, attempts: int) -> timedelta:
    """Return the pause before the next attempt: doubling from the delivery retry, with jitter."""
    seconds = settings.delivery_retry_seconds * 2 ** max(0, attempts - 1)
    pause = min(timedelta(seconds=seconds), MAX_BACKOFF)
    return pause * (0.75 + random.random() / 2)  # noqa: S311 - jitter, not a secret


def _send_claimed(
    session: DbSession, server: smtp.SmtpServer, token: str, back_to: str, now: datetime
) -> str:
    """Send the e-mail of the rows of claim ``token``; return the outcome counted."""
    session.expire_all()
    rows = list(
        session.scalars(
            select(Notification).where(Notification.mail_claim == token).order_by(Notification.id)
        )
    )
    if not rows:
        return "raced"
    user = rows[0].user
    message = emails.digest(user, rows) if back_to == MAIL_DIGEST else emails.single(rows[0])
    attempts = max(r.mail_attempts for r in rows)
    session.commit()  # no transaction stays open while the SMTP server is talked to
    try:
        smtp.send(server, message)
    except smtp.NotAccepted as exc:
        log.warning("e-mail of notification(s) %s not accepted: %s", [r.id for r in rows], exc)
        retry_at = now + _backoff(_settings(), attempts)
        _finish(session, token, mail_status=back_to, mail_next_at=retry_at, mail_error=str(exc))
        return "retry"
    except smtp.Uncertain as exc:
        log.error(
            "e-mail of notification(s) %s may or may not have gone: %s", [r.id for r in rows], exc
        )
        _finish(session, token, mail_status=MAIL_UNCERTAIN, mail_error=str(exc))
        return "uncertain"
    _finish(session, token, mail_status=MAIL_SENT, mailed_at=utcnow(), mail_error="")
    return "sent" if back_to == MAIL_PENDING else "digest_sent"


def _settings() -> Settings:
    """Return the node's settings."""
    settings: Settings = current_app.config["EXCHANGE"]
    return settings


def _give_up_stale(session: DbSession, now: datetime) -> int:
    """Mark ``uncertain`` the rows a dead worker left ``sending`` past the lease (never resent)."""
    stale = and_(
        Notification.mail_status == MAIL_SENDING, Notification.mail_claimed_at < now - LEASE
    )
    # Read first: the pass runs several times a second, and an idle one must write nothing.
    if session.scalar(select(Notification.id).where(stale).limit(1)) is None:
        return 0
    result = session.execute(
        update(Notification)
        .where(stale)
        .values(mail_status=MAIL_UNCERTAIN, mail_claim=None, mail_error="worker stopped mid-send")
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def start_of_day(now: datetime) -> datetime:
    """Return midnight UTC of ``now``'s day: a digest carries the rows of the days before it."""
    return datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)


def send_due(session: DbSession, now: datetime | None = None) -> dict[str, int]:
    """Send the e-mails that are due (each event, then the digests of past days); return counts.

    The background pass of the notifications' e-mail. Nothing is sent while ``EXCHANGE_SMTP_URL``
    is unset; the rows wait.
    """
    settings = _settings()
    if not settings.smtp_url:
        return {}
    server = smtp.parse_smtp_url(settings.smtp_url, settings.smtp_password_file)
    now = now or utcnow()
    counts: dict[str, int] = {}

    def count(outcome: str) -> None:
        counts[outcome] = counts.get(outcome, 0) + 1

    stale = _give_up_stale(session, now)
    if stale:
        counts["uncertain"] = stale
    singles = list(
        session.scalars(
            select(Notification.id)
            .where(Notification.mail_status == MAIL_PENDING, _due(now))
            .order_by(Notification.id)
            .limit(BATCH)
        )
    )
    day = start_of_day(now)
    digest_users = list(
        session.scalars(
            select(Notification.user_id)
            .where(
                Notification.mail_status == MAIL_DIGEST,
                Notification.created_at < day,
                _due(now),
            )
            .distinct()
            .limit(BATCH)
        )
    )
    session.commit()  # end the read: each claim is a transaction of its own
    for notification_id in singles:
        pending = and_(
            Notification.id == notification_id,
            Notification.mail_status == MAIL_PENDING,
            _due(now),
        )
        token = _claim(session, pending, now)
        count(_send_claimed(session, server, token, MAIL_PENDING, now) if token else "raced")
    for user_id in digest_users:
        group = and_(
            Notification.user_id == user_id,
            Notification.mail_status == MAIL_DIGEST,
            Notification.created_at < day,
            _due(now),
        )
        token = _claim(session, group, now)
        count(_send_claimed(session, server, token, MAIL_DIGEST, now) if token else "raced")
    return counts
