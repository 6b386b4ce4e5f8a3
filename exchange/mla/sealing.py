"""The seam between the MLA area and the envelope layer: encryption at rest and the outbox.

Rewired onto ``exchange.envelopes`` (the only package that touches ``cryptography``): fields and
blobs are encrypted with the node's data keys (``keys/data-keys.json``, wrapped under the node
passphrase, rotatable), AES-256-GCM with the caller's ``context`` as associated data, so a value
copied into another row or column does not decrypt; blobs use the envelope layer's streaming
format. The outbox row keeps the payload of a message as it will be sealed (itself encrypted at
rest, since it may carry identities); the federation layer seals it as a JWS/JWE envelope
(schemas/README.md) and delivers it.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import IO, Any

from sqlalchemy import text

from exchange.db import DbSession, new_uuid
from exchange.envelopes import EnvelopeError
from exchange.envelopes import stores as envelope_stores
from exchange.mla.models import OutboxMessage

# The PostgreSQL notification channel told of each queued message (at its commit).
OUTBOX_CHANNEL = "exchange_outbox"


class SealingError(ValueError):
    """A value could not be decrypted: wrong key, wrong context, or tampered."""


def encrypt_field(plaintext: str, *, context: str) -> str:
    """Encrypt a text field for storage (an ASCII token bound to ``context``)."""
    return envelope_stores.encrypt_field(plaintext, context=context)


def decrypt_field(token: str, *, context: str) -> str:
    """Decrypt a token made by ``encrypt_field`` with the same ``context``."""
    try:
        return envelope_stores.decrypt_field(token, context=context)
    except EnvelopeError as exc:
        raise SealingError(str(exc)) from exc


def encrypt_blob(plaintext: bytes, *, context: str) -> bytes:
    """Encrypt bytes (an annex) under the node's data key, bound to ``context``."""
    out = io.BytesIO()
    envelope_stores.encrypt_file(io.BytesIO(plaintext), out, context=context)
    return out.getvalue()


def decrypt_blob(sealed: bytes, *, context: str) -> bytes:
    """Decrypt what ``encrypt_blob`` produced with the same ``context``."""
    out = io.BytesIO()
    try:
        envelope_stores.decrypt_file(io.BytesIO(sealed), out, context=context)
    except EnvelopeError as exc:
        raise SealingError(str(exc)) from exc
    return out.getvalue()


def encrypt_file(src: IO[bytes], dst: IO[bytes], *, context: str) -> str:
    """Stream-encrypt ``src`` into ``dst`` under the node's data key; return the plaintext SHA-256."""
    return envelope_stores.encrypt_file(src, dst, context=context)[1]


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 of ``data`` in hex (annexes are addressed by it)."""
    return hashlib.sha256(data).hexdigest()


def sha256_stream(stream: IO[bytes]) -> str:
    """Return the SHA-256 of a seekable stream, read in pieces, and rewind it."""
    stream.seek(0)
    digest = hashlib.sha256()
    for piece in iter(lambda: stream.read(1 << 20), b""):
        digest.update(piece)
    stream.seek(0)
    return digest.hexdigest()


def queue_message(
    session: DbSession,
    *,
    sender: str,
    recipient: str,
    msg_type: str,
    payload: dict[str, Any],
    conversation: str,
    in_reply_to: str | None,
    msg_id: str | None = None,
) -> OutboxMessage:
    """Queue a message for the other side: the federation layer seals and delivers it later.

    ``sender`` and ``recipient`` are authority codes; ``conversation`` is the id of the first
    message of the conversation (schemas/README.md), which is why the first message of a request
    or a case reference passes its conversation id as ``msg_id``. The payload is stored encrypted,
    in the same transaction as the move that produced it (transactional outbox).
    """
    message = OutboxMessage(
        msg_id=msg_id or new_uuid(),
        msg_type=msg_type,
        sender_code=sender,
        recipient_code=recipient,
        conversation_id=conversation,
        in_reply_to=in_reply_to,
        state="queued",
    )
    message.payload_enc = encrypt_field(
        json.dumps(payload, sort_keys=True, ensure_ascii=False),
        context=f"outbox:{message.msg_id}",
    )
    session.add(message)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # Wakes a resting worker when this commits (federation.pipeline.Wakeup).
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})
    return message


def message_payload(message: OutboxMessage) -> dict[str, Any]:
    """Return the payload of a queued message, decrypted."""
    result: dict[str, Any] = json.loads(
        decrypt_field(message.payload_enc, context=f"outbox:{message.msg_id}")
    )
    return result
