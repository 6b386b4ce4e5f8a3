"""With EXCHANGE_REDIS_URL set, the sign-in limit is kept in Redis, shared by every process."""

from __future__ import annotations

import pytest
import redis

from tests.conftest import csrf_token

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def settings_overrides():
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379")
    return {"redis_url": REDIS_URL, "login_rate_limit": "2 per minute"}


def test_login_limit_is_counted_in_redis(client):
    store = redis.Redis.from_url(REDIS_URL)
    data = {"email": "nobody@example.test", "password": "p" * 12, "csrf_token": csrf_token(client)}
    assert client.post("/login", data=data).status_code == 401
    assert client.post("/login", data=data).status_code == 401
    counters = store.keys("LIMITS*")
    assert counters, "no rate-limit counter in Redis"
    assert client.post("/login", data=data).status_code == 429
    # Another worker reading the same Redis sees the spent limit: clearing it lets the next one in.
    store.flushdb()
    assert client.post("/login", data=data).status_code == 401
    store.flushdb()
