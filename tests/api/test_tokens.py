"""Access, refresh and personal tokens: every forged, stale or revoked credential is refused (401)."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from exchange.api import tokens
from exchange.api.blueprint import token_config
from exchange.auth import services as auth_services
from exchange.auth.models import LoginThrottle
from exchange.extensions import db
from tests.api.conftest import bearer, sign_in
from tests.conftest import DEFAULT_PASSWORD, csrf_token, login


def _claims(app: Flask, access: str) -> dict:  # type: ignore[type-arg]
    """Return the verified claims of an access token."""
    with app.test_request_context():
        config = token_config()
    return jwt.decode(
        access, config.secret, algorithms=["HS256"], audience=config.audience, issuer=config.issuer
    )


def _forge(app: Flask, access: str, *, key: bytes | None = None, **changes: object) -> str:
    """Return ``access`` with some claims changed, signed with the node's secret (or ``key``)."""
    with app.test_request_context():
        config = token_config()
    claims = {**_claims(app, access), **changes}
    return jwt.encode(
        claims, key or config.secret, algorithm="HS256", headers={"typ": tokens.TOKEN_TYPE}
    )


def _me(client: FlaskClient, token: str):  # type: ignore[no-untyped-def]
    return client.get("/api/v1/me", headers=bearer(token))


def test_sign_in_gives_a_working_access_token_with_the_registered_claims(
    app: Flask, client: FlaskClient, make_user
) -> None:
    user = make_user("prosecutor")
    issued = sign_in(client, user)
    claims = _claims(app, issued["access_token"])
    assert set(claims) >= {"iss", "aud", "exp", "iat", "jti", "sub", "sid"}
    assert claims["exp"] - claims["iat"] == 600
    assert jwt.get_unverified_header(issued["access_token"])["alg"] == "HS256"
    response = _me(client, issued["access_token"])
    assert response.status_code == 200
    assert response.get_json()["email"] == user.email


def test_no_token_and_a_cookie_alone_are_refused(client: FlaskClient, make_user) -> None:
    user = make_user("prosecutor")
    assert client.get("/api/v1/me").status_code == 401
    login(client, user)  # a portal session cookie does not authenticate the API
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "change",
    [
        {"exp": int(time.time()) - 5, "iat": int(time.time()) - 700},  # expired
        {"aud": "https://other.example/api/v1"},  # wrong audience
        {"iss": "https://other.example"},  # wrong issuer
        {"sid": "00000000-0000-0000-0000-000000000000"},  # no such sign-in
    ],
    ids=["expired", "wrong-audience", "wrong-issuer", "unknown-session"],
)
def test_finding_api_forged_claims_are_refused(
    app: Flask, client: FlaskClient, make_user, change: dict
) -> None:  # type: ignore[type-arg]
    access = sign_in(client, make_user("prosecutor"))["access_token"]
    assert _me(client, _forge(app, access, **change)).status_code == 401


def test_alg_none_is_refused(app: Flask, client: FlaskClient, make_user) -> None:
    access = sign_in(client, make_user("prosecutor"))["access_token"]
    claims = _claims(app, access)

    def part(value: dict) -> str:  # type: ignore[type-arg]
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    for alg in ("none", "None", "NONE"):
        unsigned = f"{part({'alg': alg, 'typ': tokens.TOKEN_TYPE})}.{part(claims)}."
        assert _me(client, unsigned).status_code == 401


def test_algorithm_confusion_is_refused(app: Flask, client: FlaskClient, make_user) -> None:
    """An asymmetric token, and an HS256 token keyed with a public key, are both refused."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    access = sign_in(client, make_user("prosecutor"))["access_token"]
    claims = _claims(app, access)
    private = ec.generate_private_key(ec.SECP256R1())
    es256 = jwt.encode(claims, private, algorithm="ES256", headers={"typ": tokens.TOKEN_TYPE})
    assert _me(client, es256).status_code == 401
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # PyJWT refuses to HMAC with a PEM key itself; forge the signature by hand, as an attacker would.
    import hashlib
    import hmac

    head = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "typ": tokens.TOKEN_TYPE}).encode()
    ).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem, head + b"." + body, hashlib.sha256).digest()
    ).rstrip(b"=")
    assert _me(client, (head + b"." + body + b"." + signature).decode()).status_code == 401
    # And a token of the right shape but another secret.
    assert _me(client, _forge(app, access, key=b"k" * 32)).status_code == 401


def test_token_of_a_disabled_user_is_refused(client: FlaskClient, make_user) -> None:
    user = make_user("prosecutor")
    access = sign_in(client, user)["access_token"]
    assert _me(client, access).status_code == 200
    auth_services.disable_user(db.session, user)
    db.session.commit()
    assert _me(client, access).status_code == 401


def test_token_after_password_change_and_role_change_is_refused(
    client: FlaskClient, make_user
) -> None:
    user = make_user("prosecutor")
    access = sign_in(client, user)["access_token"]
    auth_services.set_password(db.session, user, DEFAULT_PASSWORD + " and more words")
    db.session.commit()
    assert _me(client, access).status_code == 401
    other = make_user("prosecutor")
    access = sign_in(client, other)["access_token"]
    auth_services.set_roles(db.session, other, {"prosecutor", "investigator"})
    db.session.commit()
    assert _me(client, access).status_code == 401


def test_wrong_password_is_counted_with_the_portal(client: FlaskClient, make_user) -> None:
    user = make_user("prosecutor")
    response = client.post("/api/v1/tokens", json={"email": user.email, "password": "wrong"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert db.session.query(LoginThrottle).count() == 3  # the portal's three counters
    token = csrf_token(client)
    client.post("/login", data={"email": user.email, "password": "wrong", "csrf_token": token})
    assert max(r.failures for r in db.session.query(LoginThrottle)) == 2


def test_officer_needs_the_second_factor(client: FlaskClient, make_user) -> None:
    officer = make_user("central_authority_officer", "SN-CA")
    response = client.post(
        "/api/v1/tokens", json={"email": officer.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 401
    response = client.post(
        "/api/v1/tokens",
        json={"email": officer.email, "password": DEFAULT_PASSWORD, "code": "000000"},
    )
    assert response.status_code == 401
    assert sign_in(client, officer)["access_token"]


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_sign_in(
    client: FlaskClient, make_user
) -> None:
    first = sign_in(client, make_user("prosecutor"))
    response = client.post("/api/v1/tokens/refresh", json={"refresh_token": first["refresh_token"]})
    assert response.status_code == 201
    second = response.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert _me(client, second["access_token"]).status_code == 200
    again = client.post("/api/v1/tokens/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401
    # The reuse ended the sign-in: its newer tokens die with it.
    assert _me(client, second["access_token"]).status_code == 401
    refused = client.post("/api/v1/tokens/refresh", json={"refresh_token": second["refresh_token"]})
    assert refused.status_code == 401


def test_refresh_token_is_stored_hashed(client: FlaskClient, make_user) -> None:
    from exchange.api.models import RefreshToken

    issued = sign_in(client, make_user("prosecutor"))
    stored = [r.token_hash for r in db.session.query(RefreshToken)]
    assert issued["refresh_token"] not in stored
    assert auth_services.token_digest(issued["refresh_token"]) in stored


def test_detail_in_the_users_language(client: FlaskClient) -> None:
    response = client.get("/api/v1/me", headers={"Accept-Language": "fr"})
    assert response.status_code == 401
    assert "jeton" in response.get_json()["detail"]
    response = client.get("/api/v1/me", headers={"Accept-Language": "pt"})
    assert "token" in response.get_json()["detail"]


def test_access_lifetime_is_short() -> None:
    assert timedelta(minutes=5) <= tokens.ACCESS_LIFETIME <= timedelta(minutes=15)


def test_an_api_sign_in_is_a_session_its_owner_can_end(client: FlaskClient, make_user) -> None:
    from exchange.auth import queries, signin
    from exchange.auth.models import UserSession

    user = make_user("prosecutor")
    issued = sign_in(client, user)
    rows = queries.live_sessions(
        db.session, user, idle=timedelta(minutes=30), lifetime=timedelta(hours=12)
    )
    assert len(rows) == 1  # listed on the account page, with "End this session"
    signin.end_session(db.session, db.session.get(UserSession, rows[0].id))
    db.session.commit()
    assert _me(client, issued["access_token"]).status_code == 401
    refused = client.post("/api/v1/tokens/refresh", json={"refresh_token": issued["refresh_token"]})
    assert refused.status_code == 401


def test_an_idle_api_sign_in_cannot_be_refreshed(client: FlaskClient, make_user) -> None:
    from exchange.auth.models import UserSession

    issued = sign_in(client, make_user("prosecutor"))
    row = db.session.query(UserSession).one()
    row.last_seen_at = row.last_seen_at - timedelta(minutes=31)
    db.session.commit()
    refused = client.post("/api/v1/tokens/refresh", json={"refresh_token": issued["refresh_token"]})
    assert refused.status_code == 401
