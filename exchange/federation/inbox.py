"""The inbox: an envelope from a peer node, checked, opened, applied once, answered by a receipt.

What a peer POSTs (schemas/README.md, "Over HTTPS"): the compact envelope itself
(``application/jose``), or, when it carries attachments, the single-file container (a ZIP:
``envelope.jwe`` first, then ``attachments/<id>.blob``), the same bytes as on a USB key.

Order of the checks: the outer (routing header, recipient hosted here, recipient key) before any
decryption, which ``Envelopes.open`` does first; then the signature and the claims; then each
attachment against the signed manifest; then, if the message it follows (``in_reply_to``) has
not arrived, it is held (``federation.held``) and the sender asked to try again (202, no
receipt); otherwise it is applied, in one unit of work with its message id
(``mla.services.accept_envelope``), and the held messages that follow it are applied in turn.
Every refusal is a signed ``rejected:<reason>`` receipt and a log line, never a 500.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
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
from exchange.exceptions import Conflict, Refused
from exchange.federation import held
from exchange.mla import services as mla

log = logging.getLogger(__name__)

DEFAULT_HELD_EXPIRY = dt.timedelta(hours=72)  # EXCHANGE_HELD_EXPIRY_HOURS

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
    outcome: str  # delivered | duplicate | held | rejected:<reason> | unavailable


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
        try:
            receipt = envelopes.make_receipt(
                signer, envelope_sha256(envelope), f"rejected:{reason}", in_reply_to=None, to=None
            )
        except EnvelopeError:  # no key to sign with: the sender tries again later
            log.exception("inbox: %s cannot sign a receipt", signer)
            return InboxAnswer(503, b"", f"rejected:{reason}")
    return InboxAnswer(413 if reason == "oversized" else 422, receipt, f"rejected:{reason}")


def refuse_oversized(session: DbSession) -> InboxAnswer:
    """Answer a body larger than the inbox takes, without reading it."""
    return _refuse(node_envelopes(session), b"", "oversized", "body over the inbox limit")


@dataclass(frozen=True)
class _Place:
    """Where the inbox keeps what it receives: the annex store and the held blobs."""

    blobs_dir: Path
    held_dir: Path
    max_annex_bytes: int
    held_expiry: dt.timedelta


def receive(
    session: DbSession,
    body: bytes,
    *,
    blobs_dir: Path,
    max_annex_bytes: int,
    held_dir: Path | None = None,
    held_expiry: dt.timedelta = DEFAULT_HELD_EXPIRY,
) -> InboxAnswer:
    """Receive one POSTed envelope (bare or in its container) and answer with a receipt.

    ``held_dir`` keeps the blobs of envelopes held for their predecessor (by default ``held``
    beside ``blobs_dir``), for ``held_expiry`` at most.
    """
    envelopes = node_envelopes(session)
    place = _Place(blobs_dir, held_dir or held.held_dir_of(blobs_dir), max_annex_bytes, held_expiry)
    if not body.startswith(ZIP_MAGIC):
        return _receive_token(session, envelopes, body, {}, place)
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
        return _receive_token(session, envelopes, token, blobs, place)


def _receipt_status(receipt: bytes) -> str:
    """Return the status claim of a receipt we just signed ourselves."""
    payload = receipt.split(b".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    return str(claims.get("status", ""))


def _receive_token(
    session: DbSession,
    envelopes: Envelopes,
    token: bytes,
    blobs: dict[str, Path],
    place: _Place,
) -> InboxAnswer:
    """Receive one envelope; then apply, in order, the held envelopes it was the predecessor of."""
    answer, msg_id = _receive_one(session, envelopes, token, blobs, place)
    pending = [msg_id] if answer.outcome == "delivered" and msg_id else []
    try:
        while pending:  # a chain of held messages, each applied once the one before it is
            for held_id, envelope, blobs_of in held.settle(session, pending.pop(0), place.held_dir):
                follower, _ = _receive_one(session, envelopes, envelope, blobs_of, place)
                if follower.outcome == "held":
                    continue
                if follower.outcome in ("delivered", "duplicate"):
                    pending.append(held_id)  # released by its own settle, next
                else:
                    held.release(session, held_id, place.held_dir)
    except (SQLAlchemyError, OSError):
        # The answer to this envelope stands; the held ones wait for their sender's next post.
        log.exception("inbox: the messages held after %s could not all be applied now", msg_id)
        session.rollback()
    return answer


def _receive_one(
    session: DbSession,
    envelopes: Envelopes,
    token: bytes,
    blobs: dict[str, Path],
    place: _Place,
) -> tuple[InboxAnswer, str | None]:
    """Open, check the attachments, hold or apply once; refuse with the first failure's reason."""
    msg_id: str | None = None
    try:
        opened = envelopes.open(token)
        msg_id = opened.msg_id
        earlier = envelopes.seen.receipt_for(opened.msg_id) if envelopes.seen else None
        if earlier is not None:
            log.info("inbox: message %s again, answered with its first receipt", opened.msg_id)
            return InboxAnswer(200, earlier, "duplicate"), msg_id
        if {m.id for m in opened.attachments} != set(blobs):
            raise MalformedEnvelope("the blobs sent are not those of the signed manifest")
        if not held.predecessor_arrived(session, opened):
            outcome = held.hold(session, opened, token, blobs, place.held_dir, place.held_expiry)
            if outcome == "expired":
                held.release(session, opened.msg_id, place.held_dir)
                return _refuse(
                    envelopes, token, held.EXPIRED, f"held too long for {opened.in_reply_to}"
                ), msg_id
            if outcome != "held":
                return InboxAnswer(503, b"", "unavailable"), msg_id
            if not held.predecessor_arrived(session, opened):
                return InboxAnswer(202, b"", "held"), msg_id
            # Its predecessor was applied while it was being held: apply it now (then release).
        receipt = mla.accept_envelope(
            session,
            token,
            blobs=blobs,
            blobs_dir=place.blobs_dir,
            max_annex_bytes=place.max_annex_bytes,
            opened=opened,
        )
    except EnvelopeError as exc:
        return _refuse(envelopes, token, exc.reason, str(exc)), msg_id
    except Conflict:  # lost every race with other attempts at the same rows: try later
        log.warning("inbox: message %s lost its races; the sender will try again", msg_id)
        return InboxAnswer(503, b"", "unavailable"), msg_id
    except Refused as exc:
        reason = PAYLOAD_REASONS.get(exc.code, "unprocessable")
        return _refuse(envelopes, token, reason, str(exc)), msg_id
    except OSError:  # the disk, for the blobs of a held message
        log.exception("inbox: message %s could not be kept; the sender will try again", msg_id)
        return InboxAnswer(503, b"", "unavailable"), msg_id
    except SQLAlchemyError:
        log.exception("inbox: database error; the sender will try again")
        session.rollback()
        return InboxAnswer(503, b"", "unavailable"), msg_id
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # A body that passed the signature but not the shape its type needs.
        return _refuse(envelopes, token, "invalid-payload", f"{type(exc).__name__}: {exc}"), msg_id
    status = _receipt_status(receipt)
    if status != "delivered":  # opened, but its body or its move refused (nothing applied)
        log.warning("inbox refused message %s from %s: %s", opened.msg_id, opened.sender, status)
        code = 413 if status == "rejected:oversized" else 422
        return InboxAnswer(code, receipt, status), msg_id
    log.info("inbox: message %s from %s delivered", opened.msg_id, opened.sender)
    return InboxAnswer(200, receipt, "delivered"), msg_id
