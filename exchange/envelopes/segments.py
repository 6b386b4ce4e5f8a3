"""The streaming format of ``streaming.py``, written as bytes arrive and read back with random access.

``SegmentWriter`` takes the plaintext through ``write`` (a multipart parser pushes an upload's
pieces as they come off the socket) and writes exactly what ``encrypt_stream`` would: it keeps
one segment back until it knows whether more follows, since the last segment carries the
last-segment flag in its nonce. ``SegmentReader`` is a seekable, read-only file over a stored
stream: it decrypts only the segment a read falls in (each is authenticated on its own, so a
checker may jump to a file's end, and a download may start anywhere), in constant memory.
"""

from __future__ import annotations

import hashlib
import io
import os
from typing import IO

from cryptography.exceptions import InvalidTag

from .errors import AttachmentError, TruncatedEnvelope
from .streaming import (
    DEFAULT_SEGMENT_SIZE,
    HEADER_SIZE,
    KEY_SIZE,
    NONCE_PREFIX_SIZE,
    TAG_SIZE,
    _nonce,
    _segment_key,
)


class SegmentWriter:
    """Encrypt pieces pushed through ``write`` into ``dst``; ``close`` writes the last segment."""

    def __init__(
        self,
        ikm: bytes,
        dst: IO[bytes],
        associated_data: bytes,
        segment_size: int = DEFAULT_SEGMENT_SIZE,
    ) -> None:
        if len(ikm) != KEY_SIZE:
            raise AttachmentError("streaming key must be 32 bytes")
        salt, self._prefix = os.urandom(KEY_SIZE), os.urandom(NONCE_PREFIX_SIZE)
        self._aead = _segment_key(ikm, salt, associated_data)
        self._dst = dst
        self._plain = segment_size - TAG_SIZE
        self._buffer = bytearray()
        self._index = 0
        self.size = 0
        self._sha = hashlib.sha256()
        self.closed = False
        dst.write(bytes([HEADER_SIZE]) + salt + self._prefix)

    def _room(self) -> int:
        """Return the plaintext size of the current segment (the first shares room with the header)."""
        return self._plain - HEADER_SIZE if self._index == 0 else self._plain

    def write(self, data: bytes) -> int:
        """Take the next piece of plaintext; encrypt each segment once a byte beyond it arrives."""
        self._buffer += data
        self._sha.update(data)
        self.size += len(data)
        while len(self._buffer) > self._room():
            room = self._room()
            self._emit(bytes(self._buffer[:room]), last=False)
            del self._buffer[:room]
        return len(data)

    def _emit(self, plain: bytes, *, last: bool) -> None:
        self._dst.write(self._aead.encrypt(_nonce(self._prefix, self._index, last), plain, None))
        self._index += 1

    def close(self) -> str:
        """Write the last segment; return the plaintext SHA-256 (hex)."""
        if not self.closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer = bytearray()
            self.closed = True
        return self._sha.hexdigest()


class SegmentReader(io.RawIOBase):
    """A seekable read-only view of the plaintext of a stream stored from ``base`` in ``src``."""

    def __init__(
        self,
        ikm: bytes,
        src: IO[bytes],
        associated_data: bytes,
        *,
        base: int = 0,
        segment_size: int = DEFAULT_SEGMENT_SIZE,
    ) -> None:
        super().__init__()
        self._src, self._base, self._segment = src, base, segment_size
        src.seek(base)
        header = src.read(HEADER_SIZE)
        if len(header) < HEADER_SIZE:
            raise TruncatedEnvelope("stored stream ends inside its header")
        if header[0] != HEADER_SIZE:
            raise AttachmentError("stored stream header has the wrong length byte")
        self._aead = _segment_key(ikm, header[1 : 1 + KEY_SIZE], associated_data)
        self._prefix = header[1 + KEY_SIZE :]
        length = src.seek(0, io.SEEK_END) - base
        self._count = max(1, -(-length // segment_size))
        self.size = length - HEADER_SIZE - self._count * TAG_SIZE
        if self.size < 0:
            raise TruncatedEnvelope("stored stream is shorter than its segments' tags")
        self._first = segment_size - HEADER_SIZE - TAG_SIZE  # plaintext in the first segment
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None
        # The first segment is read now: a stream under another key or context (a blob copied
        # into another request's place) is refused when it is opened, not half-way through.
        self._plaintext(0)

    def readable(self) -> bool:
        """Say that the view reads."""
        return True

    def seekable(self) -> bool:
        """Say that the view seeks."""
        return True

    def tell(self) -> int:
        """Return the plaintext position."""
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move to a plaintext position."""
        start = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, start + offset)
        return self._pos

    def _locate(self, pos: int) -> tuple[int, int]:
        """Return the segment holding plaintext byte ``pos`` and that segment's first byte."""
        if pos < self._first:
            return 0, 0
        index = 1 + (pos - self._first) // (self._segment - TAG_SIZE)
        return index, self._first + (index - 1) * (self._segment - TAG_SIZE)

    def _plaintext(self, index: int) -> bytes:
        """Return segment ``index`` decrypted (the last one decrypts only as the last)."""
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        start = HEADER_SIZE if index == 0 else index * self._segment
        end = self._segment * (index + 1)
        self._src.seek(self._base + start)
        sealed = self._src.read(end - start)
        last = index == self._count - 1
        try:
            plain = self._aead.decrypt(_nonce(self._prefix, index, last), sealed, None)
        except InvalidTag as exc:
            raise AttachmentError(f"stored segment {index} is altered, truncated or moved") from exc
        self._cached = (index, plain)
        return plain

    def read(self, size: int | None = -1) -> bytes:
        """Return up to ``size`` bytes from the position (all that is left when ``size`` < 0)."""
        wanted = self.size - self._pos if size is None or size < 0 else size
        wanted = min(wanted, self.size - self._pos)
        parts = []
        while wanted > 0:
            index, first = self._locate(self._pos)
            plain = self._plaintext(index)
            piece = plain[self._pos - first : self._pos - first + wanted]
            if not piece:
                raise TruncatedEnvelope(f"stored segment {index} is short")
            parts.append(piece)
            self._pos += len(piece)
            wanted -= len(piece)
        return b"".join(parts)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Read into ``buffer``; return how many bytes were read."""
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        """Close the view and the stored file under it."""
        if not self.closed:
            self._cached = None
            self._src.close()
        super().close()
