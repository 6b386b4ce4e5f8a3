"""``exchange demo setup`` leaves the liaison officer's desk with a dispatch to make: a request
approved and transmitted to Nigeria, with a PDF annex, whose bundle the worker builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.auth.services import find_user
from exchange.documents import dispatch, jobs
from exchange.extensions import db


@pytest.fixture
def settings_overrides():  # type: ignore[no-untyped-def]
    return {"demo": True}


def test_the_demo_liaison_officer_has_a_transmitted_request_to_dispatch(app, runner):
    result = runner.invoke(args=["demo", "setup"])
    assert result.exit_code == 0, result.output
    liaison = find_user(db.session, "liaison@sn.demo")
    assert liaison is not None and liaison.can("documents.dispatch")
    awaiting = dispatch.awaiting_dispatch(db.session, liaison)
    assert len(awaiting) == 1
    request = awaiting[0]
    assert request.state == "transmitted" and request.counterpart.code == "NG-CA"
    assert [a.content_type for a in request.annexes] == ["application/pdf"]
    job = jobs.queue_bundle(db.session, liaison, request, lang=jobs.default_language(request))
    db.session.commit()
    counts = jobs.run_pass(db.session, bundles_dir=Path(app.instance_path) / "bundles")
    assert counts == {"built": 1}, job.error
    again = runner.invoke(args=["demo", "setup"])  # twice is fine: no second request
    assert again.exit_code == 0, again.output
    assert dispatch.count_awaiting_dispatch(db.session, liaison) == 1
