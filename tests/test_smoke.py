"""The app starts, answers its health check, and the models match the head migration."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from exchange.extensions import db
from tests.conftest import login


def test_healthz_is_public(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_models_match_head_migration(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_home_after_login(client, make_user):
    user = make_user("prosecutor")
    login(client, user)
    page = client.get("/").get_data(as_text=True)
    assert user.display_name in page
