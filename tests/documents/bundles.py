"""Helpers of the bundle tests: annexes with real pages, bundles built and signed, NSS databases."""

from __future__ import annotations

import hashlib
import io
import subprocess
from pathlib import Path
from typing import Any

from exchange.documents import rendering
from exchange.documents.bundle import AnnexSource, BundleMeta, BundleResult, build_bundle
from exchange.documents.signing import SigningIdentity
from tests import files


def annex_pdf(pages: int, label: str = "Annex") -> bytes:
    """Return a PDF of ``pages`` pages, each saying its number (rendered by WeasyPrint)."""
    body = "".join(
        f"<p style='page-break-after: always'>{label} page {n} of {pages}</p>"
        for n in range(1, pages + 1)
    )
    return rendering.html_to_pdf(f"<!DOCTYPE html><html><body>{body}</body></html>")


def source(name: str, data: bytes, media_type: str = "application/pdf") -> AnnexSource:
    """Return an annex source over bytes."""
    return AnnexSource(name, media_type, hashlib.sha256(data).hexdigest(), lambda: io.BytesIO(data))


LETTER = rendering.html_to_pdf(
    "<!DOCTYPE html><html><body><h1>Letter of request</h1><p>Two pages.</p>"
    "<p style='page-break-before: always'>Second page of the letter.</p></body></html>"
)
PNG = files.png()


def meta(lang: str = "en", bundle_id: str = "6f1c2f7e-0000-4000-8000-000000000001") -> BundleMeta:
    """Return the metadata of a test bundle."""
    return BundleMeta(
        bundle_id=bundle_id,
        lang=lang,
        verify_url="https://dakar.exchange.example/verify",
        request_reference="SN-CA/2026/0042",
        foreign_reference="NG/MLA/77",
        request_type="taking_evidence",
        requesting_authority="Ministère de la Justice du Sénégal",
        requested_authority="Federal Ministry of Justice of Nigeria",
        created_at="2026-12-02T10:00:00+00:00",
    )


def build(
    identity: SigningIdentity,
    path: Path,
    annexes: list[AnnexSource] | None = None,
    *,
    lang: str = "en",
    **kwargs: Any,
) -> BundleResult:
    """Build and sign a bundle into ``path``."""
    with path.open("w+b") as out:
        return build_bundle(LETTER, annexes or [], meta(lang), identity, out, **kwargs)


def flip_byte_in_signed_content(path: Path, out: Path) -> Path:
    """Copy a signed PDF with one bit flipped inside the first signed byte range."""
    data = bytearray(path.read_bytes())
    signature_at = data.index(b"/ByteRange")
    spot = signature_at // 2  # well inside the content the signature covers
    data[spot] ^= 0x01
    out.write_bytes(bytes(data))
    return out


def nss_database(folder: Path, ca_pem: bytes) -> str:
    """Create a throw-away NSS database trusting ``ca_pem``; return its ``sql:`` address."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ca.pem").write_bytes(ca_pem)
    subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"], check=True)
    subprocess.run(
        [
            "certutil",
            "-A",
            "-d",
            f"sql:{folder}",
            "-n",
            "CA",
            "-t",
            "CT,C,C",
            "-i",
            str(folder / "ca.pem"),
        ],
        check=True,
    )
    return f"sql:{folder}"


def pdfsig(nss: str, path: Path) -> str:
    """Return poppler's report on a PDF's signatures."""
    done = subprocess.run(
        ["pdfsig", "-nssdir", nss, str(path)], capture_output=True, text=True, timeout=60
    )
    return done.stdout + done.stderr


BUNDLE_PAGES = ("bundle_cover", "bundle_index")


def request_documents() -> list[str]:
    """Return the documents made from a request's context (not the bundle's own pages)."""
    return [d for d in rendering.documents() if d not in BUNDLE_PAGES]


def bundle_sample_context(lang: str) -> dict[str, Any]:
    """Return a fixed context of the bundle's cover and index (for the HTML snapshots)."""
    from exchange.documents.assembly import qr_data_uri, qr_payload
    from exchange.documents.verify import content_digest

    items = [
        {"kind": "letter", "name": "letter.pdf", "media_type": "application/pdf",
         "sha256": "1" * 64, "first_page": 3, "last_page": 4},
        {"kind": "supporting", "name": "audition.pdf", "media_type": "application/pdf",
         "sha256": "2" * 64, "first_page": 5, "last_page": 24},
        {"kind": "supporting", "name": "scene.png", "media_type": "image/png",
         "sha256": "3" * 64, "first_page": None, "last_page": None},
        {"kind": "result", "name": "report.pdf", "media_type": "application/pdf",
         "sha256": "4" * 64, "first_page": 25, "last_page": 25},
    ]  # fmt: skip
    digest = content_digest(items)
    bundle = meta(lang)
    payload = qr_payload(bundle.verify_url, bundle.bundle_id, digest, "k" * 43)
    return {
        "bundle": {
            "id": bundle.bundle_id,
            "created_at": bundle.created_at,
            "content_digest": digest,
            "key_thumbprint": "k" * 43,
            "signer": "SN-CA",
            "verify_url": bundle.verify_url,
            "template_version": "sample",
            "qr": qr_data_uri(payload),
            "qr_payload": payload,
        },
        "request": {
            "reference": bundle.request_reference,
            "foreign_reference": bundle.foreign_reference,
            "type": bundle.request_type,
            "requesting_authority": bundle.requesting_authority,
            "requested_authority": bundle.requested_authority,
        },
        "items": items,
    }
