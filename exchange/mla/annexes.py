"""Annexes: supporting files and results, checked by their structure, stored encrypted.

Each request keeps its files in a place of its own in the annex store (``storage``), where they
are addressed by their SHA-256, and each blob is encrypted with its request and digest as
associated data: an annex row reaches only the files stored for its own request, never another
authority's (suspicion S1). Files are read and written in pieces, never whole in memory.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from exchange import policy
from exchange.auth.models import User
from exchange.db import DbSession
from exchange.envelopes import EnvelopeError
from exchange.mla import filetypes, sealing, storage
from exchange.mla.drafting import require_editable
from exchange.mla.errors import MlaError, Rejected
from exchange.mla.models import Annex, MlaRequest
from exchange.mla.storage import StoredBlob
from exchange.mla.uploads import StagedUpload

# The files a message carries, by SHA-256: each opens a seekable stream of the plaintext.
Carried = Mapping[str, Callable[[], IO[bytes]]]


def safe_filename(filename: str) -> str:
    """Return a file name fit for storage and for a download header.

    Its last path part only, without control or format characters — NUL, line breaks, and the
    bidirectional overrides (U+202E) that make ``invoice\u202efdp.exe`` read as a PDF — and at
    most 200 characters.
    """
    base = Path(filename.replace("\\", "/")).name
    clean = "".join(c for c in base if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co"))
    return clean.strip()[:200] or "annex"


def blob_path(blobs_dir: Path, request_id: str, sha256: str) -> Path:
    """Return where the local folder keeps blob ``sha256`` of one request (``LocalBlobStore``)."""
    return storage.LocalBlobStore(blobs_dir).path(request_id, sha256)


def inspect(content: IO[bytes], max_bytes: int) -> tuple[str, str, int]:
    """Return the media type, SHA-256 and size of a seekable stream that is acceptable evidence."""
    content.seek(0, io.SEEK_END)
    size = content.tell()
    if not size:
        raise MlaError("empty_file")
    if size > max_bytes:
        raise MlaError("too_large")
    media_type = filetypes.check_evidence(content)
    digest = sealing.sha256_stream(content)
    return media_type, digest, size


def _store(
    blobs_dir: Path, request: MlaRequest, digest: str, content: IO[bytes]
) -> StoredBlob | None:
    """Store ``content`` for its request; return the stored blob if this call created it."""
    store = storage.store_at(blobs_dir)
    if not store.put(request.public_id, digest, content):
        return None
    return StoredBlob(store, request.public_id, digest)


def _staged(upload: StagedUpload, max_bytes: int) -> tuple[str, str, int, IO[bytes]]:
    """Return the media type, SHA-256, size and plaintext view of a staged upload, or refuse it."""
    upload.finish()
    if upload.refused is not None:
        raise MlaError(upload.refused)
    if upload.size > max_bytes:
        raise MlaError("too_large")
    content = upload.open()
    try:
        media_type = filetypes.check_evidence(content)
    except BaseException:
        content.close()
        raise
    return media_type, upload.sha256, upload.size, content


def add_annex(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    *,
    filename: str,
    data: bytes | IO[bytes] | StagedUpload,
    kind: str,
    blobs_dir: Path,
    max_bytes: int,
) -> Annex:
    """Store an annex encrypted in its request's folder: a PDF, PNG or JPEG whose structure holds.

    ``data`` is the file's content, a seekable stream of it, or an upload staged as it arrived
    (``uploads.StagedUpload``, already hashed and head-checked); each is read in pieces.
    """
    if kind == "supporting":
        require_editable(actor, request)
    elif kind == "result":
        if not policy.can_act_on_request(actor, request, "requests.execute"):
            raise MlaError("forbidden")
    else:
        raise MlaError("bad_kind")
    if isinstance(data, StagedUpload):
        media_type, digest, size, content = _staged(data, max_bytes)
    else:
        content = io.BytesIO(data) if isinstance(data, bytes) else data
        media_type, digest, size = inspect(content, max_bytes)
    with content:
        for existing in request.annexes:
            if existing.sha256 == digest and existing.kind == kind:
                return existing
        _store(blobs_dir, request, digest, content)
    return _annex_row(session, request, kind, digest, filename, media_type, size, actor.id)


def _annex_row(
    session: DbSession,
    request: MlaRequest,
    kind: str,
    digest: str,
    filename: str,
    media_type: str,
    size: int,
    uploaded_by_id: int | None,
) -> Annex:
    """Add the annex row of a stored blob to its request."""
    annex = Annex(
        kind=kind,
        sha256=digest,
        filename_enc=sealing.encrypt_field(safe_filename(filename), context=f"annex:{digest}:name"),
        content_type=media_type,
        size=size,
        uploaded_by_id=uploaded_by_id,
    )
    request.annexes.append(annex)
    session.flush()
    return annex


def receive_annex(
    session: DbSession,
    request: MlaRequest,
    entry: Mapping[str, Any],
    kind: str,
    *,
    carried: Carried,
    blobs_dir: Path,
    max_bytes: int,
) -> StoredBlob | None:
    """Record an annex that an incoming payload announces, from the file its message carried.

    The annex row is made only from bytes the message itself brought (suspicion S1): their
    SHA-256 and size must be the announced ones and their structure that of the announced type
    (finding 19), else the whole message is rejected. Returns the blob file this call created,
    if any, for the caller to remove should the message not be applied after all.
    """
    digest = str(entry["sha256"])
    opener = carried.get(digest)
    if opener is None:
        raise Rejected("missing-attachment")
    with opener() as content:
        try:
            media_type, found, size = inspect(content, max_bytes)
        except MlaError as exc:
            raise Rejected(
                "oversized" if exc.code == "too_large" else "unacceptable-attachment"
            ) from exc
        if found != digest or size != entry["size"]:
            raise Rejected("attachment-hash-mismatch")
        if media_type != entry["media_type"]:
            raise Rejected("unacceptable-attachment")
        if any(a.sha256 == digest and a.kind == kind for a in request.annexes):
            return None
        path = _store(blobs_dir, request, digest, content)
    _annex_row(session, request, kind, digest, str(entry["filename"]), media_type, size, None)
    return path


def open_annex(blobs_dir: Path, annex: Annex) -> IO[bytes]:
    """Return a seekable stream of an annex's decrypted content, read from its store in pieces.

    Each segment is authenticated as it is read, under associated data that names the request and
    the SHA-256 (``storage.blob_context``): altered, moved or truncated content fails to read.
    """
    return storage.store_at(blobs_dir).open(annex.request.public_id, annex.sha256)


def read_annex(blobs_dir: Path, annex: Annex) -> bytes:
    """Return the decrypted content of an annex, checked against its SHA-256 (small files)."""
    try:
        with open_annex(blobs_dir, annex) as content:
            data = content.read()
    except EnvelopeError as exc:
        raise MlaError("corrupt") from exc
    if sealing.sha256_hex(data) != annex.sha256:
        raise MlaError("corrupt")
    return data


def discard(created: list[StoredBlob]) -> None:
    """Remove blobs stored by a unit of work that did not commit."""
    for blob in created:
        blob.remove()
    created.clear()
