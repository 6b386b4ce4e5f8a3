"""``exchange notifications``: the demo's SMTP sink, and one pass of the notifications' work."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from exchange.extensions import db


@click.group("notifications")
def notifications_cli() -> None:
    """Notifications: their e-mails and the demo's mail sink."""


@notifications_cli.command("send")
@with_appcontext
def send_command() -> None:
    """Notice passed deadlines and send the e-mails that are due, once (the worker does it too)."""
    from exchange.notifications import outbox, services

    counts = {**services.notice_overdue(db.session), **outbox.send_due(db.session)}
    click.echo(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "nothing due")


@notifications_cli.command("sink")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2525, show_default=True, type=int)
@click.option("--dir", "folder", required=True, type=click.Path(path_type=Path))
def sink_command(host: str, port: int, folder: Path) -> None:
    """Run a local SMTP server that writes every message it gets to FOLDER as a .eml file."""
    from exchange.notifications import sink

    sink.serve(folder, host, port)
