"""The web process's footprint: what ``create_app()`` imports, and the memory it is resident in.

A web process only loads the application; the libraries that serve some requests only (PDF
parsing, signature verification, password strength, enrolment QR codes, incoming payloads'
schemas) or the command line only (Alembic) are imported where they are used. Issue 10 bounds
the web process's peak memory at 128 MiB while it carries a 1 GiB annex: the application alone
must stay well under it. Each check runs in a fresh interpreter, so that nothing this test
session imported counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Imported on first use, never by create_app(): a module here found loaded is a regression.
LAZY = (
    "weasyprint",  # rendering a document
    "pyhanko",  # signing or verifying a bundle
    "pyhanko_certvalidator",
    "aiohttp",  # pyHanko's timestamp client
    "pikepdf",  # assembling a bundle
    "pypdf",  # checking a PDF annex
    "PIL",
    "fontTools",
    "zxcvbn",  # setting a password
    "segno",  # drawing the enrolment QR code
    "jsonschema",  # checking an incoming payload
    "flask_migrate",  # ``exchange db`` and upgrades
    "alembic",
    "mako",
    "pygments",
    "schemathesis",  # test tools, never imported by exchange/
    "hypothesis",
)
# The resident memory of a process that has run create_app(): about 88 MiB here (it was about
# 140 MiB with the libraries above imported at start-up). The margin absorbs a different machine
# or a new route; a library of the size of those above, imported at start-up again, exceeds it.
IDLE_LIMIT_MIB = 110

CHILD = """
import json, sys
from pathlib import Path
from exchange import create_app
from exchange.settings import Settings
folder = Path(sys.argv[1])
app = create_app(Settings(
    env="test", database_url=f"sqlite:///{folder / 'node.db'}", instance_path=folder / "instance",
    secret_key="footprint-" + "x" * 40, keys_dir=folder / "keys",
))
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:"))
loaded = sorted({name.partition(".")[0] for name in sys.modules} & set(json.loads(sys.argv[2])))
commands = sorted(app.cli.list_commands(None))
# What uses the migrations still finds them: the first read sets Flask-Migrate up.
directory = app.extensions["migrate"].directory
print(json.dumps({
    "rss_kib": rss, "loaded": loaded, "commands": commands, "directory": directory,
    "migrate_loaded": "flask_migrate" in sys.modules, "db_command": "db" in app.cli.commands,
}))
"""


def _child(tmp_path: Path) -> dict[str, object]:
    """Run create_app() in a fresh interpreter; return what it had loaded and its memory."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), json.dumps(LAZY)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_create_app_imports_no_library_that_only_some_requests_or_commands_use(tmp_path):
    figures = _child(tmp_path)
    assert figures["loaded"] == [], figures["loaded"]
    # ``exchange db`` is still listed, and set up when something reads the migrations.
    assert "db" in figures["commands"]  # type: ignore[operator]
    assert figures["directory"] == str(ROOT / "migrations")
    assert figures["migrate_loaded"] and figures["db_command"]


def test_the_loaded_application_is_resident_in_well_under_the_web_process_bound(tmp_path):
    figures = _child(tmp_path)
    rss_mib = int(figures["rss_kib"]) / 1024  # type: ignore[call-overload]
    assert rss_mib < IDLE_LIMIT_MIB, f"create_app() leaves the process at {rss_mib:.1f} MiB"
