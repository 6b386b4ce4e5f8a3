"""Behind EXCHANGE_TRUSTED_PROXIES proxies, limits count per client, and clients cannot forge it."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token

PROXY = "10.0.0.1"


@pytest.fixture
def settings_overrides():
    return {"login_rate_limit": "3 per minute", "trusted_proxies": 1}


def _post(client, forwarded_for: str) -> int:
    """Post a failing sign-in through the proxy on behalf of ``forwarded_for``."""
    return client.post(
        "/login",
        data={
            "email": "nobody@example.test",
            "password": "p" * 12,
            "csrf_token": csrf_token(client),
        },
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": PROXY},
    ).status_code


def test_finding_10_rate_limit_counts_each_client_behind_the_proxy(app):
    noisy, other = app.test_client(), app.test_client()
    assert [_post(noisy, "198.51.100.7") for _ in range(3)] == [401, 401, 401]
    assert _post(noisy, "198.51.100.7") == 429
    # Another client behind the same proxy still signs in: the limit is not the proxy's.
    assert _post(other, "198.51.100.8") == 401
    # The noisy client cannot escape by adding its own X-Forwarded-For entry: only the last one,
    # written by our proxy, is believed.
    assert _post(noisy, "203.0.113.99, 198.51.100.7") == 429
