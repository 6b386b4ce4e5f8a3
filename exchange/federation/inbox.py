"""The inbox: an envelope from a peer node, checked, opened, applied once, answered by a receipt.

What a peer POSTs (schemas/README.md, "Over HTTPS"): the compact envelope itself
(``application/jose``), or, when it carries attachments, the single-file container (a ZIP:
``envelope.jwe`` first, then ``attachments/<id>.blob``), the same bytes as on a USB key.

Order of the checks: the outer (routing header, recipient hosted here, recipient key) before any
decryption, which ``Envelopes.open`` does first; then the signature and the claims; then each
attachment against the signed manifest; only then is the message applied, in one unit of work
with its message id (``mla.services.accept_envelope``). Every refusal is a signed
``rejected:<reason>`` receipt and a log line, never a 500.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from exchange.db import DbSession
from exchange.envelopes import (
    EnvelopeError,
    Envelopes,
    MalformedEnvelope,
    envelope_sha256,
    read_container,
    routing_header,
)
from exchange.envelopes.container import ZIP_MAGIC
from exchange.envelopes.stores import node_envelopes
from exchange.exceptions import Refused
from exchange.mla import services as mla

log = logging.getLogger(__name__)

# A refusal of the receiving side (the payload, not the envelope) as a receipt reason.
PAYLOAD_REASONS = {
    "unknown_authority": "unknown-authority",
    "unknown_request": "unknown-request",
    "unknown_conversation": "unknown-request",
    "unknown_type": "unknown-type",
}


@dataclass(frozen=True)
class InboxAnswer:
    """What the inbox answers: HTTP status and the signed receipt (empty if none could be signed)."""

    status: int
    receipt: bytes
    outcome: str  # delivered | duplicate | rejected:<reason>


def _signer(envelopes: Envelopes, envelope: bytes) -> str | None:
    """Return the hosted authority that signs a refusal: the addressee if it is ours."""
    try:
        aud = routing_header(envelope).get("aud")
    except EnvelopeError:
        aud = None
    if isinstance(aud, str) and envelopes.keys.hosts(aud):
        return aud
    hosted = envelopes.keys.authorities()
    return hosted[0] if hosted else None


def _refuse(envelopes: Envelopes, envelope: bytes, reason: str, detail: str) -> InboxAnswer:
    """Sign and log a ``rejected:<reason>`` receipt for an envelope we refuse."""
    signer = _signer(envelopes, envelope)
    sender = msg_id = None
    try:
        header = routing_header(envelope)
        msg_id = header.get("msg_id") if isinstance(header.get("msg_id"), str) else None
        sender = header.get("iss") if isinstance(header.get("iss"), str) else None
    except EnvelopeError:
        pass
    log.warning("inbox refused message %s from %s: %s (%s)", msg_id, sender, reason, detail[:200])
    if signer is None:
        return InboxAnswer(503, b"", f"rejected:{reason}")
    try:
        receipt = envelopes.make_receipt(
            signer, envelope_sha256(envelope), f"rejected:{reason}", in_reply_to=msg_id, to=sender
        )
    except EnvelopeError:  # a sender or id that a receipt cannot name
        receipt = envelopes.make_receipt(
            signer, envelope_sha256(envelope), f"rejected:{reason}", in_reply_to=None, to=None
        )
    return InboxAnswer(413 if reason == "oversized" else 422, receipt, f"rejected:{reason}")


def refuse_oversized(session: DbSession) -> InboxAnswer:
    """Answer a body larger than the inbox takes, without reading it."""
    return _refuse(node_envelopes(session), b"", "oversized", "body over the inbox limit")


def receive(
    session: DbSession, body: bytes, *, blobs_dir: Path, max_annex_bytes: int
) -> InboxAnswer:
    """Receive one POSTed envelope (bare or in its container) and answer with a receipt."""
    envelopes = node_envelopes(session)
    if not body.startswith(ZIP_MAGIC):
        return _receive_token(session, envelopes, body, {}, blobs_dir, max_annex_bytes)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "container.zip"
        path.write_bytes(body)
        try:
            with read_container(path, envelopes.max_envelope_bytes) as box:
                blobs = {}
                for att_id in box.blob_ids:
                    blobs[att_id] = Path(tmp) / f"{att_id}.blob"
                    with box.blob(att_id) as src, open(blobs[att_id], "wb") as dst:
                        while chunk := src.read(1 << 20):
                            dst.write(chunk)
                token = box.token
        except EnvelopeError as exc:
            return _refuse(envelopes, b"", exc.reason, str(exc))
        except (OSError, ValueError) as exc:  # a damaged entry of the ZIP
            return _refuse(envelopes, b"", "malformed", str(exc))
        return _receive_token(session, envelopes, token, blobs, blobs_dir, max_annex_bytes)


def _receive_token(
    session: DbSession,
    envelopes: Envelopes,
    token: bytes,
    blobs: dict[str, Path],
    blobs_dir: Path,
    max_annex_bytes: int,
) -> InboxAnswer:
    """Open, check the attachments, apply once; refuse with the reason of the first failure."""
    try:
        opened = envelopes.open(token)
        earlier = envelopes.seen.receipt_for(opened.msg_id) if envelopes.seen else None
        if earlier is not None:
            log.info("inbox: message %s again, answered with its first receipt", opened.msg_id)
            return InboxAnswer(200, earlier, "duplicate")
        if {m.id for m in opened.attachments} != set(blobs):
            raise MalformedEnvelope("the blobs sent are not those of the signed manifest")
        receipt = mla.accept_envelope(
            session, token, blobs=blobs, blobs_dir=blobs_dir, max_annex_bytes=max_annex_bytes
        )
    except EnvelopeError as exc:
        return _refuse(envelopes, token, exc.reason, str(exc))
    except Refused as exc:
        reason = PAYLOAD_REASONS.get(exc.code, "unprocessable")
        return _refuse(envelopes, token, reason, str(exc))
    except SQLAlchemyError:
        log.exception("inbox: database error; the sender will try again")
        return InboxAnswer(503, b"", "unavailable")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # A body that passed the signature but not the shape its type needs.
        return _refuse(envelopes, token, "invalid-payload", f"{type(exc).__name__}: {exc}")
    log.info("inbox: message %s from %s delivered", opened.msg_id, opened.sender)
    return InboxAnswer(200, receipt, "delivered")
