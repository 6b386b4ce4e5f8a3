"""The OpenAPI document is the contract: schemathesis calls every operation from it (bounded in
examples and time) and checks that no call fails with a 5xx and that every answer matches its
schema. Runs on whichever engine the suite runs on (SQLite or PostgreSQL)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import given
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from exchange.extensions import db
from tests.api.conftest import contract_settings, sign_in

# Bounds of the run: examples per operation, and the whole run's time.
EXAMPLES = 4
TIME_BUDGET = 120.0


# Operations that end the credential they are called with: each call gets a sign-in of its own.
SIGN_OUTS = frozenset({"DELETE /api/v1/tokens"})


@pytest.fixture
def new_token(app: Flask, make_user, make_case):  # type: ignore[no-untyped-def]
    """Return a factory of access tokens of a prosecutor with a case, for the calls."""
    user = make_user("prosecutor")
    make_case(user, number="PR-SCHEMA-1")

    def factory() -> str:
        access: str = sign_in(app.test_client(), user)["access_token"]
        db.session.commit()
        return access

    return factory


def test_every_operation_keeps_its_contract(app: Flask, new_token: Any) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {new_token()}"}
    checks = [not_a_server_error, response_schema_conformance, status_code_conformance]
    started = time.monotonic()
    statuses: dict[int, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 25
    for operation in operations:
        if time.monotonic() - started > TIME_BUDGET:
            pytest.fail(f"the contract run took over {TIME_BUDGET}s")

        @given(case=operation.as_strategy())
        @contract_settings(EXAMPLES)
        def call(case: Any) -> None:
            sent = headers
            if case.operation.label in SIGN_OUTS:
                sent = {"Authorization": f"Bearer {new_token()}"}
            response = case.call_and_validate(headers=sent, checks=checks)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        call()
    # The run reached the operations, not only their refusals.

    assert sum(n for code, n in statuses.items() if code < 300) >= len(operations) // 3, statuses


def test_the_document_is_served_without_a_token(client: Any) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/requests/{public_id}" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_the_documentation_page_has_no_external_asset(client: Any) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "/api/v1/requests/{public_id}" in page and "PATCH" in page
    assert "http://" not in page.replace("http://localhost", "") and "https://" not in page
    assert "<script" not in page
