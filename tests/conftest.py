"""Fixtures: one database per test run (SQLite, or PostgreSQL when asked), an app per test.

The engine is chosen by ``EXCHANGE_TEST_DATABASE``: unset or ``sqlite`` for a SQLite file in a
temporary folder; a PostgreSQL server URL (``postgresql+psycopg://user@host:port/postgres``) for a
throw-away database created on that server for this run and dropped after it. ``make test`` runs the
suite once each way. The schema is built by the real migrations, not by ``create_all``.
"""

from __future__ import annotations

import contextvars
import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from exchange import create_app
from exchange.auth import passwords
from exchange.auth.models import User
from exchange.settings import Settings

DEFAULT_PASSWORD = "correct horse battery staple"


def pytest_report_header() -> str:
    """Say which database engine this run uses."""
    return f"exchange test database: {_engine_name()}"


def _engine_name() -> str:
    """Return ``sqlite`` or ``postgresql`` for this run."""
    url = os.environ.get("EXCHANGE_TEST_DATABASE", "sqlite")
    return "sqlite" if url == "sqlite" else "postgresql"


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> None:
    """Compile the translation catalogs, as ``make test`` does, for runs of pytest alone."""
    from exchange.i18n import compile_catalogs

    compile_catalogs()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Create this run's database, migrate it to the head revision, and drop it at the end."""
    server = os.environ.get("EXCHANGE_TEST_DATABASE", "sqlite")
    if server == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        _migrate(url, tmp_path_factory.mktemp("instance"))
        yield url
        return
    name = f"exchange_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url, tmp_path_factory.mktemp("instance"))
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str, instance: Path) -> None:
    """Run the migrations to head on ``url``."""
    from flask_migrate import upgrade

    app = create_app(_settings(url, instance))
    with app.app_context():
        upgrade()
        from exchange.extensions import db

        db.engine.dispose()


def _settings(url: str, instance: Path, **overrides: Any) -> Settings:
    """Return test settings on ``url``."""
    values: dict[str, Any] = {
        "env": "test",
        "database_url": url,
        "instance_path": instance,
        "secret_key": "test-secret-key-" + "x" * 32,
        "keys_dir": instance / "keys",
        "key_passphrase": "test passphrase",
        # Hundreds of key files are written per run: the production count (600,000) would cost
        # minutes; tests/envelopes/test_finding_13_key_kdf.py checks that default.
        "key_kdf_rounds": 1000,
    }
    values.update(overrides)
    return Settings(**values).checked()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override to change settings for the tests of one module (``idle minutes`` and such)."""
    return {}


@pytest.fixture
def app(database_url: str, tmp_path: Path, settings_overrides: dict[str, Any]) -> Iterator[Flask]:
    """Return an app on this run's database, with the directory seeded; empty the tables after."""
    application = create_app(_settings(database_url, tmp_path, **settings_overrides))
    application.test_client_class = IsolatedClient
    from exchange.directory.services import seed_directory
    from exchange.extensions import db

    with application.app_context():
        seed_directory(db.session)
        for code in ("SN-CA", "SN-TGI-TAMBA", "NG-CA"):
            db.session.execute(
                sa.update(_authority_table())
                .where(_authority_table().c.code == code)
                .values(hosted=True)
            )
        db.session.commit()
    ctx = application.app_context()
    ctx.push()
    try:
        yield application
    finally:
        db.session.rollback()
        db.session.remove()
        _empty_tables()
        db.engine.dispose()
        ctx.pop()


def _authority_table() -> sa.Table:
    from exchange.directory.models import Authority

    return Authority.__table__  # type: ignore[return-value]


def _empty_tables() -> None:
    """Delete every row of every table, children first."""
    from exchange.extensions import db

    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in fresh context variables.

    The tests hold an application context open; without this, Flask would reuse it for each
    request, sharing ``g`` (the loaded user, the CSRF token) and the database session between
    requests, which no real deployment does.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Run the request in an empty ``contextvars`` context, as a new server thread would."""
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client of ``app``."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    """Return a CLI runner of ``app``."""
    return app.test_cli_runner()


_hash_cache: dict[str, str] = {}


def password_hash(password: str) -> str:
    """Return an argon2id hash of ``password``, computed once per run (hashing is slow on purpose)."""
    if password not in _hash_cache:
        _hash_cache[password] = passwords.hash_password(password)
    return _hash_cache[password]


@pytest.fixture
def make_user(app: Flask):  # type: ignore[no-untyped-def]
    """Return a factory of users: ``make_user(role="prosecutor", authority="SN-TGI-TAMBA")``."""
    from exchange.auth import services
    from exchange.directory.queries import authority_by_code
    from exchange.extensions import db

    counter = iter(range(1, 10_000))

    def factory(
        role: str | tuple[str, ...] = "prosecutor",
        authority: str = "SN-TGI-TAMBA",
        *,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        totp: bool | None = None,
        name: str | None = None,
    ) -> User:
        roles = {role} if isinstance(role, str) else set(role)
        found = authority_by_code(db.session, authority)
        assert found is not None, authority
        n = next(counter)
        # .example is reserved (RFC 2606) and, unlike the special-use .test, a valid address.
        user = services.create_user(
            db.session,
            email=email or f"{'-'.join(sorted(roles))}{n}@{authority.lower()}.example",
            display_name=name or f"Test {'/'.join(sorted(roles))} {n}",
            authority=found,
            roles=roles,
        )
        user.password_hash = password_hash(password)
        if totp if totp is not None else user.totp_required:
            user.totp_secret = pyotp.random_base32()
            user.totp_enabled = True
        db.session.commit()
        return user

    return factory


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """Return the CSRF token of the client's session, read from a page's form."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def totp_code(user: User, *, offset_steps: int = 0) -> str:
    """Return a TOTP code of ``user`` that has not been used yet."""
    assert user.totp_secret
    step = int(time.time() // 30) + offset_steps
    if user.totp_last_step is not None and step <= user.totp_last_step:
        step = user.totp_last_step + 1
    return pyotp.TOTP(user.totp_secret).at(step * 30)


def login(client: FlaskClient, user: User, password: str = DEFAULT_PASSWORD) -> None:
    """Sign ``user`` in through the real forms, with the second factor where the user has one."""
    from exchange.extensions import db

    token = csrf_token(client)
    response = client.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    if response.headers["Location"].endswith("/login/second-factor"):
        db.session.refresh(user)
        token = csrf_token(client, "/login/second-factor")
        response = client.post(
            "/login/second-factor", data={"code": totp_code(user), "csrf_token": token}
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    db.session.expire_all()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port from a thread; return its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Launch Debian's Chromium through Playwright (its own browser download is not used)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):  # type: ignore[no-untyped-def]
    """Return a fresh browser page (own cookies) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server, locale="en-GB")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()
