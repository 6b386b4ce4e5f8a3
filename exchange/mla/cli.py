"""``exchange mla``: check the request-type definitions; hand queued messages to hosted authorities."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from exchange.mla import services
from exchange.mla.blueprint import blobs_dir, max_annex_bytes
from exchange.mla.definitions import LANGS, DefinitionError, load_types
from exchange.uow import unit_of_work

mla_cli = AppGroup("mla", help="Mutual legal assistance requests.")


@mla_cli.command("types")
@click.option(
    "--lang",
    type=click.Choice(LANGS),
    multiple=True,
    help="Language of the listing (repeatable); all three by default.",
)
def types_command(lang: tuple[str, ...]) -> None:
    """Load and check every request-type file; list each type with its required elements and
    their legal sources, in English, French and Portuguese."""
    try:
        types = load_types()
    except DefinitionError as exc:
        raise click.ClickException(str(exc)) from exc
    for code, definition in types.items():
        required = [f for f in definition.all_fields if f.required]
        conditional = [f for f in definition.all_fields if f.required_when is not None]
        click.echo(f"{code} ({len(required)} required, lifecycle {definition.lifecycle})")
        for locale in lang or LANGS:
            click.echo(
                f"  [{locale}] {definition.label_in(locale)} — {definition.source_in(locale)}"
            )
            for f in required:
                click.echo(f"      * {f.label_in(locale)} — {f.source_in(locale)}")
            for f in conditional:
                click.echo(f"      + {f.label_in(locale)} — {f.source_in(locale)}")


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
