"""``exchange envelope export|import``: offline carriage from the command line.

Added to the envelope layer's ``exchange envelope`` group (which cannot import the federation
area); ``exchange`` registers the group from here. Errors are one line on standard error and
exit status 1, as for the other ``exchange envelope`` commands.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from exchange.envelopes.cli import envelope_cli, reports_errors
from exchange.federation import offline
from exchange.federation.cli import delivery_config
from exchange.federation.errors import FederationError
from exchange.federation.routes import inbox_max_bytes
from exchange.uow import unit_of_work

__all__ = ["envelope_cli"]


def _fail(exc: FederationError) -> None:
    click.echo(f"error: {exc.code}: {exc.detail}", err=True)
    sys.exit(1)


@envelope_cli.command("export")
@click.option("--msg-id", "msg_id", required=True, help="Id of the queued message.")
@click.option(
    "--out",
    "dest",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Envelope file: the compact JWE, or a ZIP container when there are attachments.",
)
@reports_errors
def export_command(msg_id: str, dest: Path) -> None:
    """Write a queued message's sealed envelope to a file, to carry to the recipient's node."""
    try:
        with unit_of_work() as session:
            done = offline.export_envelope(session, delivery_config(), msg_id, dest)
    except FederationError as exc:
        _fail(exc)
    click.echo(
        f"exported {done.msg_id} to {dest} ({done.media_type}, sha256 {done.envelope_sha256})"
    )


@envelope_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--receipt-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the receipt of an imported envelope (default: MSG_ID.receipt.jws "
    "next to FILE).",
)
@reports_errors
def import_command(file: Path, receipt_out: Path | None) -> None:
    """Import a carried envelope (write its receipt) or a carried receipt (match it)."""
    limit = inbox_max_bytes()
    if file.stat().st_size > limit:
        _fail(FederationError("oversized", f"the file exceeds {limit} bytes"))
    config = delivery_config()
    try:
        with unit_of_work() as session:
            done = offline.import_file(
                session,
                file.read_bytes(),
                blobs_dir=config.blobs_dir,
                max_annex_bytes=config.max_annex_bytes,
                max_bytes=limit,
            )
    except FederationError as exc:
        _fail(exc)
    if done.kind == offline.RECEIPT:
        click.echo(f"receipt for {done.msg_id}: {done.outcome}")
        if done.outcome in ("parked", "refused"):
            sys.exit(1)
        return
    if done.receipt:
        dest = receipt_out or file.parent / f"{done.msg_id or file.stem}.receipt.jws"
        dest.write_bytes(done.receipt)
        click.echo(f"receipt written to {dest}", err=True)
    click.echo(f"envelope {done.msg_id or '-'}: {done.outcome}")
    if not done.accepted:
        sys.exit(1)
