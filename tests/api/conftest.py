"""Fixtures of the API tests: tokens got through the real sign-in, bearer headers."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from exchange.extensions import db
from tests.conftest import DEFAULT_PASSWORD, totp_code


def sign_in(client: FlaskClient, user: Any, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
    """Sign ``user`` in to the API (with the current code where the account has one)."""
    body = {"email": user.email, "password": password}
    if user.totp_enabled:
        db.session.refresh(user)
        body["code"] = totp_code(user)
    response = client.post("/api/v1/tokens", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    tokens: dict[str, Any] = response.get_json()
    return tokens


def contract_settings(examples: int) -> settings:
    """Return the bounds of a schemathesis run of one operation: ``examples`` cases, the same
    ones every run (derandomized, no example database), no deadline or health check (each case
    is a real request through the application)."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header of ``token``."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api_headers(client: FlaskClient):  # type: ignore[no-untyped-def]
    """Return a factory: the bearer header of a fresh access token of ``user``."""

    def factory(user: Any) -> dict[str, str]:
        return bearer(sign_in(client, user)["access_token"])

    return factory


# The request area's fixtures, for the access matrix replayed over the API, and the paper
# desk's, for documents and bundles through the API.
from tests.documents.conftest import bundle_builder, transmitted  # noqa: E402, F401
from tests.mla.conftest import count_queries, make_case, make_request  # noqa: E402, F401
