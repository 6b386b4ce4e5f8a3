"""Signing out through the API: the access token's sign-in ends (its refresh token with it), a
refresh token can end its sign-in (RFC 7009), a personal token can revoke itself."""

from __future__ import annotations

from flask.testing import FlaskClient

from exchange.api import tokens
from exchange.auth.models import UserSession
from exchange.extensions import db
from tests.api.conftest import bearer, sign_in


def test_delete_tokens_ends_the_sign_in_and_its_refresh_token(
    client: FlaskClient, make_user
) -> None:
    user = make_user("prosecutor")
    issued = sign_in(client, user)
    other = sign_in(client, user)  # another sign-in of the same user stays
    assert client.get("/api/v1/me", headers=bearer(issued["access_token"])).status_code == 200
    response = client.delete("/api/v1/tokens", headers=bearer(issued["access_token"]))
    assert response.status_code == 204
    gone = client.get("/api/v1/me", headers=bearer(issued["access_token"]))
    assert gone.status_code == 401
    assert gone.headers["WWW-Authenticate"].startswith("Bearer")
    refreshed = client.post(
        "/api/v1/tokens/refresh", json={"refresh_token": issued["refresh_token"]}
    )
    assert refreshed.status_code == 401
    assert client.get("/api/v1/me", headers=bearer(other["access_token"])).status_code == 200
    db.session.expire_all()
    ended = db.session.query(UserSession).filter(UserSession.ended_at.is_not(None)).count()
    assert ended == 1
    # Without a credential there is nothing to end.
    assert client.delete("/api/v1/tokens").status_code == 401


def test_a_refresh_token_revokes_its_sign_in(client: FlaskClient, make_user) -> None:
    user = make_user("prosecutor")
    issued = sign_in(client, user)
    response = client.post("/api/v1/tokens/revoke", json={"refresh_token": issued["refresh_token"]})
    assert response.status_code == 204
    assert client.get("/api/v1/me", headers=bearer(issued["access_token"])).status_code == 401
    again = client.post("/api/v1/tokens/refresh", json={"refresh_token": issued["refresh_token"]})
    assert again.status_code == 401
    # An unknown token gets the same answer: the route tells nothing of which tokens exist.
    unknown = client.post("/api/v1/tokens/revoke", json={"refresh_token": "nope"})
    assert unknown.status_code == 204
    assert client.post("/api/v1/tokens/revoke", json={}).status_code == 422


def test_a_read_only_personal_token_revokes_itself(client: FlaskClient, make_user) -> None:
    user = make_user("prosecutor")
    _row, value = tokens.create_personal_token(db.session, user, name="script", scope="read")
    db.session.commit()
    # It may not change anything else...
    refused = client.post(
        "/api/v1/cases", json={"number": "X", "title": "Y"}, headers=bearer(value)
    )
    assert refused.status_code == 403
    # ...but it may end itself, and is refused from then on.
    assert client.delete("/api/v1/tokens", headers=bearer(value)).status_code == 204
    response = client.get("/api/v1/me", headers=bearer(value))
    assert response.status_code == 401
    assert "revoked" in response.get_json()["detail"]
