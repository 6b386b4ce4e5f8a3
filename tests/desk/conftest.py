"""Fixtures of the desk tests: the request area's cases, requests and query counter."""

from __future__ import annotations

from typing import Any

from flask import current_app

from exchange.auth import signin
from exchange.db import utcnow
from exchange.desk import queries
from exchange.extensions import db
from tests.mla import conftest as mla_fixtures

make_case = mla_fixtures.make_case
make_request = mla_fixtures.make_request
count_queries = mla_fixtures.count_queries
tab = mla_fixtures.tab


def lock_key(email: str) -> str:
    """Return the account-wide sign-in counter key of ``email`` under the test settings."""
    policy = signin.LoginPolicy.from_settings(current_app.config["EXCHANGE"])
    return signin.account_lock_key(policy, email)


def desk_of(user: Any, *, since: Any = None) -> dict[str, list[Any]]:
    """Return the rows of each desk section of ``user``, by section name."""
    db.session.expire_all()
    context = queries.DeskContext(actor=user, now=utcnow(), since=since, lock_key=lock_key)
    return {s.key: s.rows for s in queries.desk_sections(db.session, context)}


def ids(rows: list[Any]) -> list[str]:
    """Return the public ids of a section's requests (the request of an event row)."""
    return [(row[-1] if isinstance(row, tuple) else row).public_id for row in rows]
