"""Streaming AEAD: Tink's AES-GCM-HKDF streaming format, segment by segment, in constant memory.

Format (Tink "AesGcmHkdfStreaming", as specified in Tink's streaming AEAD documentation and its
Java reference ``AesGcmHkdfStreaming``), for an input key ``ikm`` and associated data ``ad``:

    header   = header_len (1 byte, = 1 + key_size + 7) || salt (key_size) || nonce_prefix (7)
    key      = HKDF-SHA256(ikm, salt=salt, info=ad, length=key_size)          (RFC 5869)
    segment i: AES-GCM(key, nonce = nonce_prefix || uint32_be(i) || last_flag, aad = "")
               ciphertext segments are ``segment_size`` bytes (the first one ``segment_size -
               header_len``), each with its 16-byte tag, except the last which may be shorter.

The last-segment flag in the nonce makes truncation at a segment boundary detectable.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import AttachmentError, AttachmentHashMismatch, OversizedEnvelope, TruncatedEnvelope

KEY_SIZE = 32  # AES-256 (Tink template AES256_GCM_HKDF_1MB)
NONCE_PREFIX_SIZE = 7
TAG_SIZE = 16
HEADER_SIZE = 1 + KEY_SIZE + NONCE_PREFIX_SIZE
DEFAULT_SEGMENT_SIZE = 1 << 20
MIN_SEGMENT_SIZE = HEADER_SIZE + TAG_SIZE + 2
MAX_SEGMENT_SIZE = 1 << 30
READ_CHUNK = 1 << 16


def _read_exact(src: IO[bytes], size: int) -> bytes:
    """Read up to ``size`` bytes, looping over short reads, never asking for more than ``size``."""
    chunks = []
    while size > 0:
        chunk = src.read(size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class _Sha256:
    """SHA-256 of a stream, computed in a helper thread once the stream is longer than a segment.

    hashlib releases the GIL on large buffers, so hashing one segment overlaps AES-GCM and the
    I/O of the next; at most one segment waits to be hashed (memory stays constant).
    """

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def update(self, data: bytes) -> None:
        """Hash the next piece (in order)."""
        if self._pool is None and len(data) < 1 << 16:  # small: a thread would cost more
            self._digest.update(data)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
        if self._pending is not None:
            self._pending.result()
        self._pending = self._pool.submit(self._digest.update, data)

    def hexdigest(self) -> str:
        """Wait for the last piece and return the digest (hex)."""
        self.close()
        return self._digest.hexdigest()

    def close(self) -> None:
        """Finish pending work and stop the helper thread."""
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def _segment_key(ikm: bytes, salt: bytes, associated_data: bytes) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=associated_data)
    return AESGCM(hkdf.derive(ikm))


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= 1 << 32:
        raise AttachmentError("too many segments")
    return prefix + struct.pack(">IB", index, 1 if last else 0)


def _check_segment_size(segment_size: int) -> None:
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise AttachmentError(f"segment size {segment_size} is out of range")


def encrypt_stream(
    ikm: bytes,
    src: IO[bytes],
    dst: IO[bytes],
    associated_data: bytes,
    segment_size: int = DEFAULT_SEGMENT_SIZE,
    max_size: int | None = None,
) -> tuple[int, str]:
    """Encrypt ``src`` into ``dst``; return the plaintext size and SHA-256 (hex)."""
    _check_segment_size(segment_size)
    if len(ikm) != KEY_SIZE:
        raise AttachmentError("streaming key must be 32 bytes")
    salt, prefix = os.urandom(KEY_SIZE), os.urandom(NONCE_PREFIX_SIZE)
    aead = _segment_key(ikm, salt, associated_data)
    dst.write(bytes([HEADER_SIZE]) + salt + prefix)
    digest, total, index = _Sha256(), 0, 0
    plain_size = segment_size - TAG_SIZE
    try:
        current = _read_exact(src, plain_size - HEADER_SIZE)
        while True:
            # Look one segment ahead: the last segment is the one followed by end of input.
            following = (
                _read_exact(src, plain_size)
                if len(current) == (plain_size - HEADER_SIZE if index == 0 else plain_size)
                else b""
            )
            last = not following
            digest.update(current)
            total += len(current)
            if max_size is not None and total > max_size:
                raise OversizedEnvelope(f"attachment is larger than {max_size} bytes")
            dst.write(aead.encrypt(_nonce(prefix, index, last), current, None))
            if last:
                return total, digest.hexdigest()
            current, index = following, index + 1
    finally:
        digest.close()


def decrypt_stream(
    ikm: bytes,
    src: IO[bytes],
    dst: IO[bytes],
    associated_data: bytes,
    segment_size: int = DEFAULT_SEGMENT_SIZE,
    expected_size: int | None = None,
    expected_sha256: str | None = None,
) -> tuple[int, str]:
    """Decrypt ``src`` into ``dst`` segment by segment; check size and SHA-256 when given."""
    _check_segment_size(segment_size)
    header = _read_exact(src, HEADER_SIZE)
    if len(header) < HEADER_SIZE:
        raise TruncatedEnvelope("attachment blob ends inside its header")
    if header[0] != HEADER_SIZE:
        raise AttachmentError("attachment blob header has the wrong length byte")
    aead = _segment_key(ikm, header[1 : 1 + KEY_SIZE], associated_data)
    prefix = header[1 + KEY_SIZE :]
    digest = _Sha256()
    try:
        total = _decrypt_segments(aead, prefix, src, dst, segment_size, expected_size, digest)
        sha = digest.hexdigest()
    finally:
        digest.close()
    if expected_size is not None and total != expected_size:
        raise AttachmentHashMismatch("attachment size differs from the signed manifest")
    if expected_sha256 is not None and sha != expected_sha256:
        raise AttachmentHashMismatch("attachment SHA-256 differs from the signed manifest")
    return total, sha


def _decrypt_segments(
    aead: AESGCM,
    prefix: bytes,
    src: IO[bytes],
    dst: IO[bytes],
    segment_size: int,
    expected_size: int | None,
    digest: _Sha256,
) -> int:
    total, index = 0, 0
    current = _read_exact(src, segment_size - HEADER_SIZE)
    while True:
        full = len(current) == (segment_size - HEADER_SIZE if index == 0 else segment_size)
        following = _read_exact(src, segment_size) if full else b""
        last = not following
        if len(current) < TAG_SIZE:
            raise TruncatedEnvelope(f"attachment segment {index} is truncated")
        try:
            plain = aead.decrypt(_nonce(prefix, index, last), current, None)
        except InvalidTag as exc:
            raise AttachmentError(
                f"attachment segment {index} is altered, truncated or reordered"
            ) from exc
        total += len(plain)
        if expected_size is not None and total > expected_size:
            raise AttachmentHashMismatch("attachment is longer than its manifest size")
        digest.update(plain)
        dst.write(plain)
        if last:
            return total
        current, index = following, index + 1


def ciphertext_size(plaintext_size: int, segment_size: int = DEFAULT_SEGMENT_SIZE) -> int:
    """Return the blob size for a plaintext size (to bound what a reader accepts)."""
    first = segment_size - TAG_SIZE - HEADER_SIZE
    if plaintext_size <= first:
        segments = 1
    else:
        segments = 1 + -(-(plaintext_size - first) // (segment_size - TAG_SIZE))
    return HEADER_SIZE + plaintext_size + segments * TAG_SIZE


def sha256_file(path: Path | str, chunk: int = READ_CHUNK) -> str:
    """Return the SHA-256 (hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def copy_to_path(write: Callable[[IO[bytes]], object], dest: Path) -> None:
    """Write through ``write`` into a temporary file and move it to ``dest`` only on success."""
    # A fresh, exclusive, owner-only name beside dest: short whatever dest's length, and never a
    # file (or link) someone left in the folder.
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=".", suffix=".part")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
