"""Encryption at rest with the node's data key: sensitive fields and stored files.

The data keys live in ``keys/data-keys.json``, each wrapped with AES-256-GCM under a key derived
from the node passphrase with scrypt (RFC 7914). Several keys may be present; the newest encrypts,
all decrypt, so the key can be rotated and old rows re-encrypted at leisure.

Field form (text, fits a TEXT column): ``ef1.<key id>.<base64url(nonce || ciphertext || tag)>``
with the caller's ``context`` (e.g. ``"victim.name:<row id>"``) as AES-GCM associated data, so a
value copied into another row or column does not decrypt.

File form: ``b"EXF1"`` || key id (4 bytes, big-endian) || a Tink AES-GCM-HKDF stream (streaming.py)
whose associated data is the context.
"""

from __future__ import annotations

import json
import os
import struct
import threading
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ._jose import b64d, b64e
from .errors import DecryptionFailed, KeyStoreError, MalformedEnvelope
from .segments import SegmentReader, SegmentWriter
from .streaming import DEFAULT_SEGMENT_SIZE, decrypt_stream, encrypt_stream

DATA_KEYS_FILE = "data-keys.json"
FIELD_PREFIX = "ef1"
FILE_MAGIC = b"EXF1"
_WRAP_AAD = b"exchange data key v1"
_SCRYPT = {"n": 1 << 15, "r": 8, "p": 1}


def _kek(passphrase: bytes, salt: bytes, params: dict[str, int]) -> AESGCM:
    return AESGCM(Scrypt(salt=salt, length=32, **params).derive(passphrase))


@dataclass
class DataKeyRing:
    """The node's data keys by id; the highest id encrypts."""

    keys: dict[int, bytes]
    # One AES-GCM object per key, made on first use: the ring lives as long as the process, and
    # a page or an API answer decrypts several fields.
    _ciphers: dict[int, AESGCM] = field(default_factory=dict, repr=False, compare=False)

    @property
    def active_id(self) -> int:
        """Return the id of the key that encrypts."""
        return max(self.keys)

    def _key(self, key_id: int) -> AESGCM:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            try:
                cipher = AESGCM(self.keys[key_id])
            except KeyError as exc:
                raise DecryptionFailed(f"data key {key_id} is not in the key ring") from exc
            self._ciphers[key_id] = cipher
        return cipher

    def encrypt_field(self, plaintext: str, *, context: str) -> str:
        """Encrypt a text field, bound to its context."""
        nonce = os.urandom(12)
        sealed = self._key(self.active_id).encrypt(
            nonce, plaintext.encode("utf-8"), context.encode("utf-8")
        )
        return f"{FIELD_PREFIX}.{self.active_id}.{b64e(nonce + sealed)}"

    def decrypt_field(self, token: str, *, context: str) -> str:
        """Decrypt a field produced by encrypt_field with the same context."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != FIELD_PREFIX or not parts[1].isdigit():
            raise MalformedEnvelope("not an encrypted field (ef1)")
        raw = b64d(parts[2])
        if len(raw) < 28:
            raise MalformedEnvelope("encrypted field is too short")
        try:
            plain = self._key(int(parts[1])).decrypt(raw[:12], raw[12:], context.encode("utf-8"))
        except InvalidTag as exc:
            raise DecryptionFailed("field does not decrypt in this context") from exc
        return plain.decode("utf-8")

    def encrypt_file(self, src: IO[bytes], dst: IO[bytes], *, context: str) -> tuple[int, str]:
        """Stream-encrypt a file; return its plaintext size and SHA-256."""
        dst.write(FILE_MAGIC + struct.pack(">I", self.active_id))
        return encrypt_stream(self.keys[self.active_id], src, dst, context.encode("utf-8"))

    def decrypt_file(self, src: IO[bytes], dst: IO[bytes], *, context: str) -> tuple[int, str]:
        """Stream-decrypt a file made by encrypt_file; return its plaintext size and SHA-256."""
        head = src.read(8)
        if len(head) != 8 or head[:4] != FILE_MAGIC:
            raise MalformedEnvelope("not an encrypted file (EXF1)")
        (key_id,) = struct.unpack(">I", head[4:])
        if key_id not in self.keys:
            raise DecryptionFailed(f"data key {key_id} is not in the key ring")
        return decrypt_stream(
            self.keys[key_id], src, dst, context.encode("utf-8"), DEFAULT_SEGMENT_SIZE
        )

    def file_writer(self, dst: IO[bytes], *, context: str) -> SegmentWriter:
        """Start a file of the ``encrypt_file`` form whose plaintext is pushed in pieces."""
        dst.write(FILE_MAGIC + struct.pack(">I", self.active_id))
        return SegmentWriter(self.keys[self.active_id], dst, context.encode("utf-8"))

    def open_file(self, src: IO[bytes], *, context: str) -> SegmentReader:
        """Return a seekable view of the plaintext of a file made by ``encrypt_file``."""
        head = src.read(8)
        if len(head) != 8 or head[:4] != FILE_MAGIC:
            raise MalformedEnvelope("not an encrypted file (EXF1)")
        (key_id,) = struct.unpack(">I", head[4:])
        if key_id not in self.keys:
            raise DecryptionFailed(f"data key {key_id} is not in the key ring")
        return SegmentReader(self.keys[key_id], src, context.encode("utf-8"), base=8)


_default: DataKeyRing | None = None
_CREATING = threading.Lock()  # one thread of a process creates the first data key


def _passphrase(passphrase: bytes | str) -> bytes:
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase


def _write_ring(path: Path, passphrase: bytes, keys: dict[int, bytes]) -> None:
    entries: list[dict[str, Any]] = []
    for key_id, key in sorted(keys.items()):
        salt, nonce = os.urandom(16), os.urandom(12)
        wrapped = _kek(passphrase, salt, _SCRYPT).encrypt(
            nonce, key, _WRAP_AAD + struct.pack(">I", key_id)
        )
        entries.append(
            {
                "id": key_id,
                "kdf": "scrypt",
                **_SCRYPT,
                "salt": b64e(salt),
                "wrapped": b64e(nonce + wrapped),
            }
        )
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"version": 1, "keys": entries}, fh, indent=2)
    os.replace(tmp, path)


def load_data_keys(keys_dir: Path | str, passphrase: bytes | str) -> DataKeyRing:
    """Unwrap the node's data keys; refuse, creating nothing, if the key store has none."""
    path = Path(keys_dir) / DATA_KEYS_FILE
    if not path.is_file():
        # A new key could never decrypt what is stored: the key store named is the wrong one.
        raise KeyStoreError(
            f"no data keys in {path.absolute()}: is EXCHANGE_KEYS_DIR the node's key store?"
        )
    doc = json.loads(path.read_text("utf-8"))
    keys: dict[int, bytes] = {}
    for entry in doc["keys"]:
        raw = b64d(entry["wrapped"])
        params = {k: int(entry[k]) for k in ("n", "r", "p")}
        try:
            keys[int(entry["id"])] = _kek(
                _passphrase(passphrase), b64d(entry["salt"]), params
            ).decrypt(raw[:12], raw[12:], _WRAP_AAD + struct.pack(">I", int(entry["id"])))
        except InvalidTag as exc:
            raise KeyStoreError(
                "cannot unwrap the data key: wrong passphrase or damaged file"
            ) from exc
    return DataKeyRing(keys)


def ensure_data_key(keys_dir: Path | str, passphrase: bytes | str) -> DataKeyRing:
    """Load the node's data keys, creating the first one on first use; make it the default ring."""
    global _default
    path = Path(keys_dir) / DATA_KEYS_FILE
    with _CREATING:
        if not path.exists():
            Path(keys_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
            # Two processes (a web process and a worker, or two request threads) may both find
            # no key: each writes its own file aside, and only the first one links it into
            # place; everyone then loads the key on disk, never one of its own that lost.
            aside = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(6).hex()}")
            _write_ring(aside, _passphrase(passphrase), {1: AESGCM.generate_key(256)})
            try:
                with suppress(FileExistsError):
                    os.link(aside, path)
            finally:
                aside.unlink(missing_ok=True)
        _default = load_data_keys(keys_dir, passphrase)
    return _default


def rotate_data_key(keys_dir: Path | str, passphrase: bytes | str) -> DataKeyRing:
    """Add a new data key that encrypts from now on; old ones still decrypt."""
    global _default
    ring = load_data_keys(keys_dir, passphrase)
    ring.keys[ring.active_id + 1] = AESGCM.generate_key(256)
    _write_ring(Path(keys_dir) / DATA_KEYS_FILE, _passphrase(passphrase), ring.keys)
    _default = ring
    return ring


def _ring(ring: DataKeyRing | None) -> DataKeyRing:
    if ring is not None:
        return ring
    if _default is None:
        raise KeyStoreError("no data key loaded: call ensure_data_key(keys_dir, passphrase) first")
    return _default


def encrypt_field(plaintext: str, *, context: str, ring: DataKeyRing | None = None) -> str:
    """Encrypt a text field with the node's data key (AES-256-GCM, context as associated data)."""
    return _ring(ring).encrypt_field(plaintext, context=context)


def decrypt_field(token: str, *, context: str, ring: DataKeyRing | None = None) -> str:
    """Decrypt a text field made by encrypt_field."""
    return _ring(ring).decrypt_field(token, context=context)


def encrypt_file(
    src: IO[bytes], dst: IO[bytes], *, context: str, ring: DataKeyRing | None = None
) -> tuple[int, str]:
    """Stream-encrypt a stored file with the node's data key."""
    return _ring(ring).encrypt_file(src, dst, context=context)


def decrypt_file(
    src: IO[bytes], dst: IO[bytes], *, context: str, ring: DataKeyRing | None = None
) -> tuple[int, str]:
    """Stream-decrypt a stored file made by encrypt_file."""
    return _ring(ring).decrypt_file(src, dst, context=context)
