"""``exchange verify`` and the public ``/verify`` page: valid, tampered, unknown signer."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.conftest import csrf_token
from tests.documents.bundles import annex_pdf, build, flip_byte_in_signed_content, source

ANNEX = annex_pdf(3, "Statement")


@pytest.fixture
def bundles(app, identity, foreign_identity, tmp_path) -> dict[str, Path]:
    """Return a valid bundle, a tampered copy and a bundle signed under another node's CA."""
    valid = tmp_path / "valid.pdf"
    result = build(identity, valid, [source("statement.pdf", ANNEX)])
    foreign = tmp_path / "foreign.pdf"
    build(foreign_identity, foreign, [source("statement.pdf", ANNEX)])
    return {
        "valid": valid,
        "tampered": flip_byte_in_signed_content(valid, tmp_path / "tampered.pdf"),
        "foreign": foreign,
        "qr": Path(result.qr_payload),  # not a path: carried along for the page's test
    }


def test_exchange_verify_exit_status_and_report(runner, bundles, tmp_path):
    result = runner.invoke(args=["verify", str(bundles["valid"])])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid")
    assert "signed by SN-CA (The Exchange)" in result.output
    assert "1. letter.pdf pages 3-4" in result.output
    assert "2. statement.pdf pages 5-7 sha256" in result.output

    result = runner.invoke(args=["verify", str(bundles["tampered"])])
    assert result.exit_code == 1 and result.output.startswith("tampered"), result.output
    assert "statement.pdf" not in result.output

    result = runner.invoke(args=["verify", str(bundles["foreign"])])
    assert result.exit_code == 2 and result.output.startswith("unknown_signer"), result.output

    plain = tmp_path / "plain.pdf"
    plain.write_bytes(ANNEX)
    result = runner.invoke(args=["verify", str(plain)])
    assert result.exit_code == 1 and result.output.startswith("unsigned"), result.output


def test_exchange_verify_trusts_a_partner_ca_given_on_the_command_line(
    runner, bundles, foreign_identity, tmp_path
):
    ca = tmp_path / "partner-ca.pem"
    ca.write_bytes(foreign_identity.chain[0].dump() and _pem(foreign_identity.chain[0].dump()))
    result = runner.invoke(args=["verify", "--trust", str(ca), str(bundles["foreign"])])
    assert result.exit_code == 0 and result.output.startswith("valid"), result.output


def _pem(der: bytes) -> bytes:
    import base64

    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"


def _post(client, path: Path, url: str = "/verify"):  # type: ignore[no-untyped-def]
    token = csrf_token(client, url)
    return client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(path.read_bytes()), path.name)},
        content_type="multipart/form-data",
    )


def test_verify_page_needs_no_login_and_shows_verdict_signer_and_index(app, bundles):
    client = app.test_client()
    page = client.get("/verify")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.get_data(True)

    response = _post(client, bundles["valid"])
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-verdict="valid"' in html and "SN-CA" in html and "statement.pdf" in html
    assert "5–7" in html

    response = _post(client, bundles["tampered"])
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-verdict="tampered"' in html
    assert "statement.pdf" not in html  # no index from a file whose signature fails

    response = _post(client, bundles["foreign"])
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-verdict="unknown_signer"' in html


def test_verify_page_compares_the_file_with_the_scanned_code(app, bundles):
    client = app.test_client()
    qr = str(bundles["qr"])
    query = qr.split("?", 1)[1]
    response = _post(client, bundles["valid"], f"/verify?{query}")
    html = response.get_data(as_text=True)
    assert "The file matches the code you scanned." in html
    other = query.replace("b=", "b=x")
    response = _post(client, bundles["valid"], f"/verify?{other}")
    assert "does not match the code you scanned" in response.get_data(as_text=True)


def test_verify_page_in_french_and_portuguese(app, bundles):
    for lang, words in (("fr", "Valide : le dossier est intact"), ("pt", "Válido: o processo")):
        client = app.test_client()
        client.post("/language", data={"locale": lang, "csrf_token": csrf_token(client, "/verify")})
        html = _post(client, bundles["valid"]).get_data(as_text=True)
        assert words in html, lang


def test_verify_page_refuses_a_post_without_csrf_token(app, bundles):
    client = app.test_client()
    client.get("/verify")
    response = client.post(
        "/verify",
        data={"file": (io.BytesIO(bundles["valid"].read_bytes()), "b.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400


@pytest.mark.parametrize("settings_overrides", [{"max_upload_mb": 1}])
def test_verify_page_refuses_an_oversized_upload(app, settings_overrides):
    client = app.test_client()
    token = csrf_token(client, "/verify")
    big = b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024)  # beyond 4 x 1 MB
    body = (
        b'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + token.encode()
        + b'\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + big + b"\r\n--b--\r\n"
    )
    # A body in memory: the test client spools a large form to a file it never closes.
    response = client.post("/verify", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 413


@pytest.mark.parametrize("settings_overrides", [{"login_rate_limit": "2 per minute"}])
def test_verify_page_is_rate_limited(app, bundles, settings_overrides):
    client = app.test_client()
    statuses = [_post(client, bundles["valid"]).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_exchange_verify_hands_a_file_that_is_no_pdf_to_the_envelope_check(runner, tmp_path):
    envelope = tmp_path / "msg.jwe"
    envelope.write_bytes(b"eyJhbGciOiJFZERTQSJ9.e30.c2ln")
    result = runner.invoke(args=["verify", str(envelope)])
    assert result.exit_code == 1 and result.output.startswith("error: "), result.output


def test_a_revision_appended_after_the_signature_is_tampering(runner, bundles, tmp_path):
    import shutil

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    updated = tmp_path / "updated.pdf"
    shutil.copy(bundles["valid"], updated)
    with updated.open("r+b") as fh:  # only the document information: what pyHanko tolerates
        writer = IncrementalPdfFileWriter(fh, strict=False)
        writer.set_info(
            generic.DictionaryObject(
                {generic.NameObject("/Title"): generic.pdf_string("Another title")}
            )
        )
        writer.write_in_place()
    result = runner.invoke(args=["verify", str(updated)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("tampered: the file was changed after it was signed")
