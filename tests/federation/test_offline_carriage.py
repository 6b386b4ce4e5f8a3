"""Offline carriage between two nodes: an envelope exported to a file, imported on the other node
through the inbox's checks, its receipt carried back and matched (``exchange envelope
export|import``). Dakar and Abuja are two applications on two databases (tests/federation/
second_node.py); nothing travels between them but the files the test carries.
"""

from __future__ import annotations

import zipfile
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from exchange.envelopes import revoke
from exchange.envelopes.container import ZIP_MAGIC
from exchange.envelopes.stores import DbTrustStore
from exchange.extensions import db
from exchange.federation import offline
from exchange.federation.cli import delivery_config
from exchange.federation.delivery import deliver_due
from exchange.federation.errors import FederationError
from exchange.federation.models import Delivery
from exchange.federation.records import CarriedEnvelope, FederationAction
from exchange.mla import services
from exchange.mla.blueprint import blobs_dir, max_annex_bytes
from exchange.mla.models import Annex, MlaRequest, OutboxMessage
from tests.federation.second_node import on
from tests.files import pdf


def transmitted(make_user: Any, make_request: Any, *, annex: bool = True) -> MlaRequest:
    """Draft, submit and approve a request from Tambacounda to Nigeria: its envelope is queued."""
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    request = make_request(prosecutor, to="NG-CA")
    if annex:
        services.add_annex(
            db.session,
            prosecutor,
            request,
            filename="statement.pdf",
            data=pdf("Audition de la victime"),
            kind="supporting",
            blobs_dir=blobs_dir(),
            max_bytes=max_annex_bytes(),
        )
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    db.session.commit()
    assert request.state == "transmitted"
    return request


def outbox(conversation: str) -> OutboxMessage:
    """Return the queued ``mla.request`` of a conversation on the current node."""
    db.session.expire_all()
    found = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.msg_id == conversation))
    assert found is not None
    return found


def run(node: Flask, *args: str) -> Any:
    """Run an ``exchange`` command on ``node`` (in its own context: the CLI takes the current app)."""
    with on(node):
        return node.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def test_an_envelope_travels_on_a_key_and_its_receipt_comes_back(
    app, abuja, make_user, make_request, tmp_path
):
    request = transmitted(make_user, make_request)
    conversation = request.conversation_id
    annex_size = request.annexes[0].size
    # No peer hosts NG-CA: the worker cannot send it and keeps it queued.
    assert deliver_due(db.session, delivery_config()) == {"retry": 1}
    assert outbox(conversation).state == "queued"

    key = tmp_path / "usb"
    key.mkdir()
    carried = key / "envelope.zip"
    result = run(app, "envelope", "export", "--msg-id", conversation, "--out", str(carried))
    assert result.exit_code == 0, result.output
    assert f"exported {conversation}" in result.output
    with zipfile.ZipFile(carried) as box:  # the documented container: envelope, then the annex
        assert box.namelist() == ["envelope.jwe", "attachments/a1.blob"]
    delivery = db.session.get(Delivery, outbox(conversation).id)
    assert delivery is not None and delivery.envelope is not None
    assert b"Audition" not in carried.read_bytes()  # sealed: nothing readable on the key

    # Abuja imports it through the inbox's checks; the receipt is written next to the file.
    result = run(abuja, "envelope", "import", str(carried))
    assert result.exit_code == 0, result.output
    assert f"envelope {conversation}: delivered" in result.output
    receipt_file = key / f"{conversation}.receipt.jws"
    first_receipt = receipt_file.read_bytes()
    with on(abuja) as session:
        incoming = session.scalar(
            sa.select(MlaRequest).where(MlaRequest.conversation_id == conversation)
        )
        assert incoming is not None and incoming.side == "incoming"
        assert incoming.state == "received"
        annexes = session.scalars(sa.select(Annex).where(Annex.request_id == incoming.id)).all()
        assert [(a.content_type, a.size) for a in annexes] == [("application/pdf", annex_size)]
        action = session.scalar(sa.select(FederationAction))
        assert (action.action, action.subject, action.outcome) == (
            "envelope_import",
            conversation,
            "delivered",
        )

    # The same file again: applied once, answered with the first receipt.
    result = run(abuja, "envelope", "import", str(carried), "--receipt-out", str(tmp_path / "r2"))
    assert result.exit_code == 0 and "duplicate" in result.output
    assert (tmp_path / "r2").read_bytes() == first_receipt
    with on(abuja) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(MlaRequest)) == 1

    # Back in Dakar, the receipt is matched to the message: delivered, no longer queued.
    result = run(app, "envelope", "import", str(receipt_file))
    assert result.exit_code == 0, result.output
    assert f"receipt for {conversation}: recorded" in result.output
    message = outbox(conversation)
    assert message.state == "delivered"
    delivery = db.session.get(Delivery, message.id)
    assert delivery.receipt == first_receipt and delivery.receipt_status == "delivered"
    request = db.session.get(MlaRequest, request.id)
    assert request.state == "delivered"
    assert "deliver" in [e.action for e in request.events]
    assert deliver_due(db.session, delivery_config()) == {}  # nothing left for the worker
    result = run(app, "envelope", "import", str(receipt_file))
    assert "already_recorded" in result.output
    actions = db.session.scalars(sa.select(FederationAction.action).order_by(FederationAction.id))
    assert list(actions) == ["envelope_export", "receipt_import", "receipt_import"]


def test_a_message_without_annexes_travels_as_the_compact_envelope(
    app, abuja, make_user, make_request, tmp_path
):
    request = transmitted(make_user, make_request, annex=False)
    carried = tmp_path / "envelope.jwe"
    assert (
        run(
            app, "envelope", "export", "--msg-id", request.conversation_id, "--out", str(carried)
        ).exit_code
        == 0
    )
    assert carried.read_bytes().startswith(b"eyJ") and carried.read_bytes().count(b".") == 4
    # A text editor's newline at the end does not change what is received.
    carried.write_bytes(carried.read_bytes() + b"\n")
    result = run(abuja, "envelope", "import", str(carried))
    assert "delivered" in result.output, result.output


def test_a_tampered_or_foreign_file_is_refused_and_nothing_is_applied(
    app, abuja, make_user, make_request, tmp_path
):
    request = transmitted(make_user, make_request, annex=False)
    carried = tmp_path / "envelope.jwe"
    run(app, "envelope", "export", "--msg-id", request.conversation_id, "--out", str(carried))
    token = carried.read_bytes()
    parts = token.split(b".")
    middle = bytearray(parts[3])
    middle[10] = ord("A") if middle[10] != ord("A") else ord("B")
    tampered = tmp_path / "tampered.jwe"
    tampered.write_bytes(b".".join([*parts[:3], bytes(middle), parts[4]]))
    result = run(abuja, "envelope", "import", str(tampered))
    assert result.exit_code == 1
    assert "rejected:decryption-failed" in result.output
    refusal = (tmp_path / f"{request.conversation_id}.receipt.jws").read_bytes()
    with on(abuja) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(MlaRequest)) == 0

    garbage = tmp_path / "notes.txt"
    garbage.write_bytes(b"minutes of the meeting")
    result = run(abuja, "envelope", "import", str(garbage))
    assert result.exit_code == 1 and "unrecognised_file" in result.output
    bad_zip = tmp_path / "broken.zip"
    bad_zip.write_bytes(ZIP_MAGIC + b"\x00" * 64)
    result = run(abuja, "envelope", "import", str(bad_zip))
    assert result.exit_code == 1 and "rejected:" in result.output

    # The refusal of a tampered copy, carried back, answers bytes that never left Dakar.
    result = run(
        app, "envelope", "import", str(tmp_path / f"{request.conversation_id}.receipt.jws")
    )
    assert result.exit_code == 1 and "bad_receipt" in result.output
    assert outbox(request.conversation_id).state == "queued"
    assert refusal

    # Abuja revokes the Senegalese central authority's keys: the genuine file is refused, and the
    # refusal, carried back, is recorded: the message stays queued with the reason.
    with on(abuja) as session:
        trust = DbTrustStore(session)
        for entry in trust.for_authority("SN-CA"):
            revoke(trust, entry.kid)
        session.commit()
    result = run(abuja, "envelope", "import", str(carried))
    assert result.exit_code == 1 and "rejected:revoked-key" in result.output
    result = run(
        app, "envelope", "import", str(tmp_path / f"{request.conversation_id}.receipt.jws")
    )
    assert result.exit_code == 1 and "refused" in result.output
    message = outbox(request.conversation_id)
    assert message.state == "queued"
    assert db.session.get(Delivery, message.id).last_error == "rejected:revoked-key"


def test_a_receipt_must_answer_the_envelope_that_left(
    app, abuja, make_user, make_request, tmp_path
):
    first = transmitted(make_user, make_request, annex=False)
    second = transmitted(make_user, make_request, annex=False)
    for request in (first, second):
        out = tmp_path / f"{request.conversation_id}.jwe"
        run(app, "envelope", "export", "--msg-id", request.conversation_id, "--out", str(out))
        run(abuja, "envelope", "import", str(out))
    receipt = (tmp_path / f"{first.conversation_id}.receipt.jws").read_bytes()
    # A receipt whose signature was altered is refused; the message stays queued.
    head, claims, signature = receipt.split(b".")
    forged = tmp_path / "forged.receipt.jws"
    forged.write_bytes(b".".join([head, claims, signature[:-4] + b"AAAA"]))
    result = run(app, "envelope", "import", str(forged))
    assert result.exit_code == 1 and "bad_receipt" in result.output
    assert outbox(first.conversation_id).state == "queued"
    # The genuine receipts match their own messages only.
    run(app, "envelope", "import", str(tmp_path / f"{second.conversation_id}.receipt.jws"))
    assert outbox(second.conversation_id).state == "delivered"
    assert outbox(first.conversation_id).state == "queued"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CarriedEnvelope)) == 2


def test_export_refuses_what_is_not_queued_for_another_node(app, make_user, make_request, tmp_path):
    request = transmitted(make_user, make_request, annex=False)  # NG-CA hosted here: local
    result = run(
        app, "envelope", "export", "--msg-id", request.conversation_id, "--out", str(tmp_path / "x")
    )
    assert result.exit_code == 1 and "hosted_here" in result.output
    assert not (tmp_path / "x").exists()
    result = run(app, "envelope", "export", "--msg-id", "0" * 36, "--out", str(tmp_path / "x"))
    assert result.exit_code == 1 and "unknown_message" in result.output
    with pytest.raises(FederationError) as refused:
        offline.import_file(
            db.session, b"eyJ" + b"A" * 2000, blobs_dir=tmp_path, max_annex_bytes=10, max_bytes=1000
        )
    assert refused.value.code == "oversized"
