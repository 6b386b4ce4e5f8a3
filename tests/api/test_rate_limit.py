"""The token routes are rate-limited as the portal's sign-in is (Flask-Limiter), and a read that
declares a limit of its own keeps it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from exchange.auth.permissions import permission_required
from exchange.extensions import limiter


@pytest.fixture
def settings_overrides():  # type: ignore[no-untyped-def]
    return {"login_rate_limit": "3 per minute"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/tokens", lambda i: {"email": f"nobody{i}@example.test", "password": "p" * 12}),
        ("/api/v1/tokens/refresh", lambda i: {"refresh_token": f"not-a-token-{i}"}),
    ],
)
def test_token_routes_answer_429_past_the_limit(client, path, body) -> None:  # type: ignore[no-untyped-def]
    statuses = [client.post(path, json=body(i)).status_code for i in range(5)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]
    response = client.post(path, json=body(9))
    assert response.mimetype == "application/problem+json"


def test_an_api_read_with_a_limit_of_its_own_is_limited(
    app: Flask, client: FlaskClient, make_user: Any, api_headers: Any
) -> None:
    """No filter exempts the API's reads wholesale: a GET view that declares a limit keeps it
    (the reads without one cost the limiter no storage call: it resolves no limit for them)."""

    @permission_required("requests.view")
    @limiter.limit("2 per minute")
    def probe() -> dict[str, bool]:
        return {"ok": True}

    app.add_url_rule("/api/v1/probe", endpoint="api.probe", view_func=probe, methods=["GET"])
    headers = api_headers(make_user("prosecutor"))
    statuses = [client.get("/api/v1/probe", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]
    assert client.get("/api/v1/probe", headers=headers).mimetype == "application/problem+json"


@pytest.mark.parametrize("settings_overrides", [{"document_rate_limit": "2 per minute"}])
def test_document_rendering_is_limited_per_user(
    client: FlaskClient, make_user: Any, api_headers: Any, transmitted: Any
) -> None:
    """Each rendering of a document costs a worker about a second: a user past the limit gets
    429 as problem details, whatever the answer of the calls before; another user is not held."""
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    request = transmitted(prosecutor=prosecutor)
    url = f"/api/v1/requests/{request.public_id}/documents/letter?lang=de"  # refused: no PDF made
    headers = api_headers(prosecutor)
    statuses = [client.get(url, headers=headers).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    refused = client.get(url, headers={**headers, "Accept-Language": "fr"})
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["status"] == 429
    colleague = api_headers(make_user("prosecutor", "SN-TGI-TAMBA"))
    assert client.get(url, headers=colleague).status_code == 422  # counted apart
