"""Flask-Limiter caps sign-in attempts per address, whatever accounts they aim at."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token


@pytest.fixture
def settings_overrides():
    return {"login_rate_limit": "3 per minute"}


def test_login_rate_limit_answers_429(client):
    token = csrf_token(client)
    statuses = [
        client.post(
            "/login",
            data={"email": f"nobody{i}@example.test", "password": "p" * 12, "csrf_token": token},
        ).status_code
        for i in range(5)
    ]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]
    page = client.post("/login", data={"csrf_token": token}).get_data(as_text=True)
    assert "Too many attempts" in page


def test_forwarded_for_is_ignored_without_trusted_proxies(client):
    """With no proxy configured, X-Forwarded-For neither spreads nor shifts a limit (finding 10 guard)."""
    token = csrf_token(client)
    statuses = [
        client.post(
            "/login",
            data={"email": "nobody@example.test", "password": "p" * 12, "csrf_token": token},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        ).status_code
        for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
