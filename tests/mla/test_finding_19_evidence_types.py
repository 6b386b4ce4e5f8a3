"""Finding 19 (shared/reference/security-review.md): the upload type check was a 5-byte prefix
test, so active and polyglot files were accepted and forwarded. An annex is now one of an
allow-list of types, each checked by its structure, on upload and on receipt from a peer."""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject

from exchange.extensions import db
from exchange.mla import services
from exchange.mla.models import Annex, MlaRequest
from exchange.mla.services import MlaError
from tests import files
from tests.conftest import csrf_token, login
from tests.mla import peer

# The three files of the review.
REVIEW_FILES = {
    "js.pdf": files.pdf_with_open_action_script(),
    "html-behind-a-pdf-prefix.pdf": b"%PDF-1.4\n<html><script>alert(document.domain)</script></html>",
    "65536x1-no-data.png": files.png_header_only(65536, 1),
}
ACTIVE_PDF = {
    "en": "This PDF contains active content",
    "fr": "Ce PDF contient des éléments actifs",
    "pt": "Este PDF contém conteúdo ativo",
}
FLATTEN = {"en": "Print to PDF", "fr": "Imprimer en PDF", "pt": "Imprimir para PDF"}


def _upload(app, user, request, name: str, data: bytes, language: str = "en"):  # type: ignore[no-untyped-def]
    """Upload a file through the draft's annex form; return the response."""
    client = app.test_client()
    login(client, user)
    url = f"/requests/{request.public_id}/edit/annexes"
    token = csrf_token(client, url)
    return client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers={"Accept-Language": language},
    )


@pytest.mark.parametrize("name", sorted(REVIEW_FILES))
def test_finding_19_the_reviews_files_are_refused(app, make_user, make_request, name):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    answer = _upload(app, prosecutor, request, name, REVIEW_FILES[name])
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    expected = {
        "js.pdf": "This PDF contains active content",
        "html-behind-a-pdf-prefix.pdf": "This PDF cannot be read",
        "65536x1-no-data.png": "This image is damaged or incomplete",
    }[name]
    assert expected in text
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).annexes == []
    assert list((Path(app.instance_path) / "blobs").glob("*/*")) == []


@pytest.mark.parametrize("language", ["en", "fr", "pt"])
def test_finding_19_an_active_pdf_is_refused_with_the_way_to_flatten_it(
    app, make_user, make_request, language
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    answer = _upload(app, prosecutor, request, "js.pdf", REVIEW_FILES["js.pdf"], language)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert ACTIVE_PDF[language] in text and FLATTEN[language] in text


def _pdf(change) -> bytes:  # type: ignore[no-untyped-def]
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _open_action(action: NameObject):  # type: ignore[no-untyped-def]
    """Return a change that makes a PDF run ``action`` when it is opened."""

    def change(writer: PdfWriter) -> None:
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
            {NameObject("/S"): action}
        )

    return change


def _open_on_first_page(writer: PdfWriter) -> None:
    """Open on the first page, fitted: a destination, which is no action (ISO 32000-2 §12.3.2)."""
    page = writer.pages[0].indirect_reference
    writer._root_object[NameObject("/OpenAction")] = ArrayObject([page, NameObject("/Fit")])


def _jpeg(width: int, height: int, scan: bytes = b"\x12\x34\xff\x00\x56") -> bytes:
    """Return the marker structure of a baseline JPEG (T.81): enough for the structural check."""
    frame = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    scan_header = b"\x01\x01\x00\x00\x3f\x00"
    return (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", 16)
        + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + b"\xff\xc0"
        + struct.pack(">H", 2 + len(frame))
        + frame
        + b"\xff\xda"
        + struct.pack(">H", 2 + len(scan_header))
        + scan_header
        + scan
        + b"\xff\xd9"
    )


def _png_with_idat(width: int, height: int, raw: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + files.png_chunk(b"IHDR", header)
        + files.png_chunk(b"IDAT", zlib.compress(raw))
        + files.png_chunk(b"IEND", b"")
    )


REFUSED = {
    "embedded file": (_pdf(lambda w: w.add_attachment("payload.exe", b"MZ")), "active_pdf"),
    "launch action": (_pdf(_open_action(NameObject("/Launch"))), "active_pdf"),
    "uri on open": (_pdf(_open_action(NameObject("/URI"))), "active_pdf"),
    "password": (_pdf(lambda w: w.encrypt("secret", algorithm="AES-256")), "encrypted_pdf"),
    "html after %%EOF": (files.pdf() + b"<html><script>alert(1)</script></html>", "bad_pdf"),
    "html ending in %%EOF": (b"%PDF-1.4\n<html></html>\n%%EOF\n", "bad_pdf"),
    "old prefix test's PDF": (b"%PDF-1.4 hello", "bad_pdf"),
    "png, bad IHDR CRC": (files.png()[:29] + b"\x00\x00\x00\x00" + files.png()[33:], "bad_image"),
    "png, zip behind IEND": (files.png() + b"PK\x03\x04", "bad_image"),
    "png, too little data": (_png_with_idat(4, 3, b"\x00" * 10), "bad_image"),
    "png, 20001 wide": (_png_with_idat(20_001, 1, b"\x00" * 60_004), "bad_image"),
    "jpeg without frame": (b"\xff\xd8\xff\xd9", "bad_image"),
    "jpeg without EOI": (_jpeg(16, 16)[:-2], "bad_image"),
    "jpeg, height left to a DNL": (_jpeg(1, 0), "bad_image"),
    "jpeg, html behind EOI": (_jpeg(16, 16) + b"<html>", "bad_image"),
    "html": (b"<html><script>alert(1)</script></html>", "bad_file_type"),
    "text": (b"statement", "bad_file_type"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_finding_19_each_type_is_checked_by_its_structure(case):
    data, code = REFUSED[case]
    with pytest.raises(MlaError) as refused:
        services.check_evidence(io.BytesIO(data))
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (files.pdf(), "application/pdf"),
        (_pdf(lambda w: w.encrypt("", "owner", algorithm="AES-128")), "application/pdf"),
        (_pdf(_open_on_first_page), "application/pdf"),
        (files.png(), "image/png"),
        (_jpeg(640, 480), "image/jpeg"),
    ],
)
def test_finding_19_valid_files_pass(data, media_type):
    assert services.check_evidence(io.BytesIO(data)) == media_type


@pytest.mark.browser
def test_finding_19_a_pdf_and_images_made_by_chromium_are_accepted(
    app, make_user, make_request, browser
):
    tab = browser.new_page()
    try:
        tab.set_content(
            "<h1>Procès-verbal d'audition</h1><p>Témoin entendu le 2 décembre 2026 à Kédougou.</p>"
        )
        made = {
            "pv.pdf": (tab.pdf(format="A4"), "application/pdf"),
            "page.png": (tab.screenshot(type="png"), "image/png"),
            "page.jpg": (tab.screenshot(type="jpeg", quality=80), "image/jpeg"),
        }
    finally:
        tab.close()
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    client = app.test_client()
    login(client, prosecutor)
    for name, (data, media_type) in made.items():
        assert _upload(app, prosecutor, request, name, data).status_code == 303, name
        db.session.expire_all()
        annex = next(
            a
            for a in db.session.get(MlaRequest, request.id).annexes
            if a.content_type == media_type
        )
        download = client.get(f"/requests/{request.public_id}/annexes/{annex.sha256}")
        assert download.status_code == 200 and download.data == data


def test_finding_19_an_upload_is_read_as_a_stream(app, make_user, make_request, tmp_path):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    source = tmp_path / "scan.png"
    source.write_bytes(files.png(1200, 900))
    with open(source, "rb") as stream:
        annex = services.add_annex(
            db.session,
            prosecutor,
            request,
            filename="scan.png",
            data=stream,
            kind="supporting",
            blobs_dir=Path(app.instance_path) / "blobs",
            max_bytes=10 << 20,
        )
    assert annex.content_type == "image/png" and annex.size == source.stat().st_size
    assert services.read_annex(Path(app.instance_path) / "blobs", annex) == source.read_bytes()


def test_finding_19_a_peer_annex_gets_the_same_check(app, make_user, tmp_path):
    envelopes = peer.envelopes_for("NG-CA", "SN-CA")
    conversation = str(uuid.uuid4())
    script = files.pdf_with_open_action_script()
    body = peer.request_body(conversation, annexes=[peer.annex_entry(script)])
    sealed = peer.seal(
        envelopes, body, files=(("statement.pdf", script, "application/pdf"),), blob_dir=tmp_path
    )
    assert peer.deliver(envelopes, sealed) == "rejected:unacceptable-attachment"
    assert db.session.query(MlaRequest).filter_by(conversation_id=conversation).count() == 0
    assert db.session.query(Annex).count() == 0

    # The same message with a flattened file is delivered, and the file kept.
    clean = files.pdf("Statement, printed to PDF")
    conversation = str(uuid.uuid4())
    body = peer.request_body(conversation, annexes=[peer.annex_entry(clean)])
    sealed = peer.seal(
        envelopes, body, files=(("statement.pdf", clean, "application/pdf"),), blob_dir=tmp_path
    )
    assert peer.deliver(envelopes, sealed) == "delivered"
    received = db.session.query(MlaRequest).filter_by(conversation_id=conversation).one()
    assert [a.content_type for a in received.annexes] == ["application/pdf"]
    assert services.read_annex(Path(app.instance_path) / "blobs", received.annexes[0]) == clean
