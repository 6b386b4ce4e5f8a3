"""The inbox: what a peer may post, and what it gets back (a signed receipt, never a 500)."""

from __future__ import annotations

import base64
import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from exchange.envelopes import Envelopes, KeyStore, MemoryTrustStore, import_jwks, local_trust
from exchange.envelopes.stores import key_store, node_envelopes
from exchange.extensions import db
from exchange.mla import sealing, services
from exchange.mla.models import MlaRequest, OutboxMessage


def _claims(receipt: bytes) -> dict[str, Any]:
    payload = receipt.split(b".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))


@pytest.fixture
def peer_envelope(tmp_path: Path, make_user, make_request):  # type: ignore[no-untyped-def]
    """Return (sealer, outbox row): SN-CA's keys on a 'remote' key store, NG-CA's keys here."""
    here = node_envelopes(db.session)
    here.keys.generate("NG-CA", pdf=False)
    local_trust(here.keys, here.trust, "NG-CA")
    remote_keys = KeyStore(tmp_path / "remote-keys", "remote passphrase")
    remote_keys.generate("SN-CA", pdf=False)
    remote_trust = MemoryTrustStore()
    import_jwks(remote_trust, key_store().public_jwks("NG-CA"), hosted=("SN-CA",))
    import_jwks(here.trust, remote_keys.public_jwks("SN-CA"), hosted=("NG-CA",))
    db.session.commit()
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    request = make_request(prosecutor)
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    db.session.commit()
    row = db.session.scalar(sa.select(OutboxMessage))
    return Envelopes(remote_keys, remote_trust), row


def _seal(sealer: Envelopes, row: OutboxMessage) -> bytes:
    return sealer.seal(
        sealing.message_payload(row),
        sender=row.sender_code,
        recipient=row.recipient_code,
        msg_type=row.msg_type,
        conversation=row.conversation_id,
        msg_id=row.msg_id,
    ).token


def _incoming() -> int:
    db.session.expire_all()
    return len(db.session.scalars(sa.select(MlaRequest).where(MlaRequest.side == "incoming")).all())


def _post(client, body: bytes) -> tuple[int, dict[str, Any], bytes]:  # type: ignore[no-untyped-def]
    answer = client.post("/federation/v1/inbox", data=body, content_type="application/jose")
    receipt = answer.get_data()
    return answer.status_code, _claims(receipt), receipt


def test_an_envelope_is_applied_once_and_a_duplicate_gets_the_first_receipt(client, peer_envelope):
    sealer, row = peer_envelope
    token = _seal(sealer, row)
    status, claims, first = _post(client, token)
    assert status == 200 and claims["status"] == "delivered", claims["status"]
    assert claims["in_reply_to"] == row.msg_id and claims["iss"] == "NG-CA"
    assert _incoming() == 1
    status, _, again = _post(client, token)
    assert status == 200 and again == first
    assert _incoming() == 1
    sealer.check_receipt(first, token)  # the sender can verify it against what it sent


def _reheader(token: bytes, **changes: str) -> bytes:
    parts = token.split(b".")
    header = json.loads(base64.urlsafe_b64decode(parts[0] + b"=" * (-len(parts[0]) % 4)))
    header.update(changes)
    parts[0] = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=")
    return b".".join(parts)


def test_refused_envelopes_get_a_signed_reason_and_change_nothing(client, peer_envelope, tmp_path):
    sealer, row = peer_envelope
    token = _seal(sealer, row)
    parts = token.split(b".")
    flipped = parts[3][:-2] + (b"A" if parts[3][-2:-1] != b"A" else b"B") + parts[3][-1:]
    tampered = b".".join([*parts[:3], flipped, parts[4]])
    stranger_keys = KeyStore(tmp_path / "stranger", "stranger passphrase")
    stranger_keys.generate("SN-CA", pdf=False)
    stranger_trust = MemoryTrustStore()
    import_jwks(stranger_trust, key_store().public_jwks("NG-CA"), hosted=("SN-CA",))
    unknown_sender = _seal(Envelopes(stranger_keys, stranger_trust), row)
    cases = {
        "tampered": (tampered, {"rejected:decryption-failed", "rejected:malformed"}),
        "re-addressed": (_reheader(token, aud="GH-CA"), {"rejected:not-addressed-to-us"}),
        "oversized": (b"e" * (9 << 20), {"rejected:oversized"}),
        "unknown sender": (unknown_sender, {"rejected:unknown-sender-key"}),
        "garbage": (b"\x00\xffnot an envelope", {"rejected:malformed", "rejected:truncated"}),
    }
    for name, (body, expected) in cases.items():
        status, claims, receipt = _post(client, body)
        assert status in (413, 422), name
        assert claims["status"] in expected, (name, claims["status"])
        assert claims["evidence"] == "NON_DELIVERY"
        node_envelopes(db.session).verify_jws(receipt, [claims["iss"]], typ="exchange-receipt+jwt")
        assert _incoming() == 0, name


def test_a_replay_after_acceptance_is_answered_with_the_first_receipt(client, peer_envelope):
    sealer, row = peer_envelope
    status, _, first = _post(client, _seal(sealer, row))
    assert status == 200
    # The same message id sealed again (other bytes): already accepted, never applied twice.
    status, claims, receipt = _post(client, _seal(sealer, row))
    assert status == 200 and receipt == first and claims["status"] == "delivered"
    assert _incoming() == 1


def test_the_same_envelope_posted_twenty_times_at_once_is_applied_once(live_server, peer_envelope):
    sealer, row = peer_envelope
    token = _seal(sealer, row)
    receipts: list[bytes] = []
    barrier = threading.Barrier(20)

    def post() -> None:
        barrier.wait()
        request = urllib.request.Request(  # noqa: S310 - loopback test server
            live_server + "/federation/v1/inbox",
            data=token,
            method="POST",
            headers={"Content-Type": "application/jose"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
            receipts.append(answer.read())

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert len(receipts) == 20
    assert len(set(receipts)) == 1
    assert _claims(receipts[0])["status"] == "delivered"
    assert _incoming() == 1


def _seal_thread_message(sealer: Envelopes, row: OutboxMessage, after: str, text: str) -> bytes:
    """Seal a threaded message about ``row``'s request that follows the message ``after``."""
    return sealer.seal(
        {"subject": "Progress inquiry", "text": text, "lang": "en"},
        sender=row.sender_code,
        recipient=row.recipient_code,
        msg_type="message",
        conversation=row.conversation_id,
        in_reply_to=after,
    ).token


def _thread_texts() -> list[str]:
    from exchange.mla.messages import message_body
    from exchange.mla.models import Message

    db.session.expire_all()
    rows = db.session.scalars(sa.select(Message).order_by(Message.id)).all()
    return [message_body(m) for m in rows]


def test_a_message_before_its_predecessor_is_held_then_applied_in_order(client, peer_envelope):
    from exchange.envelopes import envelope_sha256
    from exchange.federation.models import HeldEnvelope

    sealer, row = peer_envelope
    request_token = _seal(sealer, row)
    first = _seal_thread_message(sealer, row, row.msg_id, "first")
    first_id = _claims_of_envelope(sealer, first)
    second = _seal_thread_message(sealer, row, first_id, "second")
    # The second and first messages arrive before the request they follow: held, not refused.
    for token in (second, first):
        answer = client.post("/federation/v1/inbox", data=token, content_type="application/jose")
        assert answer.status_code == 202 and answer.get_data() == b""
    assert _incoming() == 0 and _thread_texts() == []
    assert len(db.session.scalars(sa.select(HeldEnvelope)).all()) == 2
    # Posting a held message again holds it once.
    assert (
        client.post(
            "/federation/v1/inbox", data=second, content_type="application/jose"
        ).status_code
        == 202
    )
    assert len(db.session.scalars(sa.select(HeldEnvelope)).all()) == 2
    # The request arrives: it is applied, then the two held messages, in their order.
    status, claims, _ = _post(client, request_token)
    assert status == 200 and claims["status"] == "delivered"
    assert _incoming() == 1
    assert _thread_texts() == ["first", "second"]
    assert db.session.scalars(sa.select(HeldEnvelope)).all() == []
    # The sender asks again for the held one: the receipt of its application, once.
    status, claims, receipt = _post(client, second)
    assert status == 200 and claims["status"] == "delivered"
    assert claims["envelope_sha256"] == envelope_sha256(second)
    sealer.check_receipt(receipt, second)
    assert _thread_texts() == ["first", "second"]


def _claims_of_envelope(sealer: Envelopes, token: bytes) -> str:
    from exchange.envelopes import routing_header

    return str(routing_header(token)["msg_id"])


def test_a_refused_move_answers_422_with_its_reason(client, peer_envelope):
    sealer, row = peer_envelope
    assert _post(client, _seal(sealer, row))[0] == 200
    # A move the requested side cannot receive from the requesting side (it executes nothing).
    token = sealer.seal(
        {"request": row.conversation_id, "action": "start_execution"},
        sender=row.sender_code,
        recipient=row.recipient_code,
        msg_type="mla.status",
        conversation=row.conversation_id,
        in_reply_to=row.msg_id,
    ).token
    status, claims, _ = _post(client, token)
    assert status == 422 and claims["status"].startswith("rejected:"), claims["status"]


def test_a_held_message_keeps_its_attachments_until_it_is_applied(client, tmp_path):
    import io
    import uuid

    from exchange.envelopes import AttachmentIn, write_container
    from exchange.federation.models import HeldEnvelope
    from tests import files
    from tests.mla import peer

    envelopes = peer.envelopes_for("NG-CA", "SN-CA")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    earlier = peer.seal(envelopes, peer.request_body(first), blob_dir=tmp_path)
    statement = files.pdf("Statement of the witness")
    entry = peer.annex_entry(statement, filename="statement.pdf")
    later = envelopes.seal(
        peer.request_body(second, annexes=[entry]),
        sender="NG-CA",
        recipient="SN-CA",
        msg_type="mla.request",
        conversation=second,
        msg_id=second,
        in_reply_to=first,  # follows the first request (a consultation, say)
        attachments=[AttachmentIn("statement.pdf", "application/pdf", io.BytesIO(statement))],
        blob_dir=tmp_path,
    )
    container = tmp_path / "later.zip"
    write_container(container, later.token, later.blobs)
    body = container.read_bytes()

    def post(data: bytes, kind: str) -> int:
        return client.post("/federation/v1/inbox", data=data, content_type=kind).status_code

    assert post(body, "application/zip") == 202  # held, with its blob
    held_dir = Path(client.application.instance_path) / "held"
    assert len(list(held_dir.iterdir())) == 1
    assert _incoming() == 0
    assert len(db.session.scalars(sa.select(HeldEnvelope)).all()) == 1
    assert post(earlier.token, "application/jose") == 200
    db.session.expire_all()
    applied = db.session.scalar(sa.select(MlaRequest).where(MlaRequest.conversation_id == second))
    assert applied is not None and [a.sha256 for a in applied.annexes] == [entry["sha256"]]
    assert db.session.scalars(sa.select(HeldEnvelope)).all() == []
    assert held_dir.is_dir() and list(held_dir.iterdir()) == []  # its blob, kept, then removed
    assert post(body, "application/zip") == 200  # asked again: its receipt, applied once
    assert _incoming() == 2
