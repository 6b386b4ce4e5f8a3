"""``exchange documents render``: an official document of a request, as PDF/A-3b or HTML."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from exchange.auth.services import find_user
from exchange.documents.context import document_context, find_by_reference
from exchange.documents.rendering import (
    LANGUAGES,
    DocumentError,
    documents,
    html_to_pdf,
    render_parts_html,
)
from exchange.uow import unit_of_work

documents_cli = AppGroup("documents", help="Official documents of requests (letters, notices).")


@documents_cli.command("render")
@click.option("--request", "reference", required=True, help="The request's reference (portal).")
@click.option("--document", required=True, type=click.Choice(documents()), help="Which document.")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    help="Its language; by default the request's (the requested state's language).",
)
@click.option(
    "--also",
    type=click.Choice(LANGUAGES),
    multiple=True,
    help="Another language, as a second part after the first (repeatable).",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--html", "as_html", is_flag=True, help="Write the HTML instead of the PDF.")
@click.option(
    "--as",
    "as_user",
    metavar="EMAIL",
    help="Render as this user: their access to the request, and identities if they may see them.",
)
def render_command(
    reference: str,
    document: str,
    lang: str | None,
    also: tuple[str, ...],
    out: Path,
    as_html: bool,
    as_user: str | None,
) -> None:
    """Render an official document of a request (PDF/A-3b), in one language or several.

    Without --as the operator renders it: the persons appear by label and capacity only.
    """
    with unit_of_work() as session:
        actor = None
        if as_user is not None:
            actor = find_user(session, as_user)
            if actor is None or not actor.active:
                raise click.ClickException(f"no active user {as_user!r}")
        try:
            request = find_by_reference(session, actor, reference)
            first = lang or request.language
            langs = [first, *(extra for extra in also if extra != first)]
            parts = [
                (code, document_context(session, actor, reference, document, code))
                for code in dict.fromkeys(langs)
            ]
            html = render_parts_html(document, parts)
        except DocumentError as exc:
            raise click.ClickException(str(exc)) from exc
    out.write_bytes(html.encode() if as_html else html_to_pdf(html))
    if actor is None:
        click.echo("note: rendered without --as: no identity of a person is shown", err=True)
    click.echo(f"{document} of {reference} ({', '.join(langs)}) written to {out}")
