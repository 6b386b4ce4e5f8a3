"""The contract of the documents and paper operations, reached and not only refused: schemathesis
calls each with its path pinned to a real request, a built bundle and a dispatch, as the liaison
officer who handles their paper and as the prosecutor who drafted the request (bounded in
examples). No 5xx; every answer — PDF attachments included — matches its declared schema."""

from __future__ import annotations

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

from exchange.auth.models import User
from exchange.db import utcnow
from exchange.documents import dispatch, jobs
from exchange.extensions import db
from exchange.mla.models import MlaRequest
from tests.api.conftest import contract_settings, sign_in

EXAMPLES = 3
PAPER_PATHS = ("/documents/", "/bundles", "/dispatches", "/paper")


@pytest.fixture
def paper(app: Flask, runner: Any, make_user: Any, transmitted: Any, bundle_builder: Any) -> Any:
    """Return the users and the path values of a transmitted request with a built bundle and a
    dispatch recorded."""
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    liaison = make_user("liaison_officer", "SN-CA")
    request = transmitted(prosecutor=prosecutor)
    job = jobs.queue_bundle(db.session, liaison, request, lang="en")
    db.session.commit()
    ids = (prosecutor.id, liaison.id, request.id, job.public_id)
    result = runner.invoke(args=["worker", "--once"])
    assert "bundles.built=1" in result.output, result.output
    prosecutor, liaison = db.session.get(User, ids[0]), db.session.get(User, ids[1])
    request = db.session.get(MlaRequest, ids[2])
    sent = dispatch.record_dispatch(
        db.session, liaison, request, channel="courier", reference="C/1", on=utcnow().date()
    )
    db.session.commit()
    values = {
        "public_id": request.public_id,
        "job_id": ids[3],
        "dispatch_id": sent.public_id,
    }
    return {"users": {"liaison": liaison, "prosecutor": prosecutor}, "values": values}


@pytest.mark.parametrize("who", ["liaison", "prosecutor"])
def test_the_paper_operations_keep_their_contract(app: Flask, paper: Any, who: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    user = paper["users"][who]
    checks = [not_a_server_error, response_schema_conformance, status_code_conformance]
    operations = [
        op
        for op in (result.ok() for result in schema.get_all_operations())
        if any(part in op.path for part in PAPER_PATHS)
    ]
    assert len(operations) >= 9, [op.label for op in operations]
    statuses: dict[str, set[int]] = {}

    def token() -> str:
        access: str = sign_in(app.test_client(), user)["access_token"]
        db.session.commit()
        return access

    headers = {"Authorization": f"Bearer {token()}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @contract_settings(EXAMPLES)
        def call(case: Any) -> None:
            if case.path_parameters:
                pinned = {k: paper["values"].get(k, v) for k, v in case.path_parameters.items()}
                case.path_parameters = pinned
            response = case.call_and_validate(headers=headers, checks=checks)
            statuses.setdefault(case.operation.label, set()).add(response.status_code)

        call()
    # The PDFs were served and checked against their declared (binary) schema.
    pdfs = (
        "GET /api/v1/bundles/{job_id}/pdf",
        "GET /api/v1/requests/{public_id}/documents/{document}",
    )
    if who == "liaison":
        assert 200 in statuses[pdfs[0]], statuses
        assert 200 in statuses["GET /api/v1/paper"], statuses
    else:
        assert 200 in statuses[pdfs[1]], statuses
        assert statuses[pdfs[0]] == {403}, statuses
