"""Annexes: supporting files and results, checked by their structure, stored encrypted.

Each request keeps its files in a folder of its own, where they are addressed by their SHA-256,
and each blob is encrypted with its request and digest as associated data: an annex row reaches
only the files stored for its own request, never another authority's (suspicion S1).
"""

from __future__ import annotations

import io
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from exchange import policy
from exchange.auth.models import User
from exchange.db import DbSession
from exchange.mla import filetypes, sealing
from exchange.mla.drafting import require_editable
from exchange.mla.errors import MlaError, Rejected
from exchange.mla.models import Annex, MlaRequest

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
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
    """Return where the encrypted blob ``sha256`` of one request lives, confined to ``blobs_dir``."""
    if not SHA256_RE.match(sha256) or not UUID_RE.match(request_id):
        raise MlaError("not_found")
    base = blobs_dir.resolve()
    path = (base / request_id / sha256).resolve()
    if base not in path.parents:
        raise MlaError("not_found")
    return path


def blob_context(request_id: str, sha256: str) -> str:
    """Return the associated data of a stored blob: a copy in another request's folder is unreadable."""
    return f"blob:{request_id}:{sha256}"


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


def _store(blobs_dir: Path, request: MlaRequest, digest: str, content: IO[bytes]) -> Path | None:
    """Encrypt ``content`` into its request's folder; return the path if this call created it."""
    path = blob_path(blobs_dir, request.public_id, digest)
    if path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{digest}.{uuid.uuid4().hex}.tmp")  # two workers never share one
    content.seek(0)
    try:
        with open(tmp, "wb") as out:
            written = sealing.encrypt_file(
                content, out, context=blob_context(request.public_id, digest)
            )
        if written != digest:
            raise MlaError("corrupt")  # the stream changed under us
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def add_annex(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    *,
    filename: str,
    data: bytes | IO[bytes],
    kind: str,
    blobs_dir: Path,
    max_bytes: int,
) -> Annex:
    """Store an annex encrypted in its request's folder: a PDF, PNG or JPEG whose structure holds.

    ``data`` is the file's content, or a seekable stream of it (an upload, read in pieces).
    """
    if kind == "supporting":
        require_editable(actor, request)
    elif kind == "result":
        if not policy.can_act_on_request(actor, request, "requests.execute"):
            raise MlaError("forbidden")
    else:
        raise MlaError("bad_kind")
    content = io.BytesIO(data) if isinstance(data, bytes) else data
    media_type, digest, size = inspect(content, max_bytes)
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
) -> Path | None:
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
    """Return a stream of an annex's decrypted content, checked against its SHA-256."""
    return io.BytesIO(read_annex(blobs_dir, annex))


def read_annex(blobs_dir: Path, annex: Annex) -> bytes:
    """Return the decrypted content of an annex, checked against its SHA-256."""
    request_id = annex.request.public_id
    path = blob_path(blobs_dir, request_id, annex.sha256)
    if not path.exists():
        raise MlaError("not_found")
    try:
        data = sealing.decrypt_blob(
            path.read_bytes(), context=blob_context(request_id, annex.sha256)
        )
    except sealing.SealingError as exc:
        raise MlaError("corrupt") from exc
    if sealing.sha256_hex(data) != annex.sha256:
        raise MlaError("corrupt")
    return data


def discard(created: list[Path]) -> None:
    """Remove blob files written by a unit of work that did not commit."""
    for path in created:
        path.unlink(missing_ok=True)
    created.clear()
