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


@pytest.mark.parametrize("settings_overrides", [{}])
def test_a_limit_not_of_a_view_is_still_checked_before_each_request(app, client):
    """The limiter's per-request check runs only where such a limit exists (exchange.limits):
    none of the node's own, so a default limit, as a blueprint or application one, is counted
    there."""
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    from exchange import limits

    app.config["RATELIMIT_STORAGE_URI"] = "memory://"
    defaults = Limiter(key_func=get_remote_address, default_limits=["2 per minute"])
    defaults.init_app(app)
    limits.init_app(app, defaults)
    statuses = [client.get("/healthz").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
