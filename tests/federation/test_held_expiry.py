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

from exchange.db import utcnow
from exchange.envelopes import AttachmentIn, write_container
from exchange.extensions import db
from exchange.federation.delivery import FINAL_REASONS
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


def test_a_held_envelope_past_its_expiry_is_refused_with_a_signed_reason_and_dropped(
    client, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
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
    body = container.read_bytes()

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
