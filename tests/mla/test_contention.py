"""Contention: eight identical clicks at once, and the worker racing a person on one request.

Each move is fired by eight threads at the same moment, through the real app and the real
database (SQLite or PostgreSQL, as the run says): exactly one takes effect, the others answer 409
or the first one's result, never a 500. The worker's apply of an incoming message, paused right
after it read the request, loses its race with a person's move and is made again: both moves
are on the timeline, one receipt.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from exchange.extensions import db
from exchange.mla import sealing, services
from exchange.mla.models import INCOMING, MlaRequest, OutboxMessage, RequestEvent
from tests.conftest import csrf_token, login
from tests.mla.conftest import accept_envelope, deliver_locally

CLICKS = 8
SESSION_COOKIE = "exchange_session"


def fire(app: Flask, signed_in: FlaskClient, path: str, data: dict[str, Any]) -> list[Any]:
    """POST ``data`` to ``path`` from CLICKS threads at once, all in ``signed_in``'s session."""
    cookie = signed_in.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    clients = [app.test_client() for _ in range(CLICKS)]
    for client in clients:
        client.set_cookie(SESSION_COOKIE, cookie.value)
    start = threading.Barrier(CLICKS)
    results: list[Any] = [None] * CLICKS

    def click(i: int) -> None:
        start.wait()
        results[i] = clients[i].post(path, data=data)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def assert_one_took_effect(results: list[Any]) -> None:
    """No 500; every success is the same redirect; the rest are 409 pages."""
    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {303, 409}, statuses
    assert statuses.count(303) >= 1, statuses
    assert len({r.headers["Location"] for r in results if r.status_code == 303}) == 1
    for conflict in (r for r in results if r.status_code == 409):
        assert "changed" in conflict.get_data(as_text=True)


def events(request: MlaRequest, action: str) -> int:
    """Count the events of ``action`` on ``request``."""
    return db.session.scalar(
        select(func.count())
        .select_from(RequestEvent)
        .where(RequestEvent.request_id == request.id, RequestEvent.action == action)
    )


def outbox(request: MlaRequest, sender: str) -> int:
    """Count the messages ``sender`` queued in ``request``'s conversation."""
    return db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.conversation_id == request.conversation_id,
            OutboxMessage.sender_code == sender,
        )
    )


def signed_in(app: Flask, user: Any, page: str) -> tuple[FlaskClient, str]:
    """Return a client signed in as ``user`` and the CSRF token read from ``page``."""
    client = app.test_client()
    login(client, user)
    return client, csrf_token(client, page)


@pytest.fixture
def people(make_user):  # type: ignore[no-untyped-def]
    """A prosecutor in Tambacounda, officers in Dakar and Abuja."""
    return {
        "prosecutor": make_user("prosecutor", "SN-TGI-TAMBA"),
        "sn_officer": make_user("central_authority_officer", "SN-CA"),
        "ng_officer": make_user("central_authority_officer", "NG-CA"),
    }


def incoming_copy(request: MlaRequest) -> MlaRequest:
    """Return the requested side's copy of a transmitted request."""
    found = db.session.scalar(
        select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == INCOMING
        )
    )
    assert found is not None
    return found


def test_eight_saves_of_one_draft_version(app, people, make_request):
    request = make_request(people["prosecutor"], complete=False)
    url = f"/requests/{request.public_id}/edit/contents"
    client, token = signed_in(app, people["prosecutor"], url)
    version = request.version
    results = fire(
        app, client, url, {"csrf_token": token, "version": version, "purpose": "Hear P1."}
    )
    assert_one_took_effect(results)
    db.session.expire_all()
    saved = db.session.get(MlaRequest, request.id)
    assert saved.version == version + 1  # one save, not eight
    from exchange.mla.payloads import details_of

    assert details_of(saved)["purpose"] == "Hear P1."


def test_eight_submits(app, people, make_request):
    request = make_request(people["prosecutor"])
    page = f"/requests/{request.public_id}/edit/review"
    client, token = signed_in(app, people["prosecutor"], page)
    data = {"csrf_token": token, "seen_state": "draft", "seen_version": request.version}
    assert_one_took_effect(fire(app, client, f"/requests/{request.public_id}/submit", data))
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).state == "in_review"
    assert events(request, "submit") == 1


def test_eight_approvals_transmit_once(app, people, make_request):
    request = make_request(people["prosecutor"])
    services.submit(db.session, people["prosecutor"], request)
    db.session.commit()
    page = f"/requests/{request.public_id}"
    client, token = signed_in(app, people["sn_officer"], page)
    data = {
        "csrf_token": token,
        "seen_state": "in_review",
        "seen_version": request.version,
        "confirm": "y",
    }
    results = fire(app, client, f"{page}/approve", data)
    assert_one_took_effect(results)
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).state == "transmitted"
    assert events(request, "approve") == 1 and events(request, "transmit") == 1
    assert outbox(request, "SN-CA") == 1  # one mla.request leaves, not eight


@pytest.mark.parametrize(
    ("action", "data", "state", "sends"),
    [
        ("register", {"reference": "FMOJ/CAU/2026/7"}, "registered", 1),
        ("assign", {"authority": "NG-CA"}, "received", 0),
        (
            "refuse",
            {
                "ground": "essential_interests",
                "reason": "Prejudice to essential interests.",
                "no_consultation_reason": "No condition could make the assistance possible.",
            },
            "",
            1,
        ),
    ],
)
def test_eight_moves_on_an_incoming_request(app, people, make_request, action, data, state, sends):
    request = make_request(people["prosecutor"])
    services.submit(db.session, people["prosecutor"], request)
    services.approve(db.session, people["sn_officer"], request)
    deliver_locally()
    incoming = incoming_copy(request)
    if action == "assign":  # assignment happens once registered
        services.act(db.session, people["ng_officer"], incoming, "register", {"reference": "R/1"})
        state = "registered"
    db.session.commit()
    page = f"/requests/{incoming.public_id}"
    client, token = signed_in(app, people["ng_officer"], page)
    seen = {"seen_state": incoming.state, "seen_version": incoming.version}
    before = outbox(incoming, "NG-CA")
    results = fire(app, client, f"{page}/act/{action}", {"csrf_token": token, **seen, **data})
    assert_one_took_effect(results)
    db.session.expire_all()
    assert events(incoming, action) == 1
    assert db.session.get(MlaRequest, incoming.id).state == (state or "refused")
    assert outbox(incoming, "NG-CA") - before == sends


def test_a_repeated_click_answers_as_the_first(app, people, make_request):
    request = make_request(people["prosecutor"])
    services.submit(db.session, people["prosecutor"], request)
    db.session.commit()
    page = f"/requests/{request.public_id}"
    client, token = signed_in(app, people["sn_officer"], page)
    data = {
        "csrf_token": token,
        "seen_state": "in_review",
        "seen_version": request.version,
        "confirm": "y",
    }
    first = client.post(f"{page}/approve", data=data)
    second = client.post(f"{page}/approve", data=data)  # the same page, clicked again
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert "Approved." in client.get(page).get_data(as_text=True)
    db.session.expire_all()
    assert events(request, "approve") == 1


def test_another_persons_move_in_between_is_a_conflict_page(app, people, make_request, make_user):
    request = make_request(people["prosecutor"])
    services.submit(db.session, people["prosecutor"], request)
    db.session.commit()
    page = f"/requests/{request.public_id}"
    stale_version = request.version
    client, token = signed_in(app, people["sn_officer"], page)
    colleague = make_user("central_authority_officer", "SN-CA")
    services.act(
        db.session,
        colleague,
        db.session.get(MlaRequest, request.id),
        "request_changes",
        {"reason": "Add the penalties."},
    )
    db.session.commit()
    data = {
        "csrf_token": token,
        "seen_state": "in_review",
        "seen_version": stale_version,
        "reason": "Please name the village.",
    }
    answer = client.post(f"{page}/act/request_changes", data=data)
    assert answer.status_code == 409
    text = answer.get_data(as_text=True)
    assert "Someone else has just changed this request" in text
    assert "Please name the village." in text  # what the user had entered
    assert "Changes requested" in text  # the state it is in now
    french = client.post(
        f"{page}/act/request_changes", data=data, headers={"Accept-Language": "fr"}
    )
    assert french.status_code == 409


def test_the_worker_loses_its_race_with_a_person_and_applies_again(app, people, make_request):
    from exchange.envelopes import local_trust
    from exchange.envelopes.stores import node_envelopes

    envelopes = node_envelopes(db.session)
    for code in ("SN-CA", "NG-CA"):
        envelopes.keys.generate(code, pdf=False)
        local_trust(envelopes.keys, envelopes.trust, code)
    prosecutor, ng_officer = people["prosecutor"], people["ng_officer"]
    request = make_request(prosecutor)
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, people["sn_officer"], request)
    deliver_locally()
    incoming = incoming_copy(request)
    services.act(db.session, ng_officer, incoming, "register", {"reference": "R/1"})
    services.act(db.session, ng_officer, incoming, "request_info", {"reason": "Which village?"})
    deliver_locally()
    services.act(db.session, prosecutor, request, "provide_info", {"reason": "Bantaco."})
    db.session.commit()
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.state == "queued").order_by(OutboxMessage.id)
    )
    assert message is not None and message.msg_type == "mla.status"
    sealed = envelopes.seal(
        sealing.message_payload(message),
        sender=message.sender_code,
        recipient=message.recipient_code,
        msg_type=message.msg_type,
        conversation=message.conversation_id,
        msg_id=message.msg_id,
    )
    db.session.commit()

    # The worker pauses right after it read the request, before it writes; the person moves then.
    read_it, person_done = threading.Event(), threading.Event()
    attempts: list[int] = []
    worker: dict[str, Any] = {}

    def pause_first_write(session: Session, *_args: Any) -> None:
        if threading.current_thread().name != "worker":
            return
        if any(isinstance(obj, MlaRequest) for obj in session.dirty):
            attempts.append(1)
            if len(attempts) == 1:
                read_it.set()
                assert person_done.wait(30)

    def run_worker() -> None:
        with app.app_context():
            try:
                worker["receipt"] = accept_envelope(sealed.token)
            except Exception as exc:  # reported below
                worker["error"] = exc
            finally:
                db.session.remove()

    event.listen(Session, "before_flush", pause_first_write)
    try:
        thread = threading.Thread(target=run_worker, name="worker")
        thread.start()
        assert read_it.wait(30), worker
        page = f"/requests/{incoming.public_id}"
        client, token = signed_in(app, ng_officer, page)
        assigned = client.post(
            f"{page}/act/assign", data={"csrf_token": token, "authority": "NG-CA"}
        )
        assert assigned.status_code == 303
        person_done.set()
        thread.join(60)
    finally:
        event.remove(Session, "before_flush", pause_first_write)
    assert "error" not in worker, worker.get("error")
    assert len(attempts) == 2  # lost the race once, then applied
    db.session.expire_all()
    timeline = [e.action for e in db.session.get(MlaRequest, incoming.id).events]
    assert timeline[-2:] == ["assign", "provide_info"]
    assert db.session.get(MlaRequest, incoming.id).state == "in_execution"
    # One receipt: the message id is remembered once, and the same envelope again gets it back.
    from exchange.envelopes.models import SeenMessage

    assert db.session.get(SeenMessage, message.msg_id).receipt == worker["receipt"]
    assert accept_envelope(sealed.token) == worker["receipt"]
    assert [e.action for e in db.session.get(MlaRequest, incoming.id).events].count(
        "provide_info"
    ) == 1
