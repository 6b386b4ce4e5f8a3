"""What a read of the API costs, and that nothing it saves weakens a check: two statements for a
request (the sign-in with its user, the request with what it shows), a token check remembered
per process that still expires and still dies with its sign-in, no cookie session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from exchange.api import tokens
from exchange.api.blueprint import token_config
from exchange.auth import services as auth_services
from exchange.db import utcnow
from exchange.extensions import db
from tests.api.conftest import bearer, sign_in
from tests.conftest import login
from tests.mla.conftest import QueryCounter


def _request(client: FlaskClient, headers: dict[str, str]) -> str:
    """Open a case and a draft through the API; return the draft's id."""
    case = client.post("/api/v1/cases", json={"number": "PR-COST-1", "title": "T"}, headers=headers)
    draft = client.post(
        "/api/v1/requests",
        json={
            "case_id": case.get_json()["id"],
            "request_type": "taking_evidence",
            "counterpart": "NG-CA",
        },
        headers=headers,
    )
    assert draft.status_code == 201, draft.get_json()
    person = client.post(
        f"/api/v1/requests/{draft.get_json()['id']}/persons",
        json={"identity": {"name": "Blessing Okafor"}, "victim": True},
        headers=headers,
    )
    assert person.status_code == 201, person.get_json()
    return str(draft.get_json()["id"])


def test_a_request_is_read_in_two_statements(
    client: FlaskClient, make_user, api_headers, count_queries: QueryCounter
) -> None:
    user = make_user("prosecutor")
    headers = api_headers(user)
    public_id = _request(client, headers)
    client.get(f"/api/v1/requests/{public_id}", headers=headers)  # warm
    before = count_queries.count
    response = client.get(f"/api/v1/requests/{public_id}", headers=headers)
    assert response.status_code == 200
    assert count_queries.count - before == 2
    # The identity decrypted for the team, in the same two statements.
    assert response.get_json()["persons"][0]["identity"]["name"] == "Blessing Okafor"
    # And for no one else: a colleague off the team does not even find it.
    other = api_headers(make_user("prosecutor"))
    assert client.get(f"/api/v1/requests/{public_id}", headers=other).status_code == 404


def test_a_remembered_token_check_still_expires_and_dies_with_its_sign_in(
    app: Flask, client: FlaskClient, make_user
) -> None:
    user = make_user("prosecutor")
    access = sign_in(client, user)["access_token"]
    with app.test_request_context():
        config = token_config()
        assert tokens.authenticate(db.session, config, access).user.id == user.id
        assert tokens.authenticate(db.session, config, access).user.id == user.id  # remembered
        later = utcnow() + tokens.ACCESS_LIFETIME + timedelta(seconds=1)
        with pytest.raises(tokens.TokenRefused) as refused:
            tokens.authenticate(db.session, config, access, now=later)
        assert refused.value.code == "expired"
        earlier = utcnow() - timedelta(minutes=5)  # issued in the future of that moment
        with pytest.raises(tokens.TokenRefused):
            tokens.authenticate(db.session, config, access, now=earlier)
    auth_services.set_roles(db.session, user, {"prosecutor", "investigator"})
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(access)).status_code == 401


def test_a_bearer_call_neither_reads_nor_writes_the_cookie(
    app: Flask, client: FlaskClient, make_user
) -> None:
    script, person = make_user("prosecutor"), make_user("prosecutor")
    access = sign_in(app.test_client(), script)["access_token"]
    login(client, person)  # this browser holds the cookie of another signed-in user
    assert client.get("/account").status_code == 200
    response = client.get("/api/v1/me", headers=bearer(access))
    assert response.status_code == 200
    assert response.get_json()["email"] == script.email  # the bearer speaks, not the cookie
    assert "Set-Cookie" not in response.headers
    # The cookie alone still opens nothing of the API, and the portal still works with it.
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/account").status_code == 200
