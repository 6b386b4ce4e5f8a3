"""Annexes: type from content, size limit, stored encrypted under blobs/ by SHA-256, downloaded
only as attachments."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from exchange.extensions import db
from exchange.mla import services
from exchange.mla.services import MlaError
from tests import files
from tests.conftest import csrf_token, login

PDF = files.pdf("Statement of witness Blessing")
PNG = files.png()
HTML = b"<html><script>alert(1)</script></html>"


def test_upload_detects_type_and_stores_encrypted(app, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    client = app.test_client()
    login(client, prosecutor)
    url = f"/requests/{request.public_id}/edit/annexes"
    token = csrf_token(client, url)
    response = client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(PDF), "statement.html")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    db.session.expire_all()
    annex = db.session.get(type(request), request.id).annexes[0]
    digest = hashlib.sha256(PDF).hexdigest()
    assert annex.sha256 == digest and annex.content_type == "application/pdf"  # not from the name
    blob = Path(app.instance_path) / "blobs" / request.public_id / digest
    assert (
        blob.exists() and b"Blessing" not in blob.read_bytes() and b"%PDF" not in blob.read_bytes()
    )

    download = client.get(f"/requests/{request.public_id}/annexes/{digest}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.mimetype == "application/pdf"


def test_html_and_unknown_content_are_refused(app, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    client = app.test_client()
    login(client, prosecutor)
    url = f"/requests/{request.public_id}/edit/annexes"
    token = csrf_token(client, url)
    response = client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(HTML), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Only PDF files and PNG or JPEG images are accepted." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(request), request.id).annexes == []


def test_size_limit_and_empty_file(app, make_user, make_request, tmp_path):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    with pytest.raises(MlaError, match="too_large"):
        services.add_annex(
            db.session,
            prosecutor,
            request,
            filename="a.png",
            data=PNG,
            kind="supporting",
            blobs_dir=tmp_path,
            max_bytes=10,
        )
    with pytest.raises(MlaError, match="empty_file"):
        services.add_annex(
            db.session,
            prosecutor,
            request,
            filename="a.png",
            data=b"",
            kind="supporting",
            blobs_dir=tmp_path,
            max_bytes=10,
        )
    annex = services.add_annex(
        db.session,
        prosecutor,
        request,
        filename="../../etc/passwd.png",
        data=PNG,
        kind="supporting",
        blobs_dir=tmp_path,
        max_bytes=1000,
    )
    assert annex.content_type == "image/png"
    from exchange.mla.payloads import annex_filename

    assert annex_filename(annex) == "passwd.png"
    with pytest.raises(MlaError):
        services.blob_path(tmp_path, request.public_id, "../" + "a" * 61)
    with pytest.raises(MlaError):
        services.blob_path(tmp_path, "..", "a" * 64)


def test_investigator_cannot_add_supporting_annexes(
    app, make_user, make_case, make_request, tmp_path
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    investigator = make_user("investigator", "SN-TGI-TAMBA")
    request = make_request(prosecutor, case=make_case(prosecutor, team=(investigator,)))
    with pytest.raises(MlaError, match="forbidden"):
        services.add_annex(
            db.session,
            investigator,
            request,
            filename="a.pdf",
            data=PDF,
            kind="supporting",
            blobs_dir=tmp_path,
            max_bytes=10_000,
        )
