"""Behind a trusted TLS proxy the node knows it is served over HTTPS, so CSRF checks the Referer too.

Suspicion S4 of the security review: without ProxyFix, ``request.is_secure`` is false behind a TLS
proxy and Flask-WTF's strict Referer check (``WTF_CSRF_SSL_STRICT``) never runs. With
``EXCHANGE_TRUSTED_PROXIES`` the proxy's ``X-Forwarded-Proto`` is believed, and only the proxy's.
"""

from __future__ import annotations

import re

import pytest

PROXY = "10.0.0.1"
HOST = "exchange.justice.example"


@pytest.fixture
def settings_overrides():
    # Production refuses weak key files; this test writes none, so the default costs nothing.
    return {"env": "production", "trusted_proxies": 1, "key_kdf_rounds": 600_000}


def _through_proxy(**headers: str) -> dict:
    """Return the request arguments of a client behind the proxy, which terminates TLS."""
    return {
        "base_url": f"http://{HOST}",  # the proxy speaks plain HTTP to the node
        "environ_base": {"REMOTE_ADDR": PROXY},
        "headers": {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https", **headers},
    }


def _sign_in(client, **headers: str) -> int:
    """Post a failing sign-in through the proxy with ``headers`` and return the status."""
    page = client.get("/login", **_through_proxy())
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data)
    assert token, "the sign-in page carries a CSRF token"
    return client.post(
        "/login",
        data={
            "email": "nobody@example.test",
            "password": "p" * 12,
            "csrf_token": token.group(1).decode(),
        },
        **_through_proxy(**headers),
    ).status_code


def test_suspicion_s4_csrf_checks_the_referer_behind_a_tls_proxy(app):
    # A token alone is not enough over HTTPS: the form must come from this origin.
    assert _sign_in(app.test_client()) == 400
    assert _sign_in(app.test_client(), Referer="https://attacker.example/login") == 400
    # From the node's own pages the same post reaches the sign-in decision (wrong password: 401).
    assert _sign_in(app.test_client(), Referer=f"https://{HOST}/login") == 401


def test_suspicion_s4_only_the_proxys_scheme_entry_is_believed(app):
    # A client behind the proxy that adds its own "https" entry is not believed: the proxy
    # appended "http" (the client reached it in clear), and only that last entry counts, so the
    # request is not secure and the Referer check does not apply (401, not 400, without Referer).
    assert _sign_in(app.test_client(), **{"X-Forwarded-Proto": "https, http"}) == 401
