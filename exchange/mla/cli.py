"""``exchange mla``: check the request-type definitions; hand queued messages to hosted authorities."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from exchange.mla import services
from exchange.mla.blueprint import blobs_dir, max_annex_bytes
from exchange.mla.definitions import DefinitionError, load_types
from exchange.uow import unit_of_work

mla_cli = AppGroup("mla", help="Mutual legal assistance requests.")


@mla_cli.command("types")
def types_command() -> None:
    """Load and check every request-type file, and list the types with their legal sources."""
    try:
        types = load_types()
    except DefinitionError as exc:
        raise click.ClickException(str(exc)) from exc
    for code, definition in types.items():
        required = sum(1 for f in definition.all_fields if f.required)
        click.echo(f"{code:<28} {required:>2} required  {definition.source}")


@mla_cli.command("deliver-local")
def deliver_local_command() -> None:
    """Hand queued messages addressed to authorities hosted on this node to them (demo, tests).

    Messages to other nodes stay queued for the federation worker.
    """
    with unit_of_work() as session:
        count = services.deliver_locally(
            session, blobs_dir=blobs_dir(), max_annex_bytes=max_annex_bytes()
        )
    click.echo(f"{count} message(s) handed over locally")
