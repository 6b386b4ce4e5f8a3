"""The signed bundle: pyHanko and poppler call it valid, and invalid after one flipped byte; the
index gives each item's pages and digest; annex pages are merged byte for byte."""

from __future__ import annotations

import hashlib
import io
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from exchange.documents import rendering
from exchange.documents.assembly import _page_context, qr_data_uri
from exchange.documents.signing import run_coroutine
from exchange.documents.verify import content_digest, trust_roots, verify_pdf
from exchange.envelopes.stores import key_store
from tests.documents.bundles import (
    LETTER,
    PNG,
    annex_pdf,
    build,
    flip_byte_in_signed_content,
    meta,
    nss_database,
    pdfsig,
    source,
)

ANNEX = annex_pdf(20, "Witness statement")


def _pyhanko_status(path: Path, ca_pem: bytes):  # type: ignore[no-untyped-def]
    from pyhanko.keys import load_certs_from_pemder_data

    roots = list(load_certs_from_pemder_data(ca_pem))
    with path.open("rb") as fh:
        reader = PdfFileReader(fh, strict=False)
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        signature = reader.embedded_signatures[-1]
        # A browser test's running event loop would refuse pyHanko's synchronous call.
        return run_coroutine(lambda: async_validate_pdf_signature(signature, context))


def test_pyhanko_and_pdfsig_report_valid_then_invalid_after_one_flipped_byte(
    app, identity, tmp_path
):
    bundle = tmp_path / "bundle.pdf"
    build(identity, bundle, [source("statement.pdf", ANNEX)])
    ca_pem = key_store().ca_certificate_pem()

    status = _pyhanko_status(bundle, ca_pem)
    assert status.bottom_line and status.intact and status.valid and status.trusted
    nss = nss_database(tmp_path / "nss", ca_pem)
    report = pdfsig(nss, bundle)
    assert "Signature is Valid." in report and "Certificate is Trusted." in report, report
    assert "ETSI.CAdES.detached" in report and "Total document signed" in report
    assert verify_pdf(bundle.read_bytes(), trust_roots(key_store())).verdict == "valid"

    tampered = flip_byte_in_signed_content(bundle, tmp_path / "tampered.pdf")
    status = _pyhanko_status(tampered, ca_pem)
    assert not status.intact and not status.bottom_line
    report = pdfsig(nss, tampered)
    assert "Signature is Valid." not in report and "Digest Mismatch" in report, report
    verdict = verify_pdf(tampered.read_bytes(), trust_roots(key_store()))
    assert verdict.verdict == "tampered" and not verdict.items


def test_a_bundle_signed_under_another_ca_is_an_unknown_signer(
    app, identity, foreign_identity, tmp_path
):
    bundle = tmp_path / "foreign.pdf"
    build(foreign_identity, bundle, [source("statement.pdf", ANNEX)])
    verdict = verify_pdf(bundle.read_bytes(), trust_roots(key_store()))
    assert verdict.verdict == "unknown_signer" and verdict.authority == "SN-CA"
    assert verdict.key_thumbprint == foreign_identity.kid != identity.kid
    assert not verdict.items  # an index nobody we trust vouches for is not shown
    report = pdfsig(nss_database(tmp_path / "nss", key_store().ca_certificate_pem()), bundle)
    assert "Signature is Valid." in report and "Certificate is Trusted." not in report, report


def test_index_gives_page_ranges_and_digests_and_annex_pages_are_copied_as_they_are(
    app, identity, tmp_path
):
    bundle = tmp_path / "bundle.pdf"
    second = annex_pdf(3, "Bank record")
    result = build(
        identity,
        bundle,
        [
            source("statement.pdf", ANNEX),
            source("photo.png", PNG, "image/png"),
            source("bank.pdf", second),
        ],
    )
    items = result.manifest["items"]
    assert [i["name"] for i in items] == ["letter.pdf", "statement.pdf", "photo.png", "bank.pdf"]
    assert [(i["first_page"], i["last_page"]) for i in items] == [
        (3, 4),
        (5, 24),
        (None, None),
        (25, 27),
    ]
    assert items[0]["sha256"] == hashlib.sha256(LETTER).hexdigest()
    assert items[1]["sha256"] == hashlib.sha256(ANNEX).hexdigest()
    assert items[2]["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert result.content_digest == content_digest(items)

    merged = PdfReader(bundle)
    assert len(merged.pages) == result.page_count == 27
    original = PdfReader(io.BytesIO(ANNEX))
    for n in range(20):  # each annex page keeps its own content stream, byte for byte
        kept = merged.pages[4 + n].get_contents()
        assert kept is not None and kept.get_data() == original.pages[n].get_contents().get_data()
        assert f"Witness statement page {n + 1} of 20" in merged.pages[4 + n].extract_text()
    assert "Bank record page 1 of 3" in merged.pages[24].extract_text()

    text = subprocess.run(
        ["pdftotext", "-f", "2", "-l", "2", str(bundle), "-"], capture_output=True, text=True
    ).stdout
    assert "INDEX OF DOCUMENTS" in text and "5–24" in text and "25–27" in text
    assert "transmitted separately, not reproduced" in text
    assert items[1]["sha256"] in text.replace("\n", "").replace("‐", "")
    verdict = verify_pdf(bundle.read_bytes(), trust_roots(key_store()))
    assert verdict.valid and verdict.items == items


def test_qr_code_carries_bundle_id_digest_and_key_and_points_to_verify(app, identity, tmp_path):
    bundle = tmp_path / "bundle.pdf"
    result = build(identity, bundle, [source("statement.pdf", ANNEX)])
    parts = urlsplit(result.qr_payload)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://dakar.exchange.example/verify"
    query = parse_qs(parts.query)
    assert query == {
        "b": [result.manifest["bundle_id"]],
        "d": [result.content_digest],
        "k": [identity.kid],
    }
    # The SVG of that payload is what the cover's HTML embeds (as a data: URI WeasyPrint draws).
    context = _page_context(
        meta(),
        identity,
        result.manifest["items"],
        result.qr_payload,
    )
    html = rendering.render_html("bundle_cover", "en", context)
    assert qr_data_uri(result.qr_payload) in html.replace("&#39;", "'").replace("&amp;", "&")
    cover = PdfReader(bundle).pages[0]
    drawing = cover.get_contents().get_data()  # type: ignore[union-attr]
    assert drawing.count(b" re") + drawing.count(b" l\n") > 100  # the code's modules, as vectors
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(bundle), "-"], capture_output=True, text=True
    ).stdout.replace("\n", "")
    assert result.content_digest in text and identity.kid in text


@pytest.mark.parametrize(
    ("lang", "cover_words", "index_words"),
    [
        ("en", "Bundle of documents", "Index of documents"),
        ("fr", "Dossier de transmission", "Bordereau des pièces"),
        ("pt", "Processo de transmissão", "Índice dos documentos"),
    ],
)
def test_cover_and_index_in_each_language(app, identity, tmp_path, lang, cover_words, index_words):
    bundle = tmp_path / f"bundle-{lang}.pdf"
    build(identity, bundle, [source("photo.png", PNG, "image/png")], lang=lang)
    text = subprocess.run(["pdftotext", str(bundle), "-"], capture_output=True, text=True).stdout
    assert cover_words.upper() in text and index_words.upper() in text
    assert "SN-CA/2026/0042" in text and "Federal Ministry of Justice of Nigeria" in text
    assert verify_pdf(bundle.read_bytes(), trust_roots(key_store())).valid


def test_progress_counts_every_annex_page_and_ends_at_the_total(app, identity, tmp_path):
    seen: list[tuple[int, int]] = []
    build(
        identity,
        tmp_path / "b.pdf",
        [source("statement.pdf", ANNEX)],
        progress=lambda done, total: seen.append((done, total)),
    )
    assert len(seen) >= 20 and seen[-1][0] == seen[-1][1] == 24
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_hostile_annex_names_embed_nothing_and_fetch_nothing(app, identity, tmp_path):
    import socket

    import pikepdf

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    names = [
        "<link rel=attachment href=file:///etc/passwd>.pdf",
        f"<img src=http://127.0.0.1:{port}/img>.png",
        f"<style>@import url(http://127.0.0.1:{port}/css);</style>.png",
        "<script>alert(1)</script>.png",
    ]
    bundle = tmp_path / "hostile.pdf"
    annexes = [source(names[0], annex_pdf(1))] + [source(n, PNG, "image/png") for n in names[1:]]
    try:
        build(identity, bundle, annexes)
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing asked for the hostile URLs
    finally:
        listener.close()
    with pikepdf.open(bundle) as pdf:
        assert "/EmbeddedFiles" not in pdf.Root.get("/Names", {})
        assert "/AF" not in pdf.Root
        for page in pdf.pages:
            assert all(a.get("/Subtype") != "/FileAttachment" for a in page.get("/Annots", []))
    text = subprocess.run(
        ["pdftotext", "-f", "2", "-l", "2", str(bundle), "-"], capture_output=True, text=True
    ).stdout.replace("\n", "")
    assert "<script>alert(1)</script>.png" in text and "etc/passwd" in text  # shown as text
