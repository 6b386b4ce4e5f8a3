"""A request's life through the API alone: case, draft, If-Match, persons, annex, submit,
approve, thread, events; the directory and statistics; personal tokens from the account page."""

from __future__ import annotations

import io
import re

from flask.testing import FlaskClient

from exchange.extensions import db
from exchange.mla.definitions import get_type
from tests import files
from tests.api.conftest import bearer
from tests.conftest import csrf_token, login
from tests.mla.conftest import filler


def _draft(client: FlaskClient, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    """Open a case and a draft to Nigeria through the API; return the draft."""
    case = client.post(
        "/api/v1/cases",
        json={"number": "PR-API-1", "title": "Orpaillage de Bantaco", "offences": ["TIP"]},
        headers=headers,
    )
    assert case.status_code == 201, case.get_json()
    response = client.post(
        "/api/v1/requests",
        json={
            "case_id": case.get_json()["id"],
            "request_type": "taking_evidence",
            "counterpart": "NG-CA",
        },
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    assert (
        response.headers["ETag"]
        == f'"{response.get_json()["id"]}-v{response.get_json()["version"]}"'
    )
    return response.get_json()  # type: ignore[no-any-return]


def test_a_request_from_draft_to_transmission(client: FlaskClient, make_user, api_headers) -> None:
    prosecutor = make_user("prosecutor")
    officer = make_user("central_authority_officer", "SN-CA")
    mine = api_headers(prosecutor)
    draft = _draft(client, mine)
    url = f"/api/v1/requests/{draft['id']}"
    assert draft["state"] == "draft" and "submit" in draft["actions"]

    # Edit: If-Match is required, a stale one is refused, the current one works.
    definition = get_type("taking_evidence")
    assert definition is not None
    contents = {f.name: filler(f) for f in definition.all_fields}
    assert client.patch(url, json={"contents": contents}, headers=mine).status_code == 428
    etag = client.get(url, headers=mine).headers["ETag"]
    stale = {**mine, "If-Match": '"' + draft["id"] + '-v0"'}
    response = client.patch(url, json={"contents": contents}, headers=stale)
    assert response.status_code == 412
    assert response.mimetype == "application/problem+json"
    response = client.patch(
        url,
        json={
            "contents": contents,
            "urgent": True,
            "urgency_reason": "A hearing on 3 March",
            "desired_date": "2027-03-01",
        },
        headers={**mine, "If-Match": etag},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["urgent"] is True
    assert response.headers["ETag"] != etag
    # The old ETag is stale now: two editors cannot overwrite each other.
    again = client.patch(url, json={"urgent": False}, headers={**mine, "If-Match": etag})
    assert again.status_code == 412

    person = client.post(
        f"{url}/persons",
        json={"identity": {"name": "Blessing Okafor", "nationality": "Nigerian"}, "victim": True},
        headers=mine,
    )
    assert person.status_code == 201, person.get_json()
    annex = client.post(
        f"{url}/annexes",
        data={"kind": "supporting", "file": (io.BytesIO(files.pdf("PV")), "pv.pdf")},
        headers=mine,
        content_type="multipart/form-data",
    )
    assert annex.status_code == 201, annex.get_json()
    sha = annex.get_json()["sha256"]
    download = client.get(f"{url}/annexes/{sha}", headers=mine)
    assert download.status_code == 200 and download.data == files.pdf("PV")
    assert download.headers["Content-Disposition"].startswith("attachment")
    # Evidence is kept in no cache and never sniffed into something a browser would render.
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    bad = client.post(
        f"{url}/annexes",
        data={"kind": "supporting", "file": (io.BytesIO(b"<html>hi</html>"), "x.pdf")},
        headers=mine,
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422

    submitted = client.post(f"{url}/submit", headers=mine)
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["state"] == "in_review"

    # The officer reviews: the contents, not the identities of the persons (team only).
    theirs = api_headers(officer)
    seen = client.get(url, headers=theirs).get_json()
    assert seen["persons"][0]["identity"] is None
    assert client.get(url, headers=mine).get_json()["persons"][0]["identity"]["name"]
    # The author's authority cannot approve its own request (four-eyes between authorities).
    assert client.post(f"{url}/approve", headers=mine).status_code == 403
    approved = client.post(f"{url}/approve", headers=theirs)
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["state"] == "transmitted"

    events = client.get(f"{url}/events", headers=mine).get_json()["items"]
    assert [e["action"] for e in events] == ["create", "submit", "approve", "transmit"]
    sent = client.post(
        f"{url}/messages", json={"kind": "progress_inquiry", "body": "Any news?"}, headers=mine
    )
    assert sent.status_code == 201, sent.get_json()
    note = client.post(f"{url}/messages", json={"kind": "note", "body": "Call them"}, headers=mine)
    assert note.status_code == 201
    thread = client.get(f"{url}/messages", headers=mine).get_json()["items"]
    assert [e["where"] for e in thread] == ["outgoing", "internal"]
    officer_thread = client.get(f"{url}/messages", headers=theirs).get_json()["items"]
    assert [e["where"] for e in officer_thread] == ["outgoing"]  # notes stay with the team

    listed = client.get("/api/v1/requests?urgent=true&limit=1", headers=mine).get_json()
    assert [r["id"] for r in listed["items"]] == [draft["id"]]
    figures = client.get("/api/v1/statistics?direction=outgoing", headers=theirs)
    assert figures.status_code == 200 and figures.get_json()["total"] == 1


def test_a_move_with_its_particulars(client: FlaskClient, make_user, api_headers) -> None:
    prosecutor = make_user("prosecutor")
    mine = api_headers(prosecutor)
    draft = _draft(client, mine)
    url = f"/api/v1/requests/{draft['id']}"
    response = client.post(f"{url}/moves/withdraw", json={}, headers=mine)
    assert response.status_code == 422  # a withdrawal says why
    response = client.post(f"{url}/moves/withdraw", json={"summary": "x"}, headers=mine)
    assert response.status_code == 422 and response.get_json()["error"] == "unknown_field"
    response = client.post(f"{url}/moves/withdraw", json={"reason": "Case closed"}, headers=mine)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "withdrawn"
    assert client.post(f"{url}/moves/submit", json={}, headers=mine).status_code == 404


def test_cursor_pagination(client: FlaskClient, make_user, api_headers) -> None:
    mine = api_headers(make_user("prosecutor"))
    case = client.post(
        "/api/v1/cases", json={"number": "PR-API-2", "title": "T"}, headers=mine
    ).get_json()
    made = [
        client.post(
            "/api/v1/requests",
            json={"case_id": case["id"], "request_type": "records", "counterpart": "NG-CA"},
            headers=mine,
        ).get_json()["id"]
        for _ in range(3)
    ]
    seen, cursor = [], ""
    while True:
        page = client.get(f"/api/v1/requests?limit=2&cursor={cursor}", headers=mine).get_json()
        seen += [r["id"] for r in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == list(reversed(made))


def test_directory_lookup(client: FlaskClient, make_user, api_headers) -> None:
    mine = api_headers(make_user("prosecutor"))
    response = client.get(
        "/api/v1/directory/competent-authorities?state=NG&measure=taking_evidence", headers=mine
    )
    assert response.status_code == 200
    assert response.get_json() and all(a["state"] == "NG" for a in response.get_json())


def test_personal_tokens_from_the_account_page(client: FlaskClient, make_user) -> None:
    user = make_user("prosecutor")
    login(client, user)
    token = csrf_token(client, "/account/api-tokens")
    page = client.post(
        "/account/api-tokens", data={"name": "CMS sync", "scope": "read", "csrf_token": token}
    ).get_data(as_text=True)
    value = re.search(r'id="new-token">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    from exchange.api.models import PersonalToken

    row = db.session.query(PersonalToken).one()
    assert row.token_hash != value and value not in row.token_hash  # stored hashed
    assert value not in client.get("/account/api-tokens").get_data(as_text=True)  # shown once

    api = client.application.test_client()  # a script: no cookie
    assert api.get("/api/v1/me", headers=bearer(value)).get_json()["scope"] == "read"
    refused = api.post("/api/v1/cases", json={"number": "X", "title": "Y"}, headers=bearer(value))
    assert refused.status_code == 403  # read only
    revoked = client.post(
        f"/account/api-tokens/{row.public_id}/revoke",
        data={"csrf_token": csrf_token(client, "/account/api-tokens")},
    )
    assert revoked.status_code == 303
    assert api.get("/api/v1/me", headers=bearer(value)).status_code == 401


def test_a_personal_token_dies_with_a_disabled_account(client: FlaskClient, make_user) -> None:
    from exchange.api import tokens
    from exchange.auth import services as auth_services

    user = make_user("prosecutor")
    _row, value = tokens.create_personal_token(db.session, user, name="script", scope="write")
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 200
    auth_services.disable_user(db.session, user)
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 401
