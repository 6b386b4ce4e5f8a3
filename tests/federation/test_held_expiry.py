"""A held envelope does not wait for ever: after its expiry the sender asking again is refused."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from exchange.core import background
from exchange.db import utcnow
from exchange.envelopes import AttachmentIn, write_container
from exchange.extensions import db
from exchange.federation.delivery import FINAL_REASONS
from exchange.federation.held import REFUSAL_KEPT
from exchange.federation.models import HeldEnvelope
from exchange.mla.models import MlaRequest
from tests import files
from tests.mla import peer


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Held envelopes expire after one hour on this node."""
    return {"held_expiry_hours": 1}


def _claims(receipt: bytes) -> dict[str, Any]:
    payload = receipt.split(b".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))


def _age_held(hours: float) -> None:
    db.session.execute(
        sa.update(HeldEnvelope).values(received_at=utcnow() - dt.timedelta(hours=hours))
    )
    db.session.commit()


def _follower(tmp_path: Path) -> tuple[Any, Any, str, bytes]:
    """Seal a request from Nigeria that follows a message that never comes; return the sender's
    envelopes, the sealed envelope, its message id and the container posted."""
    envelopes = peer.envelopes_for("NG-CA", "SN-CA")
    missing, later_id = str(uuid.uuid4()), str(uuid.uuid4())
    statement = files.pdf("Statement of the witness")
    entry = peer.annex_entry(statement, filename="statement.pdf")
    later = envelopes.seal(
        peer.request_body(later_id, annexes=[entry]),
        sender="NG-CA",
        recipient="SN-CA",
        msg_type="mla.request",
        conversation=later_id,
        msg_id=later_id,
        in_reply_to=missing,  # follows a message that never comes
        attachments=[AttachmentIn("statement.pdf", "application/pdf", io.BytesIO(statement))],
        blob_dir=tmp_path,
    )
    container = tmp_path / "later.zip"
    write_container(container, later.token, later.blobs)
    return envelopes, later, later_id, container.read_bytes()


def test_a_held_envelope_past_its_expiry_is_refused_with_a_signed_reason_and_dropped(
    client, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    envelopes, later, later_id, body = _follower(tmp_path)

    def post() -> Any:
        return client.post("/federation/v1/inbox", data=body, content_type="application/zip")

    held_dir = Path(client.application.instance_path) / "held"
    assert post().status_code == 202  # held, with its blob
    _age_held(0.5)
    assert post().status_code == 202  # within its expiry: still held, once
    assert len(db.session.scalars(sa.select(HeldEnvelope)).all()) == 1
    assert len(list(held_dir.iterdir())) == 1

    _age_held(2)  # its predecessor never came within the hour
    with caplog.at_level(logging.WARNING):
        answer = post()
    assert answer.status_code == 422
    receipt = answer.get_data()
    assert _claims(receipt)["status"] == "rejected:predecessor-missing"
    info = envelopes.check_receipt(receipt, later.token)  # signed by the addressee, for these bytes
    assert info.status == "rejected:predecessor-missing"
    assert any(
        "held longer" in r.getMessage() and later_id in r.getMessage() for r in caplog.records
    )
    # Dropped with its blob, nothing applied; the sender parks it for good (no endless retry).
    db.session.expire_all()
    assert db.session.scalars(sa.select(HeldEnvelope)).all() == []
    assert list(held_dir.iterdir()) == []
    assert (
        db.session.scalar(sa.select(MlaRequest).where(MlaRequest.conversation_id == later_id))
        is None
    )
    assert "predecessor-missing" in FINAL_REASONS


def test_the_worker_purges_an_expired_held_envelope_and_the_sender_is_still_refused(
    client, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    envelopes, later, later_id, body = _follower(tmp_path)
    app = client.application

    def post() -> Any:
        return client.post("/federation/v1/inbox", data=body, content_type="application/zip")

    held_dir = Path(app.instance_path) / "held"
    assert post().status_code == 202
    assert len(list(held_dir.iterdir())) == 1
    _age_held(0.5)
    assert background.run_passes(db.session).get("held.expired") is None  # within its expiry
    assert len(list(held_dir.iterdir())) == 1

    _age_held(2)  # the sender has not asked again since: the worker's pass drops it
    with caplog.at_level(logging.WARNING):
        counts = background.run_passes(db.session)
    assert counts["held.expired"] == 1
    assert any("dropped" in r.getMessage() and later_id in r.getMessage() for r in caplog.records)
    assert list(held_dir.iterdir()) == []  # its blob is gone
    db.session.expire_all()
    (row,) = db.session.scalars(sa.select(HeldEnvelope)).all()
    assert (row.msg_id, row.envelope, row.blob_ids) == (later_id, b"", "")
    assert "held.expired" not in background.run_passes(db.session)  # once

    answer = post()  # asking again after the purge: refused, not held afresh
    assert answer.status_code == 422
    assert envelopes.check_receipt(answer.get_data(), later.token).status == (
        "rejected:predecessor-missing"
    )
    db.session.expire_all()
    assert db.session.scalars(sa.select(HeldEnvelope)).all() == []
    assert list(held_dir.iterdir()) == []
    assert (
        db.session.scalar(sa.select(MlaRequest).where(MlaRequest.conversation_id == later_id))
        is None
    )


def test_the_emptied_row_of_a_purged_envelope_is_forgotten_after_a_while(client, tmp_path: Path):
    _, _, later_id, body = _follower(tmp_path)
    assert (
        client.post("/federation/v1/inbox", data=body, content_type="application/zip").status_code
        == 202
    )
    _age_held(2)
    assert background.run_passes(db.session)["held.expired"] == 1
    _age_held(REFUSAL_KEPT.total_seconds() / 3600)  # within its expiry (1 h) and 30 days
    assert "held.forgotten" not in background.run_passes(db.session)
    db.session.expire_all()
    assert [r.msg_id for r in db.session.scalars(sa.select(HeldEnvelope))] == [later_id]
    _age_held(REFUSAL_KEPT.total_seconds() / 3600 + 2)
    assert background.run_passes(db.session)["held.forgotten"] == 1
    db.session.expire_all()
    assert db.session.scalars(sa.select(HeldEnvelope)).all() == []
