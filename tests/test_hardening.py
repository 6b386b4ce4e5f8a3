"""Local hardening: owner-only instance files, and log lines that client input cannot forge."""

from __future__ import annotations

import io
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import request

from exchange import create_app
from exchange.settings import Settings

FORGED = "[2026-11-28 23:59:59,000] INFO in auth: admin@sn.demo signed in from 10.0.0.1"


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """Run a test under the usual umask 022, as the review did, and put the old one back."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    """Return the permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


def test_finding_15_instance_files_are_owner_only(tmp_path, loose_umask):
    """The database and its -wal and -shm, the development secret and blobs: owner-only."""
    instance = tmp_path / "instance"
    settings = Settings(
        env="test", instance_path=instance, keys_dir=tmp_path / "keys", key_passphrase="x"
    ).checked()
    app = create_app(settings)
    from exchange.extensions import db

    with app.app_context():
        db.create_all()
        db.session.execute(db.text("CREATE TABLE probe (x INTEGER)"))
        db.session.commit()
        files = {p.name: _mode(p) for p in instance.iterdir()}
        # Blobs are written by the area that stores annexes with plain mkdir and write_bytes:
        # the process umask that the app sets is what makes them owner-only.
        blob = instance / "blobs" / "ab" / "abcdef"
        blob.parent.mkdir(parents=True)
        blob.write_bytes(b"sealed")
        db.session.remove()
        db.engine.dispose()
    assert _mode(instance) == 0o700
    assert files == {
        "secret_key": 0o600,
        "exchange.sqlite": 0o600,
        "exchange.sqlite-wal": 0o600,
        "exchange.sqlite-shm": 0o600,
    }
    assert _mode(instance / "blobs") == _mode(blob.parent) == 0o700
    assert _mode(blob) == 0o600


def test_finding_15_existing_open_instance_folder_is_closed(tmp_path, loose_umask):
    """A folder made earlier under umask 022 is closed at start, and with it every file inside."""
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    (instance / "exchange.sqlite").write_bytes(b"")
    assert _mode(instance) == 0o755
    create_app(
        Settings(
            env="test",
            instance_path=instance,
            secret_key="s" * 40,
            keys_dir=tmp_path / "keys",
            key_passphrase="x",
        ).checked()
    )
    assert _mode(instance) == 0o700


def test_finding_17_unhandled_error_cannot_forge_a_log_line(app, client):
    """A CR, LF or NUL in the path (or in an exception's message) stays inside one record."""

    def fail_on_probe() -> None:
        """Fail the way an unexpected bug does, quoting the client's input in the message."""
        if request.path.startswith("/probe"):
            raise RuntimeError(f"cannot handle {request.path}")

    # First of all hooks, before the access gate, as a crash in any view would be.
    app.before_request_funcs.setdefault(None, []).insert(0, fail_on_probe)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    # Flask's default format, the one the review's forged line imitates.
    handler.setFormatter(
        logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
    )
    logger = logging.getLogger("exchange.errors")
    logger.addHandler(handler)
    try:
        response = client.get(f"/probe%0a{quote(FORGED)}%0d%0a{quote(FORGED)}%00")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 500
    output = stream.getvalue()
    lines = output.splitlines()
    assert lines[0].endswith(f"unhandled error on GET /probe\\n{FORGED}\\r\\n{FORGED}\\x00")
    assert not any(line.startswith(FORGED[:26]) for line in lines)
    assert all(line.startswith("  | ") for line in lines[1:])
    # The exception's message keeps its line breaks, each continuation marked as such.
    assert f"  | RuntimeError: cannot handle /probe\n  | {FORGED}\n" in output
    assert "\x00" not in output and "\r" not in output
