"""In a real browser: Dakar's liaison officer exports a queued envelope, Abuja's liaison officer
imports it on the upload page and downloads the receipt, which Dakar's officer imports back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from exchange.extensions import db
from exchange.mla.models import MlaRequest
from tests.federation.second_node import on
from tests.federation.test_offline_carriage import outbox, transmitted
from tests.mla.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def abuja_server(abuja: Flask) -> Iterator[str]:
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


def test_export_button_import_page_and_the_receipt_back(
    browser, live_server, abuja, abuja_server, make_user, make_request, tmp_path: Path
):
    request = transmitted(make_user, make_request)
    message = outbox(request.conversation_id)
    dakar_officer = make_user("liaison_officer", message.sender_code, name="Moussa Diop")
    with on(abuja):
        created = make_user("liaison_officer", "NG-CA", name="Ngozi Eze")
        abuja_officer = SimpleNamespace(email=created.email, totp_secret=created.totp_secret)

    dakar = browser.new_context(base_url=live_server, locale="en-GB", accept_downloads=True)
    nigeria = browser.new_context(base_url=abuja_server, locale="fr-FR", accept_downloads=True)
    try:
        page = dakar.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, dakar_officer)
        page.get_by_role("navigation").get_by_role("link", name="Offline carriage").click()
        row = page.locator(f"tr[data-msg-id='{message.msg_id}']")
        with page.expect_download() as exported:
            row.get_by_role("button", name="Export the envelope").click()
        carried = tmp_path / exported.value.suggested_filename
        exported.value.save_as(carried)
        assert carried.name == f"{message.msg_id}.zip"
        page.reload()
        assert row.locator("time").count() == 2  # queued since, and now last exported

        # Abuja, in French: the upload page, then the receipt to carry back.
        other = nigeria.new_page()
        other.set_default_timeout(15_000)
        sign_in(other, abuja_officer)
        other.get_by_role("navigation").get_by_role("link", name="Transport hors ligne").click()
        other.get_by_label("Fichier d'enveloppe ou d'accusé de réception").set_input_files(carried)
        other.get_by_role("button", name="Importer", exact=True).click()
        outcome = other.locator("#import-outcome")
        assert outcome.get_attribute("data-outcome") == "delivered"
        with other.expect_download() as receipt:
            other.get_by_role("link", name="Télécharger l'accusé de réception").click()
        receipt_file = tmp_path / receipt.value.suggested_filename
        receipt.value.save_as(receipt_file)
        with on(abuja) as session:
            incoming = session.scalar(
                sa.select(MlaRequest).where(MlaRequest.conversation_id == message.conversation_id)
            )
            assert incoming is not None and incoming.state == "received"

        # Dakar imports the receipt: the message is delivered, no longer waiting to leave.
        page.goto("/carriage/")
        page.get_by_label("Envelope or receipt file").set_input_files(receipt_file)
        page.get_by_role("button", name="Import", exact=True).click()
        assert page.locator("#import-outcome").get_attribute("data-outcome") == "recorded"
        page.get_by_role("link", name="Back to offline carriage").click()
        assert page.locator(f"tr[data-msg-id='{message.msg_id}']").count() == 0
        assert outbox(message.msg_id).state == "delivered"
        db.session.expire_all()
        assert db.session.get(MlaRequest, request.id).state == "delivered"
    finally:
        dakar.close()
        nigeria.close()
