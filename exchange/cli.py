"""The ``exchange`` console script: a Flask CLI group, so every ``flask`` command works through it."""

from __future__ import annotations

from functools import wraps
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo, run_command
from werkzeug.serving import is_running_from_reloader


def _create_app() -> Flask:
    """Create the application from the environment for a command."""
    from exchange import create_app

    return create_app()


def _run_telling_where_links_point(run: Any) -> Any:
    """Wrap ``flask run`` so that it first says where enrolment links will point."""

    @wraps(run)
    def callback(*args: Any, **kwargs: Any) -> Any:
        """Tell the operator about enrolment links (once, not again in the reloader), then run."""
        from exchange.core.public_url import startup_message

        if not is_running_from_reloader():
            app = click.get_current_context().ensure_object(ScriptInfo).load_app()
            scheme = "https" if kwargs.get("cert") else "http"
            listening = f"{scheme}://{kwargs.get('host')}:{kwargs.get('port')}"
            settings = app.config["EXCHANGE"]
            message = startup_message(settings, listening)
            # The factory has logged what it could tell without the address: say only more.
            if message and message != startup_message(settings):
                click.echo(f"{'note' if settings.public_url else 'warning'}: {message}", err=True)
        return run(*args, **kwargs)

    return callback


# ``exchange run``: Flask's development server, which also says where enrolment links point.
exchange_run = click.Command(
    name="run",
    callback=_run_telling_where_links_point(run_command.callback),
    params=list(run_command.params),
    help=run_command.help,
    short_help=run_command.short_help,
    context_settings=run_command.context_settings,
)

cli = FlaskGroup(
    name="exchange",
    create_app=_create_app,
    add_version_option=False,
    help="The Exchange: manage a node (database, directory, users, keys, envelopes, demo).",
)
cli.add_command(exchange_run)


def main() -> None:
    """Run the ``exchange`` command line."""
    cli.main(prog_name="exchange")
