"""The README's "Use the API" commands work as printed, against a live node."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from exchange.auth.models import UserSession
from exchange.cases.models import Case, CaseReference
from exchange.extensions import db
from exchange.mla.models import InternalNote, Message, MlaRequest
from tests.conftest import DEFAULT_PASSWORD

REPO = Path(__file__).resolve().parents[2]


def readme_api_commands() -> str:
    """Return the README's marked block of API commands."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    marker = text.index("<!-- api-commands:")
    block = re.search(r"```sh\n(.*?)```", text[marker:], re.DOTALL)
    assert block, "the api-commands marker is followed by no ```sh block"
    return block.group(1)


def test_readme_curl_lines_run_as_printed(live_server: str, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("prosecutor", email="prosecutor@sn-tgi-tamba.example")
    result = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + readme_api_commands()],
        env={
            "PATH": os.environ["PATH"],
            "EXCHANGE": live_server,
            "EMAIL": user.email,
            "PASSWORD": DEFAULT_PASSWORD,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert user.email in result.stdout
    assert '"state": "NG"' in result.stdout or '"state":"NG"' in result.stdout
    db.session.expire_all()
    case = db.session.query(Case).filter_by(number="PR-TAMBA-2027-0042").one()
    request = db.session.query(MlaRequest).filter_by(case_id=case.id).one()
    assert request.confidential is False  # the PATCH with If-Match saved
    assert db.session.query(InternalNote).filter_by(request_id=request.id).count() == 1
    shared = db.session.query(CaseReference).filter_by(case_id=case.id).one()
    assert db.session.query(Message).filter_by(case_reference_id=shared.id).count() == 1
    # The last lines signed out: the sign-in is ended, its token refused (the script checked 401).
    assert db.session.query(UserSession).filter_by(user_id=user.id).one().ended_at is not None
