"""Annexes: supporting files and results, stored encrypted and addressed by their SHA-256."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from exchange import policy
from exchange.auth.models import User
from exchange.db import DbSession
from exchange.mla import sealing
from exchange.mla.drafting import require_editable
from exchange.mla.errors import MlaError
from exchange.mla.models import Annex, MlaRequest

MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


# --- annexes --------------------------------------------------------------------------------------


def safe_filename(filename: str) -> str:
    """Return a file name fit for storage and for a download header.

    Its last path part only, without control or format characters — NUL, line breaks, and the
    bidirectional overrides (U+202E) that make ``invoice\u202efdp.exe`` read as a PDF — and at
    most 200 characters.
    """
    base = Path(filename.replace("\\", "/")).name
    clean = "".join(c for c in base if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co"))
    return clean.strip()[:200] or "annex"


def detect_media_type(data: bytes) -> str | None:
    """Return the media type that the content's first bytes show (PDF, PNG, JPEG), or None."""
    for magic, media_type in MAGIC:
        if data.startswith(magic):
            return media_type
    return None


def blob_path(blobs_dir: Path, sha256: str) -> Path:
    """Return where the encrypted blob of ``sha256`` lives, confined to ``blobs_dir``."""
    if not SHA256_RE.match(sha256):
        raise MlaError("not_found")
    base = blobs_dir.resolve()
    path = (base / sha256[:2] / sha256).resolve()
    if base not in path.parents:
        raise MlaError("not_found")
    return path


def add_annex(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    *,
    filename: str,
    data: bytes,
    kind: str,
    blobs_dir: Path,
    max_bytes: int,
) -> Annex:
    """Store an annex encrypted, addressed by the SHA-256 of its content; PDF and images only."""
    if kind == "supporting":
        require_editable(actor, request)
    elif kind == "result":
        if not policy.can_act_on_request(actor, request, "requests.execute"):
            raise MlaError("forbidden")
    else:
        raise MlaError("bad_kind")
    if not data:
        raise MlaError("empty_file")
    if len(data) > max_bytes:
        raise MlaError("too_large")
    media_type = detect_media_type(data)
    if media_type is None:
        raise MlaError("bad_file_type")
    digest = sealing.sha256_hex(data)
    for existing in request.annexes:
        if existing.sha256 == digest and existing.kind == kind:
            return existing
    path = blob_path(blobs_dir, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(sealing.encrypt_blob(data, context=f"blob:{digest}"))
        tmp.replace(path)
    name = safe_filename(filename)
    annex = Annex(
        kind=kind,
        sha256=digest,
        filename_enc=sealing.encrypt_field(name, context=f"annex:{digest}:name"),
        content_type=media_type,
        size=len(data),
        uploaded_by_id=actor.id,
    )
    request.annexes.append(annex)
    session.flush()
    return annex


def read_annex(blobs_dir: Path, annex: Annex) -> bytes:
    """Return the decrypted content of an annex, checked against its SHA-256."""
    path = blob_path(blobs_dir, annex.sha256)
    if not path.exists():
        raise MlaError("not_found")
    data = sealing.decrypt_blob(path.read_bytes(), context=f"blob:{annex.sha256}")
    if sealing.sha256_hex(data) != annex.sha256:
        raise MlaError("corrupt")
    return data
