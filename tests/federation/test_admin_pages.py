"""The peers and operations pages: node administrators trust peers by fingerprint; administrators
see their authority's outbox and put a parked message back in the queue."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from exchange.db import utcnow
from exchange.extensions import db
from exchange.federation import services
from exchange.federation.models import Delivery, Peer
from exchange.federation.records import FederationAction
from exchange.mla.models import OutboxMessage
from tests.conftest import csrf_token, login
from tests.federation.second_node import on
from tests.federation.test_offline_carriage import outbox, transmitted


@pytest.fixture
def abuja_url(abuja: Flask) -> Iterator[str]:
    """Serve Abuja on a free loopback port from a thread; return its base URL."""
    server = make_server("127.0.0.1", 0, abuja, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _add(client: Any, url: str, fingerprint: str) -> Any:
    token = csrf_token(client, "/admin/peers")
    return client.post(
        "/admin/peers", data={"csrf_token": token, "url": url, "fingerprint": fingerprint}
    )


def test_peers_are_for_node_administrators_only(app, client, make_user):
    for role in ("administrator", "prosecutor", "central_authority_officer", "liaison_officer"):
        other = app.test_client()
        login(other, make_user(role, "SN-CA"))
        assert other.get("/admin/peers").status_code == 403
        assert other.post("/admin/peers", data={"url": "http://x"}).status_code in (400, 403)
    login(client, make_user("node_admin", "SN-CA"))
    page = client.get("/admin/peers").get_data(as_text=True)
    assert services.node_key(app.config["EXCHANGE"]).fingerprint() in page
    assert (
        client.post("/admin/peers", data={"url": "http://x", "fingerprint": "0" * 64}).status_code
        == 400
    )


def test_a_peer_is_added_by_fingerprint_refreshed_and_removed(
    app, abuja, abuja_url, client, make_user
):
    with on(abuja):
        fingerprint = services.node_key(abuja.config["EXCHANGE"]).fingerprint()
    login(client, make_user("node_admin", "SN-CA"))
    refusals = [
        (abuja_url, "12:34", "A fingerprint is 32 bytes in hexadecimal"),
        (abuja_url, "AB" * 32, "is not signed by the key with this fingerprint"),
        (f"http://127.0.0.1:{_closed_port()}", fingerprint, "cannot be reached"),
        (abuja_url + "/nothing", fingerprint, "did not answer with a node descriptor"),
        ("ftp://abuja.example", fingerprint, "http:// or https://"),
    ]
    for url, typed, message in refusals:
        answer = _add(client, url, typed)
        assert answer.status_code == 400, url
        assert message in answer.get_data(as_text=True), (url, typed)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Peer)) == 0

    answer = _add(client, abuja_url + "/", fingerprint.replace(":", "").lower())
    assert answer.status_code == 303
    page = client.get("/admin/peers").get_data(as_text=True)
    assert abuja_url in page and "NG-CA" in page and fingerprint in page
    peer = services.peer_by_url(db.session, abuja_url)
    assert peer is not None and peer.authorities == ["NG-CA"]
    # Twice: refused, with its own message.
    assert "is a peer already" in _add(client, abuja_url, fingerprint).get_data(as_text=True)

    token = csrf_token(client, "/admin/peers")
    assert client.post(f"/admin/peers/{peer.public_id}/refresh").status_code == 400  # no CSRF
    answer = client.post(f"/admin/peers/{peer.public_id}/refresh", data={"csrf_token": token})
    assert answer.status_code == 303
    assert "fetched again" in client.get("/admin/peers").get_data(as_text=True)

    confirm = client.get(f"/admin/peers/{peer.public_id}/remove").get_data(as_text=True)
    assert "NG-CA" in confirm and "revoked from now" in confirm
    token = csrf_token(client, f"/admin/peers/{peer.public_id}/remove")
    unconfirmed = client.post(f"/admin/peers/{peer.public_id}/remove", data={"csrf_token": token})
    assert "Tick the box to confirm." in unconfirmed.get_data(as_text=True)
    assert services.peer_by_url(db.session, abuja_url) is not None
    answer = client.post(
        f"/admin/peers/{peer.public_id}/remove", data={"csrf_token": token, "confirm": "y"}
    )
    assert answer.status_code == 303
    db.session.expire_all()
    assert services.peer_by_url(db.session, abuja_url) is None
    recorded = db.session.execute(
        sa.select(FederationAction.action, FederationAction.subject).order_by(FederationAction.id)
    ).all()
    assert [a for a, _ in recorded] == ["peer_add", "peer_refresh", "peer_remove"]
    assert {s for _, s in recorded} == {abuja_url}


def _three_stages(make_user: Any, make_request: Any) -> tuple[OutboxMessage, ...]:
    """Queue three messages from SN-CA: one queued, one in retry, one parked."""
    messages = [
        outbox(transmitted(make_user, make_request, annex=False).conversation_id) for _ in range(3)
    ]
    queued, retrying, parked = messages
    db.session.add(
        Delivery(
            outbox_id=retrying.id,
            attempts=3,
            next_attempt_at=utcnow() + dt.timedelta(minutes=5),
            last_error="unreachable",
        )
    )
    db.session.add(
        Delivery(outbox_id=parked.id, attempts=9, last_error="rejected:decryption-failed")
    )
    parked.state = "undeliverable"
    db.session.commit()
    return queued, retrying, parked


def test_the_operations_page_shows_the_outbox_and_retries_a_parked_message(
    app, client, make_user, make_request
):
    queued, retrying, parked = _three_stages(make_user, make_request)
    assert parked.sender_code == "SN-CA"
    for role, authority in (("prosecutor", "SN-CA"), ("liaison_officer", "SN-CA")):
        other = app.test_client()
        login(other, make_user(role, authority))
        assert other.get("/admin/operations").status_code == 403
    # An administrator of another authority sees none of SN-CA's messages, and cannot retry one.
    stranger = app.test_client()
    login(stranger, make_user("administrator", "SN-TGI-TAMBA"))
    page = stranger.get("/admin/operations").get_data(as_text=True)
    assert parked.msg_id not in page and 'data-count="undeliverable">0' in page
    token = csrf_token(stranger, "/admin/operations")
    stranger.post(f"/admin/operations/{parked.msg_id}/retry", data={"csrf_token": token})
    assert outbox(parked.msg_id).state == "undeliverable"

    login(client, make_user("administrator", "SN-CA"))
    page = client.get("/admin/operations").get_data(as_text=True)
    assert 'data-count="queued">1' in page
    assert 'data-count="retrying">1' in page
    assert 'data-count="undeliverable">1' in page
    assert "rejected:decryption-failed" in page and "unreachable" in page
    for message in (queued, retrying, parked):
        assert message.msg_id in page
    assert client.post(f"/admin/operations/{parked.msg_id}/retry").status_code == 400  # no CSRF
    token = csrf_token(client, "/admin/operations")
    answer = client.post(f"/admin/operations/{parked.msg_id}/retry", data={"csrf_token": token})
    assert answer.status_code == 303
    assert "queued again" in client.get("/admin/operations").get_data(as_text=True)
    message = outbox(parked.msg_id)
    assert message.state == "queued"
    assert db.session.get(Delivery, message.id).next_attempt_at <= utcnow()
    action = db.session.scalar(sa.select(FederationAction))
    assert (action.action, action.subject, action.detail) == (
        "delivery_retry",
        parked.msg_id,
        "rejected:decryption-failed",
    )
    assert action.actor is not None and action.actor.email.endswith("@sn-ca.example")
    # A node administrator sees every authority's messages.
    node = app.test_client()
    login(node, make_user("node_admin", "SN-TGI-TAMBA"))
    assert queued.msg_id in node.get("/admin/operations").get_data(as_text=True)
