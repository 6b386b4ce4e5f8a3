"""Documents and paper through the API: a request's letter rendered (one language or two), a
bundle job queued, built by the worker and downloaded, dispatches and receipts recorded, the
liaison officer's work list — through the desk's services and checks, refusals as problem
details in the user's language."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from exchange.api import tokens
from exchange.db import utcnow
from exchange.documents.models import BundleJob
from exchange.extensions import db
from exchange.mla.models import RequestEvent
from tests.api.conftest import bearer, sign_in
from tests.documents.pdfs import pdf_text

TODAY = utcnow().date().isoformat()
API = "/api/v1"


def _pdf(response: Any) -> bytes:
    """Check an answer is a PDF attachment, never cached or sniffed; return it."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    data: bytes = response.data
    assert data.startswith(b"%PDF")
    return data


def test_a_letter_renders_in_its_language_and_bilingual(
    client: FlaskClient, make_user: Any, transmitted: Any, tmp_path: Path
) -> None:
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = transmitted(prosecutor=prosecutor)
    auth = bearer(sign_in(client, prosecutor)["access_token"])
    url = f"{API}/requests/{request.public_id}/documents/letter"
    text = pdf_text(_pdf(client.get(url + "?lang=fr", headers=auth)), tmp_path)
    assert "Engagements de l'État requérant" in text
    assert "Undertakings of the requesting State" not in text
    both = pdf_text(_pdf(client.get(url + "?lang=en&also=fr", headers=auth)), tmp_path)
    assert both.index("Undertakings of the requesting State") < both.index(
        "Engagements de l'État requérant"
    )
    # Refusals: a language out of the list, too many parts, no such document, a notice whose
    # step is not on the timeline yet (in the user's language).
    assert client.get(url + "?lang=de", headers=auth).status_code == 422
    assert client.get(url + "?also=fr&also=pt&also=en", headers=auth).status_code == 422
    missing = client.get(f"{API}/requests/{request.public_id}/documents/nope", headers=auth)
    assert missing.status_code == 404
    notice = client.get(
        f"{API}/requests/{request.public_id}/documents/execution_report",
        headers={**auth, "Accept-Language": "fr"},
    )
    assert notice.status_code == 422
    assert notice.headers["Content-Type"] == "application/problem+json"
    assert notice.get_json()["error"] == "document_unavailable"
    assert "Ce document" in notice.get_json()["detail"]
    # Someone who may not open the request gets what a request that does not exist gets.
    other = bearer(sign_in(client, make_user("prosecutor", "SN-TGI-TAMBA"))["access_token"])
    assert client.get(url, headers=other).status_code == 404


@pytest.mark.usefixtures("bundle_builder")  # the worker's real builder, with signing keys
def test_a_bundle_job_is_queued_built_and_downloaded(
    app: Flask, client: FlaskClient, runner: Any, make_user: Any, transmitted: Any
) -> None:
    liaison = make_user("liaison_officer", "SN-CA")
    request = transmitted()
    auth = bearer(sign_in(client, liaison)["access_token"])
    bundles = f"{API}/requests/{request.public_id}/bundles"
    queued = client.post(bundles, json={"lang": "fr"}, headers=auth)
    assert queued.status_code == 202, queued.get_data(as_text=True)
    job = queued.get_json()
    assert job["state"] == "queued" and job["download"] is None
    assert queued.headers["Location"].endswith(f"/api/v1/bundles/{job['id']}")
    # A second click is the same job; a language out of the list is refused.
    assert client.post(bundles, json={"lang": "fr"}, headers=auth).get_json()["id"] == job["id"]
    assert client.post(bundles, json={"lang": "de"}, headers=auth).status_code == 422
    early = client.get(f"{API}/bundles/{job['id']}/pdf", headers={**auth, "Accept-Language": "pt"})
    assert early.status_code == 409 and early.get_json()["state"] == "queued"
    assert "ainda" in early.get_json()["detail"]

    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "bundles.built=1" in result.output, result.output
    status = client.get(f"{API}/bundles/{job['id']}", headers=auth)
    assert status.headers["Cache-Control"] == "no-store"
    done = status.get_json()
    assert done["state"] == "done" and done["percent"] == 100 and done["download"]
    data = _pdf(client.get(done["download"], headers=auth))
    assert hashlib.sha256(data).hexdigest() == done["sha256"]
    listed = client.get(bundles, headers=auth).get_json()["items"]
    assert [b["id"] for b in listed] == [job["id"]]

    # Who does not handle the request's paper: no permission (403), another authority (404).
    prosecutor = bearer(sign_in(client, make_user("prosecutor", "SN-TGI-TAMBA"))["access_token"])
    assert client.get(done["download"], headers=prosecutor).status_code == 403
    ng = bearer(sign_in(client, make_user("liaison_officer", "NG-CA"))["access_token"])
    for url in (done["download"], f"{API}/bundles/{job['id']}", bundles):
        assert client.get(url, headers=ng).status_code == 404, url
    assert client.post(bundles, json={"lang": "en"}, headers=ng).status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(BundleJob).where(BundleJob.lang == "en")) is None


def test_dispatch_receipt_and_the_work_list(
    client: FlaskClient, make_user: Any, transmitted: Any
) -> None:
    liaison = make_user("liaison_officer", "SN-CA")
    request = transmitted()
    auth = bearer(sign_in(client, liaison)["access_token"])
    desk = client.get(f"{API}/paper", headers=auth).get_json()
    assert [i["request_id"] for i in desk["awaiting_dispatch"]] == [request.public_id]
    assert desk["awaiting_dispatch"][0]["subject"] == "request"
    dispatches = f"{API}/requests/{request.public_id}/dispatches"
    body = {"channel": "diplomatic_pouch", "reference": "NV/SN/2026/118", "on": TODAY}
    made = client.post(dispatches, json=body, headers=auth)
    assert made.status_code == 201, made.get_data(as_text=True)
    sent = made.get_json()
    assert sent["subject"] == "request" and sent["received_on"] is None
    # The same record twice is one; a different second one is refused, in the user's language.
    assert client.post(dispatches, json=body, headers=auth).get_json()["id"] == sent["id"]
    other = client.post(
        dispatches, json={**body, "channel": "courier"}, headers={**auth, "Accept-Language": "fr"}
    )
    assert other.status_code == 422 and other.get_json()["error"] == "already_dispatched"
    assert other.get_json()["detail"].startswith("Une expédition")
    assert (
        client.post(dispatches, json={**body, "channel": "pigeon"}, headers=auth).status_code == 422
    )
    desk = client.get(f"{API}/paper", headers=auth).get_json()
    assert desk["awaiting_dispatch"] == []
    assert [d["id"] for d in desk["awaiting_receipt"]] == [sent["id"]]

    receipt = f"{API}/dispatches/{sent['id']}/receipt"
    early = client.post(receipt, json={"on": "2000-01-01"}, headers=auth)
    assert early.status_code == 422 and early.get_json()["error"] == "date_too_early"
    got = client.post(receipt, json={"on": TODAY, "reference": "FMOJ/IN/9"}, headers=auth)
    assert got.status_code == 200 and got.get_json()["received_on"] == TODAY
    assert client.get(f"{API}/paper", headers=auth).get_json()["awaiting_receipt"] == []
    listed = client.get(dispatches, headers=auth).get_json()["items"]
    assert [(d["id"], d["receipt_reference"]) for d in listed] == [(sent["id"], "FMOJ/IN/9")]
    db.session.expire_all()
    actions = db.session.scalars(
        select(RequestEvent.action).where(RequestEvent.request_id == request.id)
    ).all()
    assert actions[-2:] == ["paper_dispatched", "paper_received"]

    # Another authority's liaison officer: 404 everywhere, nothing recorded.
    ng = bearer(sign_in(client, make_user("liaison_officer", "NG-CA"))["access_token"])
    assert client.get(dispatches, headers=ng).status_code == 404
    assert client.post(receipt, json={"on": TODAY}, headers=ng).status_code == 404
    assert client.get(f"{API}/paper", headers=ng).get_json()["awaiting_receipt"] == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/requests/{id}/bundles", {"lang": "fr"}),
        ("POST", "/requests/{id}/dispatches", {"channel": "courier", "on": TODAY}),
    ],
)
def test_a_read_only_personal_token_may_read_the_desk_but_not_write(
    client: FlaskClient, make_user: Any, transmitted: Any, method: str, path: str, body: Any
) -> None:
    liaison = make_user("liaison_officer", "SN-CA")
    request = transmitted()
    _row, value = tokens.create_personal_token(db.session, liaison, name="desk", scope="read")
    db.session.commit()
    assert client.get(f"{API}/paper", headers=bearer(value)).status_code == 200
    url = API + path.format(id=request.public_id)
    refused = client.open(url, method=method, json=body, headers=bearer(value))
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == "application/problem+json"
