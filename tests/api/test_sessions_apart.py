"""The portal's cookie session and the API's credentials live apart: signing in to the API,
refreshing, signing out of it or making and revoking a personal token, from the same browser
(its portal cookie sent along), never signs the portal out; a portal sign-in or sign-out never
voids the API's tokens. Only a credential change (``User.session_token`` rotated) ends both.

Report checked here: "after signing in to the API (POST /api/v1/tokens) the user was signed
out of the portal".
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from exchange.api import tokens
from exchange.extensions import db
from tests.api.conftest import bearer, sign_in
from tests.conftest import csrf_token, login

ROLES = ("prosecutor", "central_authority_officer")  # without and with a second factor


def portal_signed_in(client: FlaskClient) -> bool:
    """Tell whether the browser's cookie still opens the portal (a page behind the gate)."""
    response = client.get("/account/api-tokens")
    return response.status_code == 200


def api_signed_in(client: FlaskClient, credential: str) -> bool:
    """Tell whether an API credential still works."""
    return client.get("/api/v1/me", headers=bearer(credential)).status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_the_api_sign_in_leaves_the_portal_signed_in(
    role: str, client: FlaskClient, make_user: Any
) -> None:
    user = make_user(role)
    login(client, user)
    assert portal_signed_in(client)
    # The same browser: its portal cookie goes along with every API call below.
    issued = sign_in(client, user)
    assert portal_signed_in(client)
    refreshed = client.post(
        "/api/v1/tokens/refresh", json={"refresh_token": issued["refresh_token"]}
    )
    assert refreshed.status_code == 201
    assert portal_signed_in(client)
    pair = refreshed.get_json()
    assert api_signed_in(client, pair["access_token"])
    assert client.delete("/api/v1/tokens", headers=bearer(pair["access_token"])).status_code == 204
    assert portal_signed_in(client)
    assert not api_signed_in(client, pair["access_token"])
    revoked = client.post("/api/v1/tokens/revoke", json={"refresh_token": pair["refresh_token"]})
    assert revoked.status_code == 204
    assert portal_signed_in(client)


@pytest.mark.parametrize("role", ROLES)
def test_personal_tokens_leave_the_portal_signed_in(
    role: str, client: FlaskClient, make_user: Any
) -> None:
    user = make_user(role)
    login(client, user)
    page = "/account/api-tokens"
    made = client.post(
        page, data={"name": "script", "scope": "read", "csrf_token": csrf_token(client, page)}
    )
    assert made.status_code == 200
    assert portal_signed_in(client)
    db.session.expire_all()
    row = tokens.live_personal_tokens(db.session, user)[0]
    _other, value = tokens.create_personal_token(db.session, user, name="other", scope="read")
    db.session.commit()
    assert api_signed_in(client, value)
    assert client.delete("/api/v1/tokens", headers=bearer(value)).status_code == 204
    assert portal_signed_in(client)
    revoke = client.post(
        f"{page}/{row.public_id}/revoke", data={"csrf_token": csrf_token(client, page)}
    )
    assert revoke.status_code == 303
    assert portal_signed_in(client)


@pytest.mark.parametrize("role", ROLES)
def test_a_portal_sign_in_and_sign_out_leave_the_api_tokens_valid(
    role: str, app: Flask, client: FlaskClient, make_user: Any
) -> None:
    user = make_user(role)
    script = app.test_client()  # another client: the script, without the browser's cookie
    issued = sign_in(script, user)
    _row, personal = tokens.create_personal_token(db.session, user, name="cron", scope="write")
    db.session.commit()
    login(client, user)
    assert portal_signed_in(client)
    assert api_signed_in(script, issued["access_token"]) and api_signed_in(script, personal)
    refreshed = script.post(
        "/api/v1/tokens/refresh", json={"refresh_token": issued["refresh_token"]}
    )
    assert refreshed.status_code == 201
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert not portal_signed_in(client)
    assert api_signed_in(script, refreshed.get_json()["access_token"])
    assert api_signed_in(script, personal)


def test_a_password_change_ends_both(client: FlaskClient, make_user: Any) -> None:
    """What does void them all: the session token rotated by a credential change."""
    from exchange.auth import services

    user = make_user("prosecutor")
    script_tokens = sign_in(client, user)
    login(client, user)
    services.set_password(db.session, user, "a new and long passphrase 2026")
    db.session.commit()
    assert not api_signed_in(client, script_tokens["access_token"])
    assert not portal_signed_in(client)
