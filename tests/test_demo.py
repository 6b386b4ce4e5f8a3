"""``exchange demo setup`` gives a newcomer a working node: users, keys, a sample case; twice is fine."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from exchange.auth.services import find_user
from exchange.extensions import db
from tests.conftest import csrf_token


@pytest.fixture
def settings_overrides():
    return {"demo": True}


def test_demo_setup_is_complete_and_idempotent(app, runner):
    first = runner.invoke(args=["demo", "setup"])
    assert first.exit_code == 0, first.output
    assert "sample case TGI-TAMBA/2026/0142" in first.output
    again = runner.invoke(args=["demo", "setup"])
    assert again.exit_code == 0, again.output
    assert "sample case" not in again.output

    from exchange.cases.models import Case
    from exchange.mla.models import MlaRequest

    case = db.session.scalar(select(Case).where(Case.number == "TGI-TAMBA/2026/0142"))
    assert case is not None and len(case.members) == 2
    assert {r.request_type for r in db.session.scalars(select(MlaRequest))} == {
        "taking_evidence",
        "survivor_repatriation",
    }
    keys = runner.invoke(args=["keys", "list", "SN-CA"])
    assert {"sig", "enc", "enc-pq", "pdf"} <= {line.split()[1] for line in keys.output.splitlines()}


def test_demo_officer_signs_in_with_the_printed_code(app, runner):
    runner.invoke(args=["demo", "setup"])
    code = runner.invoke(args=["demo", "code", "officer@sn.demo"]).output.strip()
    officer = find_user(db.session, "officer@sn.demo")
    assert officer is not None and code == pyotp.TOTP(officer.totp_secret).now()
    client = app.test_client()
    token = csrf_token(client)
    client.post(
        "/login",
        data={"email": "officer@sn.demo", "password": "kedougou-demo-2026", "csrf_token": token},
    )
    token = csrf_token(client, "/login/second-factor")
    response = client.post("/login/second-factor", data={"code": code, "csrf_token": token})
    assert response.status_code == 303


def test_request_page_cites_the_legal_basis_in_the_reader_language(app, runner):
    runner.invoke(args=["demo", "setup"])
    from exchange.mla.models import MlaRequest

    request = db.session.scalars(
        select(MlaRequest).where(
            MlaRequest.request_type == "taking_evidence", MlaRequest.state == "draft"
        )
    ).one()  # the draft; the other one is transmitted, for the liaison officer's desk
    client = app.test_client()
    token = csrf_token(client)
    client.post("/language", data={"locale": "fr", "next": "/login", "csrf_token": token})
    client.post(
        "/login",
        data={"email": "prosecutor@sn.demo", "password": "kedougou-demo-2026", "csrf_token": token},
    )
    page = client.get(f"/requests/{request.public_id}").get_data(as_text=True)
    # French sets a space before the semicolon.
    assert "CEDEAO A/P.1/7/92 ; CNUCTO art. 18 ; Protocole de Palerme" in page
