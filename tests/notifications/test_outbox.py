"""The e-mail outbox: daily digests, preferences, two workers at once, the SMTP server down and up,
a worker stopped in the middle of a send — each e-mail sent once, never twice."""

from __future__ import annotations

import threading
from datetime import timedelta

from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from exchange.db import utcnow
from exchange.extensions import db
from exchange.notifications import services as notifications
from exchange.notifications.models import (
    MAIL_DIGEST,
    MAIL_PENDING,
    MAIL_SENDING,
    MAIL_SENT,
    MAIL_UNCERTAIN,
    Notification,
)
from exchange.notifications.outbox import start_of_day
from tests.notifications.conftest import Collector, body, send_mail


def _notify(user, count: int = 1, kind: str = "response") -> list[Notification]:  # type: ignore[no-untyped-def]
    """Record ``count`` notifications for ``user`` and commit, as moves would."""
    rows = []
    for _ in range(count):
        rows += notifications.notify(db.session, [user], kind, None)
    db.session.commit()
    return rows


def _statuses() -> list[str]:
    db.session.expire_all()
    return [
        n.mail_status for n in db.session.scalars(select(Notification).order_by(Notification.id))
    ]


def test_digest_groups_a_days_events_into_one_email(make_user, sink):
    reader = make_user("prosecutor", "SN-TGI-TAMBA")
    reader.locale = "fr"
    notifications.set_preference(db.session, reader, "daily")
    db.session.commit()
    yesterday = _notify(reader, 3, "response") + _notify(reader, 1, "refused")
    today = _notify(reader, 2, "message")
    now = utcnow()
    day = start_of_day(now)
    db.session.execute(
        update(Notification)
        .where(Notification.id.in_([n.id for n in yesterday]))
        .values(created_at=day - timedelta(hours=5))
    )
    db.session.commit()
    assert _statuses() == [MAIL_DIGEST] * 6
    assert send_mail(now=now) == {"digest_sent": 1}
    (digest,) = sink.messages
    assert digest["To"] == reader.email
    assert digest["Subject"] == "Dakar node: 4 nouveaux éléments vous attendent"
    text = body(digest)
    assert text.count("https://exchange.justice.sn/notifications/") == 4 + 1 + 1  # 4, all, prefs
    assert text.count("Une réponse est arrivée pour une demande") == 3
    assert "Une demande a été refusée" in text
    assert "Un message" not in text  # today's events wait for tomorrow's digest
    assert send_mail(now=now) == {}
    # The next day, today's two go in one more digest.
    assert send_mail(now=now + timedelta(days=1)) == {"digest_sent": 1}
    assert len(sink.messages) == 2
    assert "2 nouveaux éléments" in str(sink.messages[1]["Subject"])
    assert all(n.id for n in today)
    assert _statuses() == [MAIL_SENT] * 6


def test_two_worker_passes_at_once_send_each_email_once(app, make_user, sink):
    people = [make_user("prosecutor", "SN-TGI-TAMBA") for _ in range(3)]
    for person in people:
        _notify(person, 4)
    results: list[dict[str, int]] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        with app.app_context():
            barrier.wait()
            results.append(send_mail())
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 2
    assert sum(r.get("sent", 0) for r in results) == 12
    ids = [str(m["Message-ID"]) for m in sink.messages]
    assert len(ids) == 12 == len(set(ids))
    assert sorted(str(m["To"]) for m in sink.messages) == sorted(
        p.email for p in people for _ in range(4)
    )
    assert _statuses() == [MAIL_SENT] * 12
    assert send_mail() == {}


def test_smtp_server_down_then_up_sends_later_once(make_user, sink):
    person = make_user("prosecutor", "SN-TGI-TAMBA")
    _notify(person, 2)
    sink.stop()
    now = utcnow()
    assert send_mail(now=now) == {"retry": 2}
    (first, _second) = db.session.scalars(select(Notification).order_by(Notification.id))
    assert first.mail_status == MAIL_PENDING and first.mail_attempts == 1
    assert first.mail_next_at is not None and first.mail_next_at > now
    assert "connection" in first.mail_error
    assert send_mail(now=now) == {}  # not yet due again: backing off
    sink.start()
    assert send_mail(now=now + timedelta(hours=2)) == {"sent": 2}
    assert len(sink.messages) == 2
    assert send_mail(now=now + timedelta(hours=4)) == {}
    assert len(sink.messages) == 2
    assert _statuses() == [MAIL_SENT, MAIL_SENT]


class RefusesFirst(Collector):
    """A server that answers the end of the first message with 451 (try later)."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        """Refuse the first message after it is handed over; take the others."""
        if not self.refused:
            self.refused += 1
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


def test_a_message_the_server_refuses_is_offered_again(app, make_user, sink):
    sink.stop()
    handler = RefusesFirst()
    controller = Controller(handler, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        person = make_user("prosecutor", "SN-TGI-TAMBA")
        _notify(person)
        now = utcnow()
        assert send_mail(now=now) == {"retry": 1}
        assert handler.messages == []
        assert send_mail(now=now + timedelta(hours=2)) == {"sent": 1}
        assert len(handler.messages) == 1
    finally:
        controller.stop()


def test_a_worker_stopped_mid_send_never_sends_it_again(make_user, sink):
    person = make_user("prosecutor", "SN-TGI-TAMBA")
    (stuck, _fresh) = _notify(person, 2)
    # A worker claimed the first, then died before it could mark it sent (it may have gone).
    db.session.execute(
        update(Notification)
        .where(Notification.id == stuck.id)
        .values(mail_status=MAIL_SENDING, mail_claim="dead-worker", mail_claimed_at=utcnow())
    )
    db.session.commit()
    assert send_mail() == {"sent": 1}  # within the lease: left alone
    assert send_mail(now=utcnow() + timedelta(minutes=11)) == {"uncertain": 1}
    assert _statuses() == [MAIL_UNCERTAIN, MAIL_SENT]
    assert send_mail(now=utcnow() + timedelta(hours=3)) == {}
    assert len(sink.messages) == 1


def test_no_email_while_smtp_is_not_configured(app, make_user, sink):
    from dataclasses import replace

    person = make_user("prosecutor", "SN-TGI-TAMBA")
    _notify(person)
    settings = app.config["EXCHANGE"]
    app.config["EXCHANGE"] = replace(settings, smtp_url="")
    try:
        assert send_mail() == {}
    finally:
        app.config["EXCHANGE"] = settings
    assert _statuses() == [MAIL_PENDING]  # waits for a server to be configured
    assert sink.messages == []


def test_a_new_preference_applies_to_what_still_waits_not_to_the_past(make_user, sink):
    person = make_user("prosecutor", "SN-TGI-TAMBA")
    notifications.set_preference(db.session, person, "none")
    db.session.commit()
    _notify(person)  # while the person wanted no e-mail
    notifications.set_preference(db.session, person, "daily")
    db.session.commit()
    _notify(person)  # in the digest
    notifications.set_preference(db.session, person, "each")
    db.session.commit()
    assert _statuses() == ["none", MAIL_PENDING]
    assert send_mail() == {"sent": 1}
    assert len(sink.messages) == 1


def test_the_worker_runs_the_passes(make_user, make_request, runner, sink):
    from exchange.mla import services

    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    req = make_request(prosecutor)
    services.submit(db.session, prosecutor, req)
    db.session.commit()
    address = officer.email
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "mail.sent=1" in result.output
    (message,) = sink.messages
    assert message["To"] == address
