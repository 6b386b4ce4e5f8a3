"""The token routes are rate-limited as the portal's sign-in is (Flask-Limiter)."""

from __future__ import annotations

import pytest


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
