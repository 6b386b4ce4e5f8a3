"""The ``exchange`` console script: a Flask CLI group, so every ``flask`` command works through it."""

from __future__ import annotations

from flask import Flask
from flask.cli import FlaskGroup


def _create_app() -> Flask:
    """Create the application from the environment for a command."""
    from exchange import create_app

    return create_app()


cli = FlaskGroup(
    name="exchange",
    create_app=_create_app,
    add_version_option=False,
    help="The Exchange: manage a node (database, directory, users, keys, envelopes, demo).",
)


def main() -> None:
    """Run the ``exchange`` command line."""
    cli.main(prog_name="exchange")
