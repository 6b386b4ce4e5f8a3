"""A large annex uploaded through the portal's web process and downloaded back byte-identical,
the process's peak memory measured: neither the upload nor the download holds the file.

The web process is a child (``tests/evidence_http.py``); its peak resident memory (VmHWM) is
started again once it has served a sign-in and a small annex, so that the figure is that of the
large transfer, not of loading the application. The bound is on what the transfer adds to the
idle process: the application alone, loaded, is resident at about 95 MiB (its imports; see
tests/test_footprint.py), whatever the annexes do. Its peak over its whole life is higher: each
sign-in (and the import of exchange.auth.passwords) runs argon2id, which holds 64 MiB while it
runs; the figures report it beside the transfer's. ``EXCHANGE_EVIDENCE_SERVER=gunicorn`` serves
the portal by a gunicorn sync worker, as production does, instead of Werkzeug's threaded server.
``EXCHANGE_EVIDENCE_MB`` sets the size (300 MiB here; ``bench/evidence.py`` runs it with 1 GiB)
and ``EXCHANGE_EVIDENCE_REPORT`` a file for the figures.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from exchange.extensions import db
from exchange.mla.models import MlaRequest
from tests import evidence_http
from tests.conftest import DEFAULT_PASSWORD, totp_code

pytestmark = pytest.mark.slow

MIB = 1 << 20
SIZE = int(os.environ.get("EXCHANGE_EVIDENCE_MB", "300")) * MIB
# What the transfer may add to the resident memory of the web process, loaded and idle: a
# fraction of the file (a buffered upload, or a download read whole, adds the file's size).
GROWTH_LIMIT_KIB = 24 * 1024
SMALL = 64 * 1024


def _settings(app) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Return the settings the child process needs to be this test's node."""
    s = app.config["EXCHANGE"]
    return {
        "env": s.env,
        "database_url": s.database_url,
        "instance_path": str(s.instance_path),
        "secret_key": s.secret_key,
        "keys_dir": str(s.keys_dir),
        "key_passphrase": s.key_passphrase,
        "key_kdf_rounds": s.key_kdf_rounds,
    }


def test_a_large_annex_streams_up_and_down_in_bounded_memory(
    app, make_user, make_request, tmp_path
):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = make_request(prosecutor)
    public_id = request.public_id
    db.session.commit()
    server = os.environ.get("EXCHANGE_EVIDENCE_SERVER", "werkzeug")
    web = evidence_http.WebProcess(_settings(app), tmp_path / "web.log", server)
    try:
        session = evidence_http.sign_in(
            web.base, prosecutor.email, DEFAULT_PASSWORD, lambda: totp_code(prosecutor)
        )
        url = f"{web.base}/requests/{public_id}/edit/annexes"
        # A small annex first: the process has loaded what an upload and a download use.
        answer, small, _ = evidence_http.upload(
            session, url, evidence_http.jpeg_pieces(SMALL, seed=1), SMALL
        )
        assert answer.status == 303
        evidence_http.download(session, f"{web.base}/requests/{public_id}/annexes/{small}")
        idle = web.status("VmRSS")
        loaded_peak = web.status("VmHWM")  # loading the application and the first requests
        web.reset_peak()

        answer, sent, up_seconds = evidence_http.upload(
            session, url, evidence_http.jpeg_pieces(SIZE), SIZE
        )
        assert answer.status == 303, answer.status
        got, received, size, down_seconds = evidence_http.download(
            session, f"{web.base}/requests/{public_id}/annexes/{sent}"
        )
        peak = web.status("VmHWM")
    finally:
        web.stop()

    assert got.status_code == 200
    assert size == SIZE and received == sent  # byte-identical, hashed while streaming
    assert got.headers["Content-Length"] == str(SIZE)
    assert got.headers["Cache-Control"] == "no-store"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith("attachment")
    figures = {
        "size_mib": SIZE // MIB,
        "idle_rss_mib": round(idle / 1024, 1),
        "peak_mib": round(peak / 1024, 1),
        "growth_mib": round((peak - idle) / 1024, 1),
        "lifetime_peak_mib": round(max(peak, loaded_peak) / 1024, 1),
        "server": server,
        "upload_mib_s": round(SIZE / MIB / up_seconds, 1),
        "download_mib_s": round(SIZE / MIB / down_seconds, 1),
    }
    if os.environ.get("EXCHANGE_EVIDENCE_REPORT"):
        Path(os.environ["EXCHANGE_EVIDENCE_REPORT"]).write_text(json.dumps(figures))
    assert peak - idle < GROWTH_LIMIT_KIB, figures
    # Nothing staged is left, and the stored blob is the encrypted form of the file.
    instance = Path(app.instance_path)
    assert not list((instance / "uploads").iterdir())
    blob = instance / "blobs" / public_id / sent
    assert blob.stat().st_size > SIZE  # the segments' tags and the header
    db.session.expire_all()
    stored = db.session.get(MlaRequest, request.id)
    assert {a.sha256: a.size for a in stored.annexes}[sent] == SIZE
    blob.unlink()  # pytest keeps the folders of its last runs: not this blob, though
