"""A second node in the same test process: its own database, instance folder and keys.

Dakar is the test's ``app`` (SN-CA, SN-TGI-TAMBA hosted; NG-CA made foreign); Abuja is a second
application on a second database (a SQLite file, or a database created on the PostgreSQL server
of the run) that hosts NG-CA. The two trust each other's authority keys as ``exchange trust
import`` would, and are not peers: nothing travels between them but the files a test carries.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from exchange import create_app
from exchange.envelopes import import_jwks, local_trust
from exchange.envelopes.stores import DbTrustStore, key_store, node_envelopes
from exchange.extensions import db
from tests.conftest import IsolatedClient, _empty_tables, _settings

DAKAR_CODES = ("SN-CA", "SN-TGI-TAMBA")
ABUJA_CODES = ("NG-CA",)


def _host(codes: tuple[str, ...], foreign: tuple[str, ...]) -> None:
    """Host ``codes`` on the current node (with keys), make ``foreign`` another node's."""
    from exchange.directory.models import Authority

    for code in codes + foreign:
        db.session.execute(
            sa.update(Authority).where(Authority.code == code).values(hosted=code in codes)
        )
    envelopes = node_envelopes(db.session)
    for code in codes:
        if not envelopes.keys.hosts(code):
            envelopes.keys.generate(code, pdf=False)
        local_trust(envelopes.keys, envelopes.trust, code)
    db.session.commit()


@contextmanager
def on(node: Flask) -> Iterator[Any]:
    """Run a block on ``node``: its application context and database session."""
    with node.app_context():
        try:
            yield db.session
        finally:
            db.session.remove()


def _public_keys(node: Flask, codes: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    with on(node):
        return {code: key_store().public_jwks(code) for code in codes}


def _trust(node: Flask, jwks: dict[str, dict[str, Any]]) -> None:
    with on(node) as session:
        for code, keys in jwks.items():
            import_jwks(
                DbTrustStore(session),
                keys,
                hosted=key_store().authorities_set(),
                authority=code,
                source="import:test",
            )
        session.commit()


@pytest.fixture(scope="session")
def abuja_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Create Abuja's database once per run, migrated to the head revision; drop it at the end."""
    from flask_migrate import upgrade

    server = os.environ.get("EXCHANGE_TEST_DATABASE", "sqlite")
    admin = None
    name = f"exchange_abuja_{os.getpid()}_{secrets.token_hex(3)}"
    if server == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('abuja-db') / 'abuja.sqlite'}"
    else:
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        migrating = create_app(_settings(url, tmp_path_factory.mktemp("abuja-migrate")))
        with on(migrating):
            upgrade()
            db.engine.dispose()
        yield url
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture
def abuja(app: Flask, abuja_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Return Abuja, a second node on its own database; Dakar (``app``) and Abuja trust each other."""
    from exchange.directory.services import seed_directory

    other = create_app(_settings(abuja_database_url, tmp_path / "abuja"))
    other.test_client_class = IsolatedClient
    try:
        with on(other):
            seed_directory(db.session)
            _host(ABUJA_CODES, DAKAR_CODES)
        _host(DAKAR_CODES, ABUJA_CODES)  # Dakar, the test's own app context
        _trust(other, _public_keys(app, DAKAR_CODES))
        _trust(app, _public_keys(other, ABUJA_CODES))
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            _empty_tables()
            db.engine.dispose()
