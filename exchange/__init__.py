"""The Exchange: signed, encrypted mutual legal assistance between ECOWAS judicial authorities."""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from exchange.settings import Settings

# Every area's blueprint, as "module:attribute"; registered in this order.
BLUEPRINTS = (
    "exchange.core.routes:bp",
    "exchange.auth.routes:bp",
    "exchange.directory.routes:bp",
    "exchange.admin.routes:bp",
    "exchange.cases.person_routes:bp",
    "exchange.mla.routes:bp",
    "exchange.federation.routes:bp",
    "exchange.federation.carriage_routes:bp",
    "exchange.admin.federation_routes:bp",
    "exchange.notifications.routes:bp",
    "exchange.documents.verify_routes:bp",
    "exchange.desk.routes:bp",
    "exchange.documents.desk_routes:bp",
)

# Every area's click commands or groups, added to the ``exchange`` command line.
COMMANDS = (
    "exchange.directory.cli:authority_cli",
    "exchange.directory.cli:directory_cli",
    "exchange.auth.cli:user_cli",
    "exchange.demo:demo_cli",
    # The envelope layer's group, with the bundles' ``keys certificate`` command added to it.
    "exchange.documents.bundle_cli:keys_cli",
    "exchange.envelopes.cli:trust_cli",
    # The envelope layer's group, with the federation's offline carriage commands added to it.
    "exchange.federation.offline_cli:envelope_cli",
    "exchange.mla.cli:mla_cli",
    "exchange.documents.cli:documents_cli",
    "exchange.federation.cli:peer_cli",
    "exchange.federation.cli:worker_cli",
    "exchange.notifications.cli:notifications_cli",
    "exchange.documents.bundle_cli:bundle_cli",
    "exchange.documents.bundle_cli:verify_cli",
)

# Model modules, imported so that every table is known to the metadata and to Alembic.
MODELS = (
    "exchange.directory.models",
    "exchange.auth.models",
    "exchange.envelopes.models",
    "exchange.cases.models",
    "exchange.mla.models",
    "exchange.federation.models",
    "exchange.federation.records",
    "exchange.api.models",
    "exchange.notifications.models",
    "exchange.documents.models",
)

PACKAGE_DIR = Path(__file__).resolve().parent


def _load(target: str) -> Any:
    """Import ``module:attribute`` and return the attribute."""
    module, _, attribute = target.partition(":")
    return getattr(import_module(module), attribute)


class Node(Flask):
    """The node's Flask application: Flask's, which asks whether a function is a coroutine
    function once per function, not at each of the sixteen hooks and views of every request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain_functions: set[Callable[..., Any]] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Return ``func`` if it is a plain function, else Flask's synchronous wrapper of it."""
        try:
            if func in self._plain_functions:
                return func
        except TypeError:  # an unhashable callable: asked each time
            return super().ensure_sync(func)
        sync = super().ensure_sync(func)
        if sync is func:
            self._plain_functions.add(func)
        return sync


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Create the Flask application for one node, from ``settings`` or from the environment."""
    settings = settings or Settings.from_env(**overrides)
    protect_instance_files(settings.instance_path)
    app = Node(__name__, instance_path=str(settings.instance_path))
    app.config.from_mapping(_flask_config(settings))
    if settings.trusted_proxies:
        # Believe exactly as many X-Forwarded-For / -Proto entries as there are proxies of ours, so
        # that request.remote_addr is the real client (rate limits, lockouts and session binding
        # count per client, not per proxy) and a client cannot forge it by sending the header.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )

    from exchange import database, errors, i18n, security, uow
    from exchange.extensions import csrf, db, limiter, login_manager

    for module in MODELS:
        import_module(module)
    db.init_app(app)
    database.init_app(app)
    from exchange.db import render_migration_item

    # Flask-Migrate (Alembic) is imported by ``exchange db`` or an upgrade, not by the web process.
    database.init_migrations(
        app,
        directory=str(PACKAGE_DIR.parent / "migrations"),
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        render_item=render_migration_item,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    from exchange.auth import sessions

    sessions.init_app(app, login_manager)
    security.init_app(app)
    uow.init_app(app)
    errors.init_app(app)
    for target in BLUEPRINTS:
        app.register_blueprint(_load(target))
    from exchange.api import routes as api

    api.init_app(app)  # the REST API and its pages (flask-smorest registers its blueprints)
    for target in COMMANDS:
        app.cli.add_command(_load(target))
    from exchange.core.public_url import startup_message

    message = startup_message(settings)
    if message:
        app.logger.warning(message)
    return app


def protect_instance_files(instance_path: Path) -> None:
    """Make every file the node creates from now on, and its instance folder, owner-only.

    The instance folder holds the SQLite database (and its -wal and -shm files), with password
    hashes, session tokens and e-mail addresses, the development secret and the sealed blobs of
    annexes: no other local user may read them (review finding 15). The process umask covers
    every writer at once, including SQLite, which creates its files itself.
    """
    os.umask(os.umask(0o077) | 0o077)
    instance_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if instance_path.stat().st_uid == os.getuid():
        # An existing folder made under a looser umask: closing it closes every file inside.
        instance_path.chmod(instance_path.stat().st_mode & 0o700)


def _flask_config(settings: Settings) -> dict[str, Any]:
    """Translate the node's settings into Flask and extension configuration keys."""
    return {
        "EXCHANGE": settings,
        "SECRET_KEY": settings.secret_key,
        "TESTING": settings.env == "test",
        "SQLALCHEMY_DATABASE_URI": settings.database_url,
        # A server's connection may have been closed since it was pooled (a restart): ping it at
        # checkout. A SQLite file has no server: nothing to ping, one statement saved a request.
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": not settings.database_url.startswith("sqlite")
        },
        "MAX_CONTENT_LENGTH": settings.max_upload_mb * 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 512 * 1024,
        "MAX_FORM_PARTS": 200,
        "SESSION_COOKIE_NAME": "__Host-exchange" if settings.production else "exchange_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_COOKIE_SECURE": settings.production,
        "PERMANENT_SESSION_LIFETIME": settings.session_idle,
        "REMEMBER_COOKIE_DURATION": 0,
        "WTF_CSRF_TIME_LIMIT": None,  # the session's idle timeout already bounds a token's life
        "WTF_CSRF_SSL_STRICT": settings.production,
        "RATELIMIT_STORAGE_URI": settings.redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": True,
        "BABEL_DEFAULT_LOCALE": settings.default_locale,
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "BABEL_TRANSLATION_DIRECTORIES": ";".join(str(p) for p in translation_directories()),
    }


def translation_directories() -> list[Path]:
    """Return each area's ``translations`` folder: an area owns the catalog of its own messages."""
    return sorted(p for p in PACKAGE_DIR.glob("**/translations") if p.is_dir())
