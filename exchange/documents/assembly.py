"""The signed PDF bundle's pages: cover, index, the letter, then the annexes merged as they are.

Annex PDFs are copied page by page with qpdf (pikepdf), never re-rendered: their pages keep
their own content streams, byte for byte, and the cost of a bundle grows with the pages we write
(cover, index, letter), not with the pages attached. qpdf reads an annex's stream data from its
file only while it writes the merged document, once, to the output file that pyHanko signs as
an incremental update in place: no annex is ever held in memory whole, nor copied twice.

Annexes that are not PDFs (photographs, scans as PNG or JPEG) are listed in the index with
their digest and marked as transmitted separately, not reproduced: turning an image into a page
would be a re-rendering whose bytes no longer match the digest, and embedding it as a file
(PDF/A-3 associated files) would hide it from the printed copy a court files — and a bundle
carries no embedded file, so that nothing travels that a reader does not see.

The index and the QR code on the cover carry the bundle id, the digest of the index (the
"content digest", SHA-256 of the items' canonical JSON) and the signer's key thumbprint; the
index also rides in the catalog as a JSON stream the signature covers, which ``verify`` reads.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, cast
from urllib.parse import urlencode

import pikepdf
import segno

from . import rendering
from .signing import SigningIdentity, sign_pdf
from .verify import MANIFEST_KEY, content_digest

Progress = Callable[[int, int], None]
PDF = "application/pdf"
MANIFEST_VERSION = 1
# The index is re-laid out until its own length stops moving the page numbers it prints.
MAX_LAYOUT_PASSES = 4


class BundleError(Exception):
    """A bundle could not be built: an unreadable annex, a letter that is not a PDF."""

    code = "build_failed"


@dataclass(frozen=True)
class AnnexSource:
    """One annex to bundle: its name, media type, SHA-256 and a way to open its content."""

    name: str
    media_type: str
    sha256: str
    open: Callable[[], IO[bytes]]
    kind: str = "supporting"  # supporting | result


@dataclass(frozen=True)
class BundleMeta:
    """What a bundle says about itself: its id, the request, the authorities, the language."""

    bundle_id: str
    lang: str
    verify_url: str
    request_reference: str
    foreign_reference: str = ""
    request_type: str = ""
    requesting_authority: str = ""
    requested_authority: str = ""
    created_at: str = ""  # ISO date-time
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BundleResult:
    """The outcome of a build: digests, page count, the index as signed, the QR payload."""

    sha256: str
    size: int
    page_count: int
    content_digest: str
    qr_payload: str
    manifest: dict[str, Any]


def qr_payload(verify_url: str, bundle_id: str, digest: str, kid: str) -> str:
    """Return what the QR code says: the /verify address with the bundle id, digest and key."""
    return f"{verify_url}?{urlencode({'b': bundle_id, 'd': digest, 'k': kid})}"


def qr_data_uri(payload: str) -> str:
    """Return the QR code of ``payload`` as an SVG ``data:`` URI (WeasyPrint draws it as vectors)."""
    return str(segno.make(payload, error="m").svg_data_uri(scale=4, border=2))


def _open_pdf(data: IO[bytes], name: str) -> pikepdf.Pdf:
    """Open a PDF with qpdf, or say which item is not one."""
    try:
        return pikepdf.Pdf.open(cast(BinaryIO, data))
    except (pikepdf.PdfError, ValueError) as exc:
        raise BundleError(f"{name} is not a readable PDF: {exc}") from exc


def _count_pages(data: IO[bytes], name: str) -> int:
    with _open_pdf(data, name) as pdf:
        return len(pdf.pages)


def _lay_out(
    letter: tuple[str, int], annexes: Sequence[tuple[AnnexSource, int]], first_page: int
) -> list[dict[str, Any]]:
    """Return the index entries, page ranges counted from ``first_page`` (1-based)."""
    items: list[dict[str, Any]] = []
    page = first_page
    letter_sha, letter_pages = letter
    items.append(
        {
            "kind": "letter",
            "name": "letter.pdf",
            "media_type": PDF,
            "sha256": letter_sha,
            "first_page": page,
            "last_page": page + letter_pages - 1,
        }
    )
    page += letter_pages
    for annex, pages in annexes:
        entry = {
            "kind": annex.kind,
            "name": annex.name,
            "media_type": annex.media_type,
            "sha256": annex.sha256,
            "first_page": page if pages else None,
            "last_page": page + pages - 1 if pages else None,
        }
        page += pages
        items.append(entry)
    return items


def _page_context(
    meta: BundleMeta, identity: SigningIdentity, items: list[dict[str, Any]], payload: str
) -> dict[str, Any]:
    digest = content_digest(items)
    return {
        "bundle": {
            "id": meta.bundle_id,
            "created_at": meta.created_at,
            "content_digest": digest,
            "key_thumbprint": identity.kid,
            "signer": identity.authority,
            "verify_url": meta.verify_url,
            "template_version": rendering.TEMPLATE_VERSION,
            "qr": qr_data_uri(payload),
            "qr_payload": payload,
        },
        "request": {
            "reference": meta.request_reference,
            "foreign_reference": meta.foreign_reference,
            "type": meta.request_type,
            "requesting_authority": meta.requesting_authority,
            "requested_authority": meta.requested_authority,
        },
        "items": items,
    }


def render_front(
    meta: BundleMeta,
    identity: SigningIdentity,
    letter: tuple[str, int],
    annexes: Sequence[tuple[AnnexSource, int]],
) -> tuple[bytes, bytes, list[dict[str, Any]], str]:
    """Render the cover and the index until their page counts agree with the page numbers."""
    cover_pages, index_pages = 1, 1
    for _ in range(MAX_LAYOUT_PASSES):
        items = _lay_out(letter, annexes, cover_pages + index_pages + 1)
        payload = qr_payload(meta.verify_url, meta.bundle_id, content_digest(items), identity.kid)
        context = _page_context(meta, identity, items, payload)
        cover = rendering.render_pdf("bundle_cover", meta.lang, context)
        index = rendering.render_pdf("bundle_index", meta.lang, context)
        counted = (_count_pages(_bytes_io(cover), "cover"), _count_pages(_bytes_io(index), "index"))
        if counted == (cover_pages, index_pages):
            return cover, index, items, payload
        cover_pages, index_pages = counted
    raise BundleError("the index does not settle on a page count")


def _bytes_io(data: bytes) -> IO[bytes]:
    return io.BytesIO(data)


def _merge(bundle: pikepdf.Pdf, source: pikepdf.Pdf, step: Callable[[], None]) -> int:
    """Append every page of ``source`` to ``bundle`` as it is; return the first page's index.

    qpdf copies a foreign page's objects and reads their stream data from the source only when
    the bundle is written (QPDF::copyForeignObject): ``source`` stays open until then, and an
    annex's content is never held in memory.
    """
    first = len(bundle.pages)
    for page in source.pages:
        bundle.pages.append(page)
        step()
    return first


def build_bundle(
    letter_pdf: bytes,
    annexes: Sequence[AnnexSource],
    meta: BundleMeta,
    identity: SigningIdentity,
    output: IO[bytes],
    *,
    progress: Progress | None = None,
    timestamp_url: str | None = None,
) -> BundleResult:
    """Build and sign a bundle into ``output``: cover, index, letter, annexes; return its facts."""
    letter_pages = _count_pages(_bytes_io(letter_pdf), "the letter")
    counted: list[tuple[AnnexSource, int]] = []
    for annex in annexes:
        if annex.media_type == PDF:
            with annex.open() as stream:
                counted.append((annex, _count_pages(stream, annex.name)))
        else:
            counted.append((annex, 0))
    total = 4 + sum(pages for _, pages in counted)
    done = 0

    def step(n: int = 1) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(min(done, total), total)

    letter = (hashlib.sha256(letter_pdf).hexdigest(), letter_pages)
    cover, index, items, payload = render_front(meta, identity, letter, counted)
    step()
    if output.tell() != 0:
        raise BundleError("a bundle is written to an empty stream of its own")
    with contextlib.ExitStack() as opened:
        bundle = opened.enter_context(pikepdf.Pdf.new())
        front = opened.enter_context(_open_pdf(_bytes_io(cover), "cover"))
        _merge(bundle, front, lambda: None)
        _merge(bundle, opened.enter_context(_open_pdf(_bytes_io(index), "index")), lambda: None)
        letter_doc = opened.enter_context(_open_pdf(_bytes_io(letter_pdf), "the letter"))
        outline = [("letter.pdf", _merge(bundle, letter_doc, lambda: None))]
        step()
        for annex, pages in counted:
            if pages:
                stream = opened.enter_context(annex.open())
                source = opened.enter_context(_open_pdf(stream, annex.name))
                outline.append((annex.name, _merge(bundle, source, step)))
        page_count = len(bundle.pages)
        manifest = _manifest(meta, identity, items, payload, page_count)
        _finish(bundle, front, manifest, outline)
        # Streams pass through as they are (no decoding, no recompression): annex pages keep
        # their content byte for byte.
        bundle.save(
            cast(BinaryIO, output),
            compress_streams=False,
            stream_decode_level=pikepdf.StreamDecodeLevel.none,
            object_stream_mode=pikepdf.ObjectStreamMode.preserve,
        )
    step()
    # The signature is appended to the same file (an incremental update, signed in place):
    # the merged document is written once and never copied.
    sign_pdf(
        output,
        identity,
        reason=f"Bundle {meta.bundle_id} for {meta.request_reference}",
        timestamp_url=timestamp_url,
    )
    step()
    size, digest = _digest(output)
    return BundleResult(digest, size, page_count, content_digest(items), payload, manifest)


def _manifest(
    meta: BundleMeta,
    identity: SigningIdentity,
    items: list[dict[str, Any]],
    payload: str,
    page_count: int,
) -> dict[str, Any]:
    """Return the bundle's manifest: what the index says, signed with the bundle."""
    return {
        "version": MANIFEST_VERSION,
        "bundle_id": meta.bundle_id,
        "lang": meta.lang,
        "request_reference": meta.request_reference,
        "foreign_reference": meta.foreign_reference,
        "requesting_authority": meta.requesting_authority,
        "requested_authority": meta.requested_authority,
        "created_at": meta.created_at,
        "signer": identity.authority,
        "key_thumbprint": identity.kid,
        "template_version": rendering.TEMPLATE_VERSION,
        "page_count": page_count,
        "items": items,
        "content_digest": content_digest(items),
        "qr_payload": payload,
    }


def _finish(
    bundle: pikepdf.Pdf,
    front: pikepdf.Pdf,
    manifest: dict[str, Any],
    outline: list[tuple[str, int]],
) -> None:
    """Store the manifest in the catalog, add the outline, keep the cover's output intent."""
    data = json.dumps(manifest, sort_keys=True, ensure_ascii=False).encode("utf-8")
    bundle.Root[pikepdf.Name(MANIFEST_KEY)] = bundle.make_stream(data)
    if "/OutputIntents" in front.Root:
        # The sRGB output intent of the pages we rendered (PDF/A-3b, ISO 19005-3 §6.2.3); the
        # bundle as a whole is not claimed PDF/A, since annexes are merged as they came.
        intents = front.Root.OutputIntents
        if not intents.is_indirect:
            intents = front.make_indirect(intents)
        bundle.Root.OutputIntents = bundle.copy_foreign(intents)
    with bundle.open_outline() as tree:
        for title, page_index in outline:
            tree.root.append(pikepdf.OutlineItem(title, page_index))
    bundle.docinfo[pikepdf.Name.Title] = (
        f"{manifest['request_reference']} — {manifest['bundle_id']}"
    )
    bundle.docinfo[pikepdf.Name.Author] = manifest["signer"]
    bundle.docinfo[pikepdf.Name.Producer] = "The Exchange"


def _digest(output: IO[bytes]) -> tuple[int, str]:
    """Return the size and SHA-256 of the bundle written to ``output``, left at its end."""
    digest = hashlib.sha256()
    size = 0
    output.seek(0)
    for piece in iter(lambda: output.read(1 << 20), b""):
        digest.update(piece)
        size += len(piece)
    return size, digest.hexdigest()
