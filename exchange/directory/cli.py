"""Command line for the directory: ``exchange directory seed``, ``exchange authority add|list``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from exchange.directory import queries, services
from exchange.directory.models import AUTHORITY_KINDS
from exchange.uow import unit_of_work

directory_cli = AppGroup(
    "directory", help="Load and inspect the directory of states and authorities."
)
authority_cli = AppGroup("authority", help="Manage authorities (hosted on this node or foreign).")


@directory_cli.command("seed")
def seed_command() -> None:
    """Load or refresh the ECOWAS states, instruments and authorities shipped with the Exchange."""
    with unit_of_work() as session:
        counts = services.seed_directory(session)
    click.echo(
        f"directory: {counts['jurisdictions']} states, {counts['instruments']} instruments, "
        f"{counts['authorities']} authorities, {counts['laws']} national laws"
    )


@authority_cli.command("add")
@click.argument("code")
@click.option("--name", required=True, help="Full name of the authority.")
@click.option("--kind", type=click.Choice(AUTHORITY_KINDS), required=True)
@click.option("--state", "jurisdiction_code", required=True, help="ISO 3166-1 alpha-2 code.")
@click.option("--hosted/--foreign", default=False, help="Hosted on this node (users, keys) or not.")
@click.option("--email", default="")
@click.option("--phone", default="")
def add_authority_command(
    code: str, name: str, kind: str, jurisdiction_code: str, hosted: bool, email: str, phone: str
) -> None:
    """Add an authority to the directory."""
    try:
        with unit_of_work() as session:
            authority = services.add_authority(
                session,
                code=code,
                name=name,
                kind=kind,
                jurisdiction_code=jurisdiction_code.upper(),
                hosted=hosted,
                email=email,
                phone=phone,
            )
            where = "hosted here" if authority.hosted else "foreign"
            click.echo(f"authority {authority.code} added ({where})")
    except services.DirectoryError as exc:
        raise click.ClickException(
            {
                "bad_code": "the code may hold only letters, digits and hyphens (at most 40)",
                "unknown_kind": "unknown kind of authority",
                "unknown_jurisdiction": f"no state {jurisdiction_code!r} in the directory "
                "(run `exchange directory seed` first?)",
                "code_taken": f"an authority {code.upper()!r} already exists",
                "bad_email": f"{email!r} is not a valid e-mail address",
            }.get(exc.code, exc.code)
        ) from exc


@authority_cli.command("list")
@click.option("--state", "jurisdiction_code", default=None)
def list_authorities_command(jurisdiction_code: str | None) -> None:
    """List authorities, hosted ones marked with an asterisk."""
    with unit_of_work() as session:
        for a in queries.authorities(
            session, jurisdiction_code=jurisdiction_code.upper() if jurisdiction_code else None
        ):
            click.echo(f"{'*' if a.hosted else ' '} {a.code:<16} {a.kind:<28} {a.name}")
