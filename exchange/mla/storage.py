"""Where annexes are kept: one small interface, and the local folder of encrypted blobs behind it.

Annexes, their downloads, the API and the federation's carriage reach stored files only through
``AnnexStore`` (``store_at``), so another store (object storage, a vault) can take the local
folder's place by ``use_store`` without a change to the areas that call it. Whatever the store,
what it keeps is the encrypted form: each blob is bound to its request and SHA-256 as associated
data (``blob_context``), so a copy moved to another request's place does not decrypt (suspicion S1).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from exchange.envelopes import EnvelopeError
from exchange.envelopes import stores as envelope_stores
from exchange.mla.errors import MlaError

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def blob_context(request_id: str, sha256: str) -> str:
    """Return the associated data of a stored blob: a copy in another request's folder is unreadable."""
    return f"blob:{request_id}:{sha256}"


class AnnexStore(Protocol):
    """The annex files of requests, addressed by request public id and SHA-256."""

    def put(self, request_id: str, sha256: str, content: IO[bytes]) -> bool:
        """Store ``content`` (read from its start) as ``sha256``; say whether this call stored it.

        Raises ``MlaError("corrupt")``, storing nothing, if the content's SHA-256 is not ``sha256``.
        """

    def open(self, request_id: str, sha256: str) -> IO[bytes]:
        """Return a seekable stream of the plaintext (``MlaError("not_found")`` when absent)."""

    def exists(self, request_id: str, sha256: str) -> bool:
        """Say whether ``sha256`` is stored for the request."""

    def delete(self, request_id: str, sha256: str) -> None:
        """Remove ``sha256`` of the request, if stored."""


def check_address(request_id: str, sha256: str) -> None:
    """Refuse an address that is not a request's public id and a SHA-256 (no path tricks)."""
    if not SHA256_RE.match(sha256) or not UUID_RE.match(request_id):
        raise MlaError("not_found")


class LocalBlobStore:
    """Encrypted blobs in a folder: ``<blobs_dir>/<request public id>/<sha256>``."""

    def __init__(self, blobs_dir: Path) -> None:
        self.blobs_dir = blobs_dir

    def path(self, request_id: str, sha256: str) -> Path:
        """Return where blob ``sha256`` of one request lives, confined to the folder."""
        check_address(request_id, sha256)
        base = self.blobs_dir.resolve()
        path = (base / request_id / sha256).resolve()
        if base not in path.parents:
            raise MlaError("not_found")
        return path

    def put(self, request_id: str, sha256: str, content: IO[bytes]) -> bool:
        """Encrypt ``content`` beside its place, then move it there once its digest is right."""
        path = self.path(request_id, sha256)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        # A fresh owner-only name: two workers storing the same annex never share a file.
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{sha256[:16]}.", suffix=".tmp")
        tmp = Path(name)
        content.seek(0)
        try:
            with os.fdopen(fd, "wb") as out:
                _size, written = envelope_stores.encrypt_file(
                    content, out, context=blob_context(request_id, sha256)
                )
            if written != sha256:
                raise MlaError("corrupt")  # the stream changed under us
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def open(self, request_id: str, sha256: str) -> IO[bytes]:
        """Return a seekable decrypting view of a stored blob."""
        path = self.path(request_id, sha256)
        try:
            src = open(path, "rb")  # noqa: SIM115 - the view owns and closes it
        except FileNotFoundError as exc:
            raise MlaError("not_found") from exc
        try:
            return envelope_stores.open_file(src, context=blob_context(request_id, sha256))
        except EnvelopeError as exc:
            src.close()
            raise MlaError("corrupt") from exc

    def exists(self, request_id: str, sha256: str) -> bool:
        """Say whether the blob is in the folder."""
        return self.path(request_id, sha256).exists()

    def delete(self, request_id: str, sha256: str) -> None:
        """Remove the blob's file."""
        self.path(request_id, sha256).unlink(missing_ok=True)


@dataclass(frozen=True)
class StoredBlob:
    """A blob one unit of work stored: removed again (``discard``) if that work does not commit."""

    store: AnnexStore
    request_id: str
    sha256: str

    def remove(self) -> None:
        """Remove the blob from its store."""
        self.store.delete(self.request_id, self.sha256)


StoreFactory = Callable[[Path], AnnexStore]
_factory: StoreFactory = LocalBlobStore


def use_store(factory: StoreFactory | None) -> None:
    """Keep annexes in the stores ``factory`` makes from a node's blobs folder (None: the folder)."""
    global _factory
    _factory = factory or LocalBlobStore


def store_at(blobs_dir: Path) -> AnnexStore:
    """Return the annex store of a node whose blobs folder is ``blobs_dir``."""
    return _factory(blobs_dir)
