"""The offline carriage page: who may export and import, the same checks as the inbox, clear errors."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
import sqlalchemy as sa

from exchange.extensions import db
from exchange.federation.records import FederationAction
from exchange.mla.models import MlaRequest
from tests.conftest import csrf_token, login
from tests.federation.second_node import on
from tests.federation.test_offline_carriage import outbox, transmitted


def _export(client: Any, msg_id: str) -> Any:
    token = csrf_token(client, "/carriage/")
    return client.post(f"/carriage/export/{msg_id}", data={"csrf_token": token})


def _import(client: Any, data: bytes, name: str = "envelope.jwe") -> Any:
    token = csrf_token(client, "/carriage/")
    return client.post(
        "/carriage/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_carriage_is_for_liaison_and_central_authority_officers_of_their_authority(
    app, abuja, client, make_user, make_request
):
    request = transmitted(make_user, make_request, annex=False)
    message = outbox(request.conversation_id)
    for role in ("prosecutor", "investigator", "administrator"):
        other = app.test_client()
        login(other, make_user(role, message.sender_code))
        assert other.get("/carriage/").status_code == 403
    # An officer of the sending authority imports but does not export.
    officer = app.test_client()
    login(officer, make_user("central_authority_officer", message.sender_code))
    page = officer.get("/carriage/").get_data(as_text=True)
    assert "Import a carried file" in page and message.msg_id not in page
    assert _export(officer, message.msg_id).status_code == 403
    # A liaison officer of another authority sees nothing of it, and cannot export it by its id.
    stranger = app.test_client()
    login(stranger, make_user("liaison_officer", "SN-TGI-TAMBA"))
    assert message.msg_id not in stranger.get("/carriage/").get_data(as_text=True)
    answer = _export(stranger, message.msg_id)
    assert answer.status_code == 303
    assert "No message of your authority" in stranger.get("/carriage/").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FederationAction)) == 0
    # Without the CSRF token, nothing is exported.
    liaison = app.test_client()
    login(liaison, make_user("liaison_officer", message.sender_code))
    assert liaison.post(f"/carriage/export/{message.msg_id}").status_code == 400


def test_an_envelope_exported_on_the_page_is_imported_on_the_other_nodes_page(
    app, abuja, client, make_user, make_request
):
    request = transmitted(make_user, make_request)
    message = outbox(request.conversation_id)
    login(client, make_user("liaison_officer", message.sender_code))
    assert message.msg_id in client.get("/carriage/").get_data(as_text=True)
    answer = _export(client, message.msg_id)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/zip"
    assert f"{message.msg_id}.zip" in answer.headers["Content-Disposition"]
    carried = answer.get_data()
    assert carried.startswith(b"PK")

    # At Abuja, a liaison officer of NG-CA imports it and takes the receipt back.
    with on(abuja):
        from exchange.auth import services as accounts
        from exchange.directory.queries import authority_by_code
        from tests.conftest import password_hash

        user = accounts.create_user(
            db.session,
            email="liaison@ng-ca.example",
            display_name="Liaison NG",
            authority=authority_by_code(db.session, "NG-CA"),
            roles={"liaison_officer"},
        )
        user.password_hash = password_hash("correct horse battery staple")
        db.session.commit()
        other = abuja.test_client()
        login(other, user)
        result = _import(other, carried, "envelope.zip")
        page = result.get_data(as_text=True)
        assert result.status_code == 200, page
        assert 'data-outcome="delivered"' in page
        link = re.search(r'href="(/carriage/receipts/[^"]+)"', page)
        assert link is not None
        receipt = other.get(link.group(1))
        assert receipt.headers["Content-Type"] == "application/jose"
        assert db.session.scalar(
            sa.select(MlaRequest).where(MlaRequest.conversation_id == message.conversation_id)
        )
        # The same file twice: the first receipt again.
        again = _import(other, carried, "envelope.zip").get_data(as_text=True)
        assert 'data-outcome="duplicate"' in again
        receipt_bytes = receipt.get_data()

    # Back in Dakar, the liaison officer imports the receipt: the request is delivered.
    result = _import(client, receipt_bytes, "receipt.jws")
    assert 'data-outcome="recorded"' in result.get_data(as_text=True)
    assert outbox(request.conversation_id).state == "delivered"
    assert db.session.get(MlaRequest, request.id).state == "delivered"
    # An officer of another authority may not fetch the receipt an import gave.
    stranger = app.test_client()
    login(stranger, make_user("liaison_officer", "SN-TGI-TAMBA"))
    action = db.session.scalar(
        sa.select(FederationAction).where(FederationAction.action == "receipt_import")
    )
    assert stranger.get(f"/carriage/receipts/{action.public_id}").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"minutes of the meeting", "neither an envelope nor a receipt"),
        (b"eyJhbGciOiJFZERTQSJ9.e30.AAAA", "neither an envelope nor a receipt"),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_error(app, client, make_user, data, message):
    login(client, make_user("liaison_officer", "SN-CA"))
    answer = _import(client, data)
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)


def test_an_envelope_for_another_authority_is_not_imported_by_this_one(
    app, abuja, client, make_user, make_request
):
    request = transmitted(make_user, make_request, annex=False)
    message = outbox(request.conversation_id)
    liaison = app.test_client()
    login(liaison, make_user("liaison_officer", message.sender_code))
    carried = _export(liaison, message.msg_id).get_data()
    # Dakar's own officer tries to import the envelope addressed to NG-CA.
    login(client, make_user("central_authority_officer", "SN-CA"))
    answer = _import(client, carried)
    assert answer.status_code == 400
    assert "addressed to another authority" in answer.get_data(as_text=True)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """A small upload limit, so that the carriage page's limit is 12 MiB."""
    return {"max_upload_mb": 1}


def test_a_file_over_the_limit_is_refused_without_being_read(app, client, make_user):
    login(client, make_user("liaison_officer", "SN-CA"))
    token = csrf_token(client, "/carriage/")
    # The multipart body built here, in memory (the test client would spool it to a file).
    body = (
        b'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + token.encode()
        + b'\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="e.jwe"\r\n'
        + b"Content-Type: application/octet-stream\r\n\r\n"
        + b"eyJ"
        + b"A" * (13 << 20)
        + b"\r\n--b--\r\n"
    )
    answer = client.post(
        "/carriage/import", data=body, content_type="multipart/form-data; boundary=b"
    )
    assert answer.status_code == 413
    assert "larger than 12 MiB" in answer.get_data(as_text=True)


def test_the_pages_speak_french_and_portuguese(app, client, make_user):
    user = make_user("liaison_officer", "SN-CA")
    user.locale = "fr"
    db.session.commit()
    login(client, user)
    assert "Transport hors ligne" in client.get("/carriage/").get_data(as_text=True)
    user = db.session.merge(user)
    user.locale = "pt"
    db.session.commit()
    assert "Transporte" in client.get("/carriage/").get_data(as_text=True)
