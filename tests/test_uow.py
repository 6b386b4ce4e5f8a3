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
from tests.api.conftest import bearer, sign_in
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


@pytest.fixture
def writer(app, make_user):  # type: ignore[no-untyped-def]
    """Add a GET route that writes each way a view can (or only reads)."""

    def write(how: str) -> str:
        table = Authority.__table__
        if how == "core":  # a Core UPDATE through the session, nothing for a flush to send
            db.session.execute(
                sa.update(table).where(table.c.code == "NG-CA").values(name="By Core")
            )
        elif how == "pending":  # an attribute changed, flushed only by the commit
            authority = db.session.scalar(sa.select(Authority).where(Authority.code == "NG-CA"))
            authority.name = "Pending"
        elif how == "flushed":  # sent by a flush, then nothing left pending
            authority = db.session.scalar(sa.select(Authority).where(Authority.code == "NG-CA"))
            authority.name = "Flushed"
            db.session.flush()
        else:  # only reads
            db.session.scalar(sa.select(Authority).where(Authority.code == "NG-CA"))
        return "done"

    # An API route: a bearer call, whose authentication writes nothing (a portal page's
    # session loader notes the session's last use on every request).
    app.add_url_rule(
        "/api/v1/write/<how>",
        endpoint="api.write_probe",
        view_func=permission_required("requests.view")(write),
        methods=["GET"],
    )
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = bearer(
        sign_in(client, make_user("prosecutor"))["access_token"]
    )["Authorization"]
    return client


@pytest.mark.parametrize(
    ("how", "name"), [("core", "By Core"), ("pending", "Pending"), ("flushed", "Flushed")]
)
def test_a_read_that_writes_commits_whichever_way_it_wrote(writer, how, name):  # type: ignore[no-untyped-def]
    assert writer.get(f"/api/v1/write/{how}").status_code == 200
    assert _name() == name


def test_a_request_that_only_reads_commits_nothing(writer):  # type: ignore[no-untyped-def]
    """Nothing to commit: its session is closed at the end of the request (its transaction
    ended there), without a commit."""
    commits: list[object] = []

    def count(session: object) -> None:
        commits.append(session)

    before = _name()
    sa.event.listen(sa.orm.Session, "after_commit", count)
    try:
        assert writer.get("/api/v1/write/nothing").status_code == 200
    finally:
        sa.event.remove(sa.orm.Session, "after_commit", count)
    assert commits == []
    assert _name() == before
