"""A request's bundle, gathered from the database: its letter, its annexes, its authorities.

``build_request_bundle`` is what the liaison officer's desk calls from the worker; the pages
themselves are put together and signed by ``assembly.build_bundle`` (re-exported here).

The letter is rendered as ``exchange documents render`` renders it (context.py, rendering.py);
annexes are decrypted from the request's blob folder one at a time into a private temporary
folder, checked against their SHA-256, and merged from there (assembly.py), so a 200-page annex is
never held in memory whole. The bundle is signed by the authority that sends the letter: for an
outgoing request the central authority that reviews and transmits it (UNTOC art. 18(13)), for an
incoming one the requested authority answering it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from flask import current_app

from exchange.core.public_url import links_base
from exchange.db import DbSession, utcnow
from exchange.envelopes import EnvelopeError, KeyStore
from exchange.envelopes import stores as envelope_stores
from exchange.mla import payloads, storage
from exchange.mla.errors import MlaError
from exchange.mla.models import OUTGOING, Annex, MlaRequest

from . import context as document_context
from . import rendering
from .assembly import (
    AnnexSource,
    BundleError,
    BundleMeta,
    BundleResult,
    Progress,
    build_bundle,
    qr_data_uri,
    qr_payload,
)
from .signing import SigningError, SigningIdentity, load_identity

__all__ = [
    "AnnexSource",
    "BuiltBundle",
    "BundleError",
    "BundleMeta",
    "BundleResult",
    "SigningError",
    "build_bundle",
    "build_request_bundle",
    "qr_data_uri",
    "qr_payload",
]


@dataclass(frozen=True)
class BuiltBundle:
    """A signed bundle and what made it (recorded beside it on the request's timeline).

    The PDF is in ``path`` when the caller named a file, else in ``data`` (``pdf`` reads either).
    """

    path: Path | None
    data: bytes | None
    sha256: str
    size: int
    bundle_id: str
    page_count: int
    content_digest: str
    template_version: str
    signer: str
    key_thumbprint: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def pdf(self) -> bytes:
        """Return the signed PDF's bytes."""
        if self.data is not None:
            return self.data
        assert self.path is not None  # noqa: S101 - one of the two is always set
        return self.path.read_bytes()


def signing_authority(request: MlaRequest) -> str:
    """Return the code of the authority whose certificate signs the request's bundle."""
    if request.side == OUTGOING and request.reviewing_authority is not None:
        return request.reviewing_authority.code
    return request.authority.code


def ensure_certificate(keys: KeyStore, authority: str) -> None:
    """Issue the authority's PDF signing certificate from the node CA if it has none yet.

    Only for an authority hosted here (the callers sign for their own requests): the PDF key
    stands apart from the envelope keys, so it needs none of them.
    """
    if keys.active(authority, "pdf") is None:
        keys.rotate(authority, "pdf")  # the first PDF key: nothing to retire


def verify_url() -> str:
    """Return the public address of the verification page (the QR code points to it)."""
    return links_base(current_app.config["EXCHANGE"]) + "/verify"


def _annex_opener(blobs_dir: Path, folder: Path, annex: Annex) -> Callable[[], IO[bytes]]:
    """Return an opener that decrypts an annex once into ``folder`` and reads it from there."""
    target = folder / annex.sha256

    def opener() -> IO[bytes]:
        if not target.exists():
            store = storage.store_at(blobs_dir)
            hasher = hashlib.sha256()
            try:
                with (
                    store.open(annex.request.public_id, annex.sha256) as src,
                    target.open("wb") as dst,
                ):
                    while chunk := src.read(1 << 20):
                        hasher.update(chunk)
                        dst.write(chunk)
            except (OSError, EnvelopeError, MlaError) as exc:
                target.unlink(missing_ok=True)
                raise BundleError(f"annex {annex.sha256[:12]} cannot be read: {exc}") from exc
            if hasher.hexdigest() != annex.sha256:
                target.unlink(missing_ok=True)
                raise BundleError(f"annex {annex.sha256[:12]} does not match its digest")
        return target.open("rb")

    return opener


def build_request_bundle(
    session: DbSession,
    request: MlaRequest,
    *,
    lang: str,
    progress: Progress | None = None,
    output: Path | None = None,
    timestamp_url: str | None = None,
    bundle_id: str | None = None,
    today: dt.date | None = None,
) -> BuiltBundle:
    """Build and sign the bundle of ``request`` in ``lang``: cover, index, letter, annexes.

    The PDF is written to the file ``output`` names; without one it is returned in memory
    (``BuiltBundle.pdf``), for the caller to store as it stores files (encrypted), so that no
    plaintext copy stays behind on disk. Needs an app context.
    """
    keys = envelope_stores.key_store()
    signer = signing_authority(request)
    ensure_certificate(keys, signer)
    identity = load_identity(keys, signer)
    # The bundle is what the request discloses to the other side (disclosure.disclosed_persons):
    # the identities the case team chose to share travel, as they do in the envelope.
    letter_context = document_context.build_context(
        session, request, "letter", lang, identities=True, today=today
    )
    letter_pdf = rendering.render_pdf("letter", lang, letter_context)
    blobs_dir = Path(current_app.instance_path) / "blobs"
    ordered = sorted(request.annexes, key=lambda a: (a.kind != "supporting", a.created_at, a.id))
    bundle_id = bundle_id or str(uuid.uuid4())
    now = utcnow()
    meta = BundleMeta(
        bundle_id=bundle_id,
        lang=lang,
        verify_url=verify_url(),
        request_reference=request.reference or request.public_id,
        foreign_reference=request.foreign_reference,
        request_type=request.request_type,
        requesting_authority=str(letter_context["requesting"].get("name", "")),
        requested_authority=str(letter_context["requested"].get("name", "")),
        created_at=now.isoformat(),
    )
    data: bytes | None = None
    if output is None:
        with tempfile.TemporaryFile() as out:
            result = _build(
                letter_pdf, ordered, meta, identity, out, blobs_dir, progress, timestamp_url
            )
            out.seek(0)
            data = out.read()
    else:
        try:
            with output.open("w+b") as out:
                result = _build(
                    letter_pdf, ordered, meta, identity, out, blobs_dir, progress, timestamp_url
                )
        except BaseException:
            output.unlink(missing_ok=True)  # no half-written bundle is left for a download
            raise
    return BuiltBundle(
        path=output,
        data=data,
        sha256=result.sha256,
        size=result.size,
        bundle_id=bundle_id,
        page_count=result.page_count,
        content_digest=result.content_digest,
        template_version=rendering.TEMPLATE_VERSION,
        signer=signer,
        key_thumbprint=identity.kid,
        parameters={
            "lang": lang,
            "request": request.public_id,
            "reference": request.reference,
            "annexes": [a.sha256 for a in ordered],
            "timestamp_url": timestamp_url or "",
            "built_at": now.isoformat(),
        },
    )


def _build(
    letter_pdf: bytes,
    ordered: list[Annex],
    meta: BundleMeta,
    identity: SigningIdentity,
    out: IO[bytes],
    blobs_dir: Path,
    progress: Progress | None,
    timestamp_url: str | None,
) -> BundleResult:
    """Decrypt the annexes into a private folder as they are needed and build the bundle."""
    with tempfile.TemporaryDirectory(prefix="bundle-") as tmp:
        annexes = [
            AnnexSource(
                name=payloads.annex_filename(a),
                media_type=a.content_type,
                sha256=a.sha256,
                open=_annex_opener(blobs_dir, Path(tmp), a),
                kind=a.kind,
            )
            for a in ordered
        ]
        return build_bundle(
            letter_pdf, annexes, meta, identity, out, progress=progress, timestamp_url=timestamp_url
        )
