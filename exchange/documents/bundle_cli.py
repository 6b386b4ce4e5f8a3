"""Command line of the bundles: ``exchange bundle build``, ``exchange verify``, and
``exchange keys certificate`` (added to the envelope layer's ``keys`` group).

As elsewhere, a failure is one line on standard error and exit status 1; ``exchange verify``
exits 0 only for a valid bundle (1 tampered or unsigned, 2 unknown signer), so that a script can
tell them apart.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from exchange.envelopes import KeyStoreError
from exchange.envelopes.cli import keys_cli, reports_errors
from exchange.envelopes.cli import verify_command as envelope_verify_command
from exchange.envelopes.stores import key_store
from exchange.mla.models import MlaRequest
from exchange.uow import unit_of_work

from . import rendering

if TYPE_CHECKING:
    from .verify import Verdict

# The bundle, signing and verification modules (pyHanko, pikepdf) are imported by the command
# that uses them: every web process adds these commands, and none of them runs there.

__all__ = ["bundle_cli", "keys_cli", "verify_cli"]

bundle_cli = AppGroup("bundle", help="Signed PDF bundles of requests for the official channels.")
EXIT_CODES = {"valid": 0, "tampered": 1, "unsigned": 1, "unknown_signer": 2}


@bundle_cli.command("build")
@click.option("--request", "reference", required=True, help="The request's reference or id.")
@click.option(
    "--out",
    "dest",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the signed PDF.",
)
@click.option(
    "--lang",
    type=click.Choice(rendering.LANGUAGES),
    default=None,
    help="Language of the bundle (default: the request's language).",
)
@click.option("--tsa", "tsa", default=None, help="RFC 3161 time-stamp authority URL (PAdES B-T).")
@reports_errors
def build_command(reference: str, dest: Path, lang: str | None, tsa: str | None) -> None:
    """Build and sign the bundle of a request: cover, index, letter, annexes."""
    with unit_of_work() as session:
        found = session.scalars(
            sa.select(MlaRequest).where(
                (MlaRequest.reference == reference) | (MlaRequest.public_id == reference)
            )
        ).all()
        if not found:
            raise click.ClickException(f"no request {reference!r}")
        if len(found) > 1:
            raise click.ClickException(f"{reference!r} names several requests: give its id")
        request = found[0]
        from .bundle import BundleError, build_request_bundle
        from .signing import SigningError

        try:
            built = build_request_bundle(
                session,
                request,
                lang=lang or request.language or "en",
                output=dest,
                timestamp_url=tsa,
                progress=lambda done, total: click.echo(f"\r{done}/{total}", nl=False, err=True),
            )
        except (BundleError, SigningError, rendering.DocumentError) as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo("", err=True)
    click.echo(
        f"bundle {built.bundle_id} {built.page_count} pages sha256 {built.sha256} "
        f"signed by {built.signer} key {built.key_thumbprint}"
    )


def _print_verdict(verdict: Verdict) -> None:
    click.echo(f"{verdict.verdict}{': ' + verdict.reason if verdict.reason else ''}")
    if verdict.authority:
        click.echo(
            f"signed by {verdict.authority} ({verdict.organisation}) key "
            f"{verdict.key_thumbprint} at {verdict.signed_at}"
        )
    if verdict.valid:
        manifest = verdict.manifest
        click.echo(
            f"bundle {manifest.get('bundle_id', '')} request "
            f"{manifest.get('request_reference', '')} pages {manifest.get('page_count', '')}"
        )
        for number, item in enumerate(verdict.items, 1):
            pages = (
                f"{item.get('first_page')}-{item.get('last_page')}"
                if item.get("first_page")
                else "separate"
            )
            click.echo(f"{number}. {item.get('name')} pages {pages} sha256 {item.get('sha256')}")


@click.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also trust this CA certificate (PEM), e.g. a partner node's (repeatable).",
)
@click.pass_context
def verify_cli(ctx: click.Context, file: Path, trust: tuple[Path, ...]) -> None:
    """Verify a signed bundle (valid, tampered, unknown signer) or an envelope."""
    with file.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        ctx.invoke(envelope_verify_command, source=file)  # an envelope or its container
        return
    from .verify import trust_roots, verify_file

    try:
        roots = trust_roots(key_store(), [p.read_bytes() for p in trust])
    except (KeyStoreError, ValueError, OSError) as exc:
        click.echo(f"error: cannot read the trusted certificates: {exc}", err=True)
        sys.exit(1)
    verdict = verify_file(file, roots)
    _print_verdict(verdict)
    sys.exit(EXIT_CODES[verdict.verdict])


@keys_cli.command("certificate")
@click.argument("authority")
@click.option(
    "--pkcs12",
    "pkcs12",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Import the key and certificate from a national PKI's PKCS#12 file instead.",
)
@click.option(
    "--password-env",
    default="EXCHANGE_PKCS12_PASSWORD",
    show_default=True,
    help="Environment variable holding the PKCS#12 password (never on the command line).",
)
@click.option(
    "--ca-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the node CA certificate (PEM) here, for pdfsig or a partner node.",
)
@reports_errors
def certificate_command(
    authority: str, pkcs12: Path | None, password_env: str, ca_out: Path | None
) -> None:
    """Issue (or import) the authority's PDF signing certificate; print its key and subject."""
    from .bundle import ensure_certificate
    from .signing import SigningError, load_identity

    keys = key_store()
    try:
        if pkcs12 is not None:
            password = os.environ.get(password_env)
            keys.import_pkcs12(
                authority, pkcs12.read_bytes(), password.encode("utf-8") if password else None
            )
        else:
            ensure_certificate(keys, authority)
        identity = load_identity(keys, authority)
    except SigningError as exc:
        raise click.ClickException(str(exc)) from exc
    if ca_out is not None:
        ca_out.write_bytes(keys.ca_certificate_pem())
    click.echo(
        f"{authority} pdf ES256 {identity.kid} {identity.certificate.subject.human_friendly} "
        f"valid until {identity.certificate.not_valid_after.isoformat()}"
    )
