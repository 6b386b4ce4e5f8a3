"""Annex uploads streamed to encrypted staging: the limit, the early refusal of a wrong type, an
interrupted upload, and the seekable decrypting view that checks and downloads read through."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import time
from pathlib import Path

import pytest

from exchange.envelopes import EnvelopeError
from exchange.envelopes import stores as envelope_stores
from exchange.extensions import db
from exchange.mla.models import Annex, MlaRequest
from exchange.mla.uploads import StagedUpload
from tests import evidence_http
from tests.conftest import DEFAULT_PASSWORD, totp_code

MIB = 1 << 20


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """A node that takes annexes of up to 2 MiB, other bodies of up to 1 MiB."""
    return {"max_annex_mb": 2, "max_upload_mb": 1}


def _jpeg(size: int, seed: int = 3) -> bytes:
    return b"".join(evidence_http.jpeg_pieces(size, seed))


def _left_behind(app) -> list[Path]:  # type: ignore[no-untyped-def]
    """Return the staging files and blobs under the instance folder."""
    instance = Path(app.instance_path)
    return [p for p in (instance / "uploads").glob("*") if p.is_file()] + [
        p for p in (instance / "blobs").rglob("*") if p.is_file()
    ]


def _signed_in(live_server: str, user):  # type: ignore[no-untyped-def]
    """Return an HTTP session of ``user`` on the live server (bodies over 500 KB leave Werkzeug's
    test client holding a temporary file, so these tests speak HTTP to a real server)."""
    db.session.commit()
    return evidence_http.sign_in(live_server, user.email, DEFAULT_PASSWORD, lambda: totp_code(user))


def _post(session, url: str, content: bytes, lang: str = "en"):  # type: ignore[no-untyped-def]
    return session.post(
        url,
        data={"csrf_token": evidence_http.csrf(session, url)},
        files={"file": ("scan.jpg", content)},
        headers={"Accept-Language": lang},
        allow_redirects=False,
        timeout=60,
    )


def test_an_annex_over_the_portal_limit_of_other_bodies_is_taken(
    app, make_user, make_request, live_server
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    session = _signed_in(live_server, prosecutor)
    content = _jpeg(3 * MIB // 2)  # over max_upload_mb, under max_annex_mb
    base = f"{live_server}/requests/{request.public_id}"
    answer = _post(session, f"{base}/edit/annexes", content)
    assert answer.status_code == 303
    digest = hashlib.sha256(content).hexdigest()
    download = session.get(f"{base}/annexes/{digest}", timeout=60)
    assert download.status_code == 200 and download.content == content
    assert download.headers["Content-Length"] == str(len(content))
    assert not list((Path(app.instance_path) / "uploads").iterdir())
    # Other routes keep the ordinary limit.
    too_big = session.post(f"{live_server}/cases/new", data={"x": "y" * (2 * MIB)}, timeout=60)
    assert too_big.status_code == 413


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "The file is too large."),
        ("fr", "Le fichier est trop volumineux."),
        ("pt", "O ficheiro é demasiado grande."),
    ],
)
def test_an_annex_over_the_limit_is_refused_in_the_users_language_nothing_kept(
    app, make_user, make_request, live_server, lang, text
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    session = _signed_in(live_server, prosecutor)
    # Over the annex limit, but its body within the room left for the form's other fields:
    # counted while it streams, refused when it ends.
    url = f"{live_server}/requests/{request.public_id}/edit/annexes"
    answer = _post(session, url, _jpeg(2 * MIB + 4096), lang)
    assert answer.status_code == 400
    assert text in answer.text
    assert _left_behind(app) == []
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).annexes == []


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "The file is larger than 2 MB, the largest this node accepts."),
        ("fr", "Le fichier dépasse 2 Mo, la taille la plus grande que ce nœud accepte."),
        ("pt", "O ficheiro excede 2 MB, o maior tamanho que este nó aceita."),
    ],
)
def test_a_body_over_the_limit_is_refused_before_it_is_read(
    app, make_user, make_request, live_server, lang, text
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    session = _signed_in(live_server, prosecutor)
    url = f"{live_server}/requests/{request.public_id}/edit/annexes"
    answer = _post(session, url, _jpeg(4 * MIB), lang)
    assert answer.status_code == 413
    assert text in answer.text
    assert _left_behind(app) == []


def test_a_wrong_type_is_refused_on_its_first_bytes(app):
    folder = Path(app.instance_path) / "uploads"
    folder.mkdir(exist_ok=True)
    with app.app_context():
        staged = StagedUpload(folder, 10 * MIB)
        assert staged.path.exists()
        staged.write(b"MZ\x90\x00\x03\x00\x00\x00")  # a Windows program's head
        assert staged.refused == "bad_file_type"
        assert not staged.path.exists()  # nothing more is kept of it
        staged.write(b"\x00" * MIB)
        assert staged.size == 8  # the rest is read off the wire and dropped, not counted
        staged.close()


def test_a_wrong_type_through_the_portal_is_explained(app, make_user, make_request, live_server):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    session = _signed_in(live_server, prosecutor)
    url = f"{live_server}/requests/{request.public_id}/edit/annexes"
    answer = _post(session, url, b"MZ" + b"\x00" * MIB, "fr")
    assert answer.status_code == 400
    assert "Seuls les fichiers PDF" in answer.text
    assert _left_behind(app) == []


def test_the_staged_file_is_encrypted_and_read_back_by_segments(app):
    folder = Path(app.instance_path) / "uploads"
    folder.mkdir(exist_ok=True)
    content = _jpeg(3 * MIB + 12345)
    with app.app_context():
        staged = StagedUpload(folder, 10 * MIB)
        for at in range(0, len(content), 65536):
            staged.write(content[at : at + 65536])
        staged.finish()
        raw = staged.path.read_bytes()
        assert content[100:200] not in raw and len(raw) > len(content)
        assert staged.sha256 == hashlib.sha256(content).hexdigest()
        with staged.open() as view:
            view.seek(-20, io.SEEK_END)
            assert view.read() == content[-20:]
            view.seek(MIB + 7)
            assert view.read(2 * MIB) == content[MIB + 7 : 3 * MIB + 7]
        staged.close()
        assert not staged.path.exists()

        # Cut at a segment boundary, the stream no longer decrypts its (new) last segment.
        out = io.BytesIO()
        envelope_stores.encrypt_file(io.BytesIO(content), out, context="c")
        cut = out.getvalue()[: 8 + 2 * (1 << 20)]
        view = envelope_stores.open_file(io.BytesIO(cut), context="c")
        with pytest.raises(EnvelopeError):
            view.seek(-1, io.SEEK_END)
            view.read()
        with pytest.raises(EnvelopeError):  # under another context it does not open at all
            envelope_stores.open_file(io.BytesIO(out.getvalue()), context="other")


def test_an_interrupted_upload_leaves_nothing_behind(app, make_user, make_request, live_server):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    public_id = request.public_id
    db.session.commit()
    session = evidence_http.sign_in(
        live_server,
        prosecutor.email,
        DEFAULT_PASSWORD,
        lambda: totp_code(prosecutor),
    )
    url = f"{live_server}/requests/{public_id}/edit/annexes"
    token = evidence_http.csrf(session, url)
    boundary = "----cut"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    host, port = live_server.split("//")[1].split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            (
                f"POST /requests/{public_id}/edit/annexes HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {len(head) + 2 * MIB}\r\nCookie: {cookies}\r\n\r\n"
            ).encode()
            + head
        )
        sent = 0
        for piece in evidence_http.jpeg_pieces(2 * MIB - 100):
            sock.sendall(piece[: MIB - sent])
            sent += len(piece)
            if sent >= MIB:
                break
        staging = Path(app.instance_path) / "uploads"
        deadline = time.monotonic() + 10
        while not any(staging.glob(".upload-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(staging.glob(".upload-*"))  # it was being received, encrypted
    deadline = time.monotonic() + 15  # the client is gone: the server drops what it had
    while _left_behind(app) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _left_behind(app) == []
    db.session.expire_all()
    assert db.session.query(Annex).count() == 0


def test_the_worker_sweeps_staging_files_a_killed_process_left(app):
    from exchange.core import background
    from exchange.mla.uploads import STAGING_MAX_AGE, sweep_staging

    folder = Path(app.instance_path) / "uploads"
    folder.mkdir(exist_ok=True)
    old, fresh = folder / ".upload-old.part", folder / ".upload-fresh.part"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    stale = time.time() - STAGING_MAX_AGE - 60
    os.utime(old, (stale, stale))
    assert "uploads" in background.passes(app)
    assert sweep_staging(app) == 1
    assert not old.exists() and fresh.exists()
