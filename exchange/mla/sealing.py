"""THE SEAM to the envelope layer: field and blob encryption at rest, and the outbox.

Temporary implementation, to be rewired onto ``exchange.envelopes`` (branch ``envelopes``) with the
same signatures: until that lands, this is the only module of ``exchange.mla`` / ``exchange.cases``
that touches ``cryptography``. It encrypts with AES-256-GCM (NIST SP 800-38D) under the node's data
key, ``<EXCHANGE_KEYS_DIR>/data.key`` (32 random bytes, created 0600 on first use), and binds each
ciphertext to a ``context`` string as associated data, so a value copied into another row or column
does not decrypt. The outbox row keeps the payload as it will be sealed (encrypted at rest too);
the federation layer seals it as a JWS/JWE envelope and delivers it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from exchange.db import DbSession, new_uuid
from exchange.mla.models import OutboxMessage

FORMAT_MARKER = "v1."  # a format marker, so a later scheme can be told apart from this one
NONCE_BYTES = 12


class SealingError(ValueError):
    """A value could not be decrypted: wrong key, wrong context, or tampered."""


_lock = threading.Lock()
_keys: dict[Path, bytes] = {}
_keys_dir: Path | None = None


def configure(keys_dir: Path) -> None:
    """Set the key store folder (called by ``create_app`` through the area's ``init_app``)."""
    global _keys_dir
    _keys_dir = Path(keys_dir)


def _data_key() -> bytes:
    """Return the node's data key, creating it (mode 0600) on first use."""
    base = _keys_dir or Path(os.environ.get("EXCHANGE_KEYS_DIR", "keys"))
    path = (base / "data.key").resolve()
    with _lock:
        if path in _keys:
            return _keys[path]
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(AESGCM.generate_key(bit_length=256))
        key = path.read_bytes()
        if len(key) != 32:
            raise SealingError("the data key must be 32 bytes")
        _keys[path] = key
        return key


def encrypt_blob(plaintext: bytes, *, context: str) -> bytes:
    """Encrypt bytes under the node's data key, bound to ``context``: nonce || ciphertext+tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(_data_key()).encrypt(nonce, plaintext, context.encode())


def decrypt_blob(sealed: bytes, *, context: str) -> bytes:
    """Decrypt what ``encrypt_blob`` produced with the same ``context``."""
    try:
        return AESGCM(_data_key()).decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context.encode()
        )
    except (InvalidTag, ValueError) as exc:
        raise SealingError("cannot decrypt: wrong key or context, or tampered") from exc


def encrypt_field(plaintext: str, *, context: str) -> str:
    """Encrypt a text field for storage: an ASCII token ``v1.<base64url>``."""
    sealed = encrypt_blob(plaintext.encode("utf-8"), context=context)
    return FORMAT_MARKER + base64.urlsafe_b64encode(sealed).decode("ascii")


def decrypt_field(token: str, *, context: str) -> str:
    """Decrypt a token made by ``encrypt_field`` with the same ``context``."""
    if not token.startswith(FORMAT_MARKER):
        raise SealingError("unknown token format")
    try:
        sealed = base64.urlsafe_b64decode(token[len(FORMAT_MARKER) :].encode("ascii"))
    except ValueError as exc:
        raise SealingError("malformed token") from exc
    return decrypt_blob(sealed, context=context).decode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 of ``data`` in hex (annexes are addressed by it)."""
    return hashlib.sha256(data).hexdigest()


def queue_message(
    session: DbSession,
    *,
    sender: str,
    recipient: str,
    msg_type: str,
    payload: dict[str, Any],
    conversation: str,
    in_reply_to: str | None,
) -> OutboxMessage:
    """Queue a message for the other side: the federation layer seals and delivers it later.

    ``sender`` and ``recipient`` are authority codes. The payload is stored encrypted at rest
    (it may carry the identities of persons concerned), in the same transaction as the move that
    produced it (transactional outbox).
    """
    message = OutboxMessage(
        msg_id=new_uuid(),
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
    return message


def message_payload(message: OutboxMessage) -> dict[str, Any]:
    """Return the payload of a queued message, decrypted."""
    result: dict[str, Any] = json.loads(
        decrypt_field(message.payload_enc, context=f"outbox:{message.msg_id}")
    )
    return result
