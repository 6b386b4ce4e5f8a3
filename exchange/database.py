"""Engine-level settings (SQLite in WAL mode with foreign keys enforced) and the migrations.

Flask-Migrate brings Alembic, Mako and Pygments (about 11 MiB resident): only ``exchange db``
commands and the code that upgrades a database use them, never a request. So the web process
does not import them: ``init_migrations`` leaves a stand-in as ``app.extensions["migrate"]``
that sets Flask-Migrate up on first use, and the application's command group adds ``db`` when
a command line asks for it.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import event
from sqlalchemy.engine import Engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Turn on foreign keys, WAL and a busy timeout on each new SQLite connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def init_app(app: Flask) -> None:
    """Attach the SQLite pragmas to the application's engine when it is SQLite."""
    from exchange.extensions import db

    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)


class _DeferredMigrate:
    """``app.extensions["migrate"]`` until something reads it: Flask-Migrate set up on first use.

    ``flask_migrate.upgrade()`` and the other commands, and ``migrations/env.py``, read attributes
    of that entry (``migrate``, ``db``, ``configure_args``): the first read sets Flask-Migrate up,
    which replaces this stand-in by its own configuration, and answers from it.
    """

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self._app = app
        self._options = options

    def __getattr__(self, name: str) -> Any:
        return getattr(_set_up_migrations(self._app, self._options), name)


def _set_up_migrations(app: Flask, options: dict[str, Any]) -> Any:
    """Set Flask-Migrate up on ``app`` (its ``db`` commands too); return its configuration."""
    current = app.extensions.get("migrate")
    if not isinstance(current, _DeferredMigrate):
        return current
    from flask_migrate import Migrate

    from exchange.extensions import db

    Migrate().init_app(app, db, **options)
    return app.extensions["migrate"]


class _AppCommands(AppGroup):
    """The application's command group, which sets Flask-Migrate up when ``db`` is asked for."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        super().__init__(app.name)
        self._app = app
        self._options = options

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return a command; ``db`` sets Flask-Migrate up first."""
        if cmd_name == "db" and "db" not in self.commands:
            _set_up_migrations(self._app, self._options)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """List the commands, ``db`` included before Flask-Migrate is set up."""
        return sorted({*super().list_commands(ctx), "db"})


def init_migrations(app: Flask, **options: Any) -> None:
    """Make Flask-Migrate's commands and configuration available, imported on first use.

    ``options`` are those of ``Migrate.init_app`` (directory, ``render_as_batch``, ...). The
    application's command group is replaced by one that adds ``db`` on demand, with the commands
    the old one had.
    """
    commands = _AppCommands(app, options)
    commands.commands.update(app.cli.commands)
    app.cli = commands
    app.extensions["migrate"] = _DeferredMigrate(app, options)
