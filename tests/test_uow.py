"""The unit of work: a refusal leaves nothing behind, a lost race is a 409, a job lost to a race
runs again — through the real app and database, with a blueprint of test routes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Blueprint
from sqlalchemy.orm.exc import StaleDataError

from exchange import uow
from exchange.auth.permissions import permission_required
from exchange.directory.models import Authority
from exchange.exceptions import Conflict, Refused
from exchange.extensions import db
from tests.conftest import login


@pytest.fixture
def probe(app, make_user):  # type: ignore[no-untyped-def]
    """Add routes that change an authority's name, then refuse, lose a race, or succeed."""
    bp = Blueprint("probe", __name__)

    def rename(then: str):  # type: ignore[no-untyped-def]
        authority = db.session.scalar(sa.select(Authority).where(Authority.code == "NG-CA"))
        authority.name = "Renamed"
        db.session.flush()  # the change reached the database inside the transaction
        if then == "refuse":
            raise Refused("not_allowed")
        if then == "race":
            raise StaleDataError("expected to update 1 row(s); 0 were matched")
        return "done"

    bp.add_url_rule(
        "/probe/<then>", view_func=permission_required("requests.view")(rename), methods=["POST"]
    )
    app.register_blueprint(bp)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    login(client, make_user("prosecutor"))
    return client


def _name() -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(Authority.name).where(Authority.code == "NG-CA"))


def test_a_refusal_discards_what_was_flushed(probe):
    before = _name()
    assert probe.post("/probe/refuse").status_code == 400
    assert _name() == before


def test_a_lost_race_is_a_409_and_discards(probe):
    before = _name()
    answer = probe.post("/probe/race", headers={"Accept": "application/json"})
    assert answer.status_code == 409
    assert answer.mimetype == "application/problem+json" and answer.json["status"] == 409
    assert _name() == before


def test_a_success_commits(probe):
    assert probe.post("/probe/ok").status_code == 200
    assert _name() == "Renamed"


def test_a_job_that_loses_a_race_runs_again_then_gives_up(app):
    runs: list[int] = []

    def job() -> str:
        runs.append(1)
        if len(runs) < 3:
            raise Conflict()
        return "applied"

    assert uow.run_job(db.session, job) == "applied" and len(runs) == 3
    runs.clear()

    def always() -> None:
        runs.append(1)
        raise Conflict()

    with pytest.raises(Conflict):
        uow.run_job(db.session, always, attempts=3)
    assert len(runs) == 3


def test_a_job_does_not_retry_other_errors(app):
    runs: list[int] = []

    def broken() -> None:
        runs.append(1)
        raise ValueError("a bug, not a race")

    with pytest.raises(ValueError):
        uow.run_job(db.session, broken)
    assert runs == [1]
