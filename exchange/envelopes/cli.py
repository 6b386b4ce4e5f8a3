"""Command line of the envelope layer: ``exchange keys|trust|envelope ...``.

Every EnvelopeError becomes one line on standard error (``error: <reason>: <what>``) and exit
status 1, as does a file that cannot be read or written (``error: <file>: <why>``); never a
traceback (finding 20). Nothing of an envelope's plaintext is printed unless it opened.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import mimetypes
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import click
from flask.cli import AppGroup

from exchange.uow import unit_of_work

from .container import read_container, write_container
from .envelope import AttachmentIn, local_trust
from .errors import EnvelopeError, ReplayedMessage
from .json_input import MAX_DEPTH, read_object_file
from .keys import USES
from .local_names import claim_new_file
from .stores import DbTrustStore, key_store, node_envelopes
from .trust import import_jwks, revoke
from .wire import MAX_ENVELOPE_BYTES

P = ParamSpec("P")
R = TypeVar("R")

keys_cli = AppGroup(
    "keys", help="Manage our authorities' keys (generate, list, rotate, export-public)."
)
trust_cli = AppGroup("trust", help="Manage the trust store of foreign authorities' public keys.")
envelope_cli = AppGroup("envelope", help="Seal, open and verify envelopes (wire format v1).")

MAX_JWKS_BYTES = 1 << 20
# {"keys": [{...}]}, and one array inside a key (RFC 7517 §4.3 "key_ops").
MAX_JWKS_DEPTH = 4


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a domain exception into one clear line on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except EnvelopeError as exc:
            click.echo(f"error: {exc.reason}: {exc}", err=True)
        except click.ClickException as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
        except OSError as exc:  # a missing folder, a full disk, a name the file system refuses
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}", err=True)
        sys.exit(1)

    return wrapper


# -- keys -------------------------------------------------------------------------------------


@keys_cli.command("generate")
@click.argument("authorities", nargs=-1, required=True)
@click.option(
    "--pq", is_flag=True, help="Also create an ML-KEM-768 + X25519 hybrid encryption key."
)
@click.option("--no-pdf", is_flag=True, help="Do not issue a PDF signing certificate.")
@reports_errors
def generate_command(authorities: tuple[str, ...], pq: bool, no_pdf: bool) -> None:
    """Create the missing keys of each AUTHORITY (signing, encryption, PDF certificate)."""
    with unit_of_work() as session:
        envelopes = node_envelopes(session)
        for code in authorities:
            for info in envelopes.keys.generate(code, pq=pq, pdf=not no_pdf):
                click.echo(f"{code} {info.use} {info.alg} {info.kid}")
            local_trust(envelopes.keys, envelopes.trust, code)


@keys_cli.command("list")
@click.argument("authority", required=False)
@reports_errors
def list_command(authority: str | None) -> None:
    """List our keys: authority, use, algorithm, kid, status, created, revoked."""
    for info in key_store().list_keys(authority):
        revoked = f" revoked {info.revoked_at}" if info.revoked_at else ""
        click.echo(
            f"{info.authority} {info.use} {info.alg} {info.kid} {info.status} "
            f"{info.created_at}{revoked}"
        )


@keys_cli.command("rotate")
@click.argument("authority")
@click.option("--use", "use", type=click.Choice(USES), required=True, help="Which key to replace.")
@reports_errors
def rotate_command(authority: str, use: str) -> None:
    """Replace an authority's active key; the old one still opens and verifies."""
    with unit_of_work() as session:
        envelopes = node_envelopes(session)
        info = envelopes.keys.rotate(authority, use)
        local_trust(envelopes.keys, envelopes.trust, authority)
    click.echo(
        f"{authority} {info.use} {info.alg} {info.kid} (new; export-public and send it to peers)"
    )


@keys_cli.command("revoke")
@click.argument("kid")
@click.option(
    "--at",
    "at",
    default=None,
    help="ISO 8601 date-time from which it is untrusted (default now; UTC if no zone is given).",
)
@reports_errors
def revoke_command(kid: str, at: str | None) -> None:
    """Revoke one of our keys (or a trusted peer key) from a date."""
    when = _revocation_date(at) if at else None
    with unit_of_work() as session:
        trust = DbTrustStore(session)
        ours = [i for i in key_store().list_keys() if i.kid == kid]
        if ours:
            key_store().revoke(kid, when)
        if trust.get(kid) is not None:
            revoke(trust, kid, when)
        elif not ours:
            raise click.ClickException(f"no key {kid}")
    click.echo(f"revoked {kid}")


def _revocation_date(text: str) -> dt.datetime:
    """Read --at: an ISO 8601 date-time, UTC when it names no zone."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.ClickException(f"--at {text!r} is not an ISO 8601 date-time") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


@keys_cli.command("export-public")
@click.argument("authority")
@reports_errors
def export_public_command(authority: str) -> None:
    """Print the authority's public JWK Set (RFC 7517) on standard output."""
    if not key_store().list_keys(authority):
        raise click.ClickException(
            f"no keys for {authority} (run: exchange keys generate {authority})"
        )
    click.echo(json.dumps(key_store().public_jwks(authority), indent=2))


# -- trust ------------------------------------------------------------------------------------


@trust_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--authority", default=None, help="Authority the keys belong to, if the file does not say."
)
@reports_errors
def trust_import_command(file: Path, authority: str | None) -> None:
    """Trust the public keys of a peer authority's JWK Set FILE; print each kid and fingerprint."""
    jwks = read_object_file(file, "JWK Set", max_bytes=MAX_JWKS_BYTES, max_depth=MAX_JWKS_DEPTH)
    with unit_of_work() as session:
        imported = import_jwks(
            DbTrustStore(session),
            jwks,
            hosted=key_store().authorities_set(),
            authority=authority,
            source=f"import:{file.name}",
        )
    for key in imported:
        click.echo(f"{key.authority} {key.use} {key.kid} {key.fingerprint}")
    if not imported:
        click.echo("nothing new")


@trust_cli.command("list")
@reports_errors
def trust_list_command() -> None:
    """List the trusted keys: authority, use, kid, fingerprint, source, revocation."""
    with unit_of_work() as session:
        for key in DbTrustStore(session).all():
            revoked = f" revoked {key.revoked_at.isoformat()}" if key.revoked_at else ""
            click.echo(
                f"{key.authority} {key.use} {key.kid} {key.fingerprint} {key.source}{revoked}"
            )


# -- envelope ---------------------------------------------------------------------------------


@envelope_cli.command("seal")
@click.option("--from", "sender", required=True, help="Sending authority (hosted here).")
@click.option("--to", "recipient", required=True, help="Receiving authority (its keys trusted).")
@click.option(
    "--type", "msg_type", required=True, help="Message type, e.g. message or mla.request."
)
@click.option(
    "--in",
    "source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="JSON payload (the body).",
)
@click.option(
    "--out",
    "dest",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Envelope file: the compact JWE, or a ZIP container when there are attachments.",
)
@click.option(
    "--attach",
    "attach",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file to attach (repeatable).",
)
@click.option("--in-reply-to", default=None, help="Message id this answers.")
@click.option("--conversation", default=None, help="Conversation id (the first message's id).")
@reports_errors
def seal_command(
    sender: str,
    recipient: str,
    msg_type: str,
    source: Path,
    dest: Path,
    attach: tuple[Path, ...],
    in_reply_to: str | None,
    conversation: str | None,
) -> None:
    """Seal a JSON payload (and attachments) from one authority to another."""
    # The body sits one level inside the signed claims, which a peer reads MAX_DEPTH deep.
    body = read_object_file(
        source, "payload", max_bytes=MAX_ENVELOPE_BYTES, max_depth=MAX_DEPTH - 1
    )
    attachments = [
        AttachmentIn(p.name, mimetypes.guess_type(p.name)[0] or "application/octet-stream", p)
        for p in attach
    ]
    with unit_of_work() as session, tempfile.TemporaryDirectory() as tmp:
        sealed = node_envelopes(session).seal(
            body,
            sender=sender,
            recipient=recipient,
            msg_type=msg_type,
            attachments=attachments,
            blob_dir=Path(tmp),
            in_reply_to=in_reply_to,
            conversation=conversation,
        )
        write_container(dest, sealed.token, sealed.blobs)
    click.echo(f"sealed {sealed.msg_id} sha256 {sealed.sha256}", err=True)


@envelope_cli.command("open")
@click.option(
    "--in", "source", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
@click.option(
    "--attachments-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the attachments (by manifest name).",
)
@click.option(
    "--receipt-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write our signed receipt here (the original one for a duplicate).",
)
@reports_errors
def open_command(source: Path, attachments_dir: Path | None, receipt_out: Path | None) -> None:
    """Open an envelope addressed to us (once): print its payload JSON on standard output."""
    with unit_of_work() as session:
        envelopes = node_envelopes(session)
        with read_container(source, envelopes.max_envelope_bytes) as box:
            # The container is checked against the signed manifest before the message counts
            # as received: a refused container leaves no trace in the seen-message register.
            box.check_blobs([entry.id for entry in envelopes.open(box.token).attachments])
            try:
                delivery = envelopes.receive(box.token)
            except ReplayedMessage as exc:
                if receipt_out is not None and exc.receipt is not None:
                    receipt_out.write_bytes(exc.receipt)
                raise
            opened = delivery.envelope
            if opened.attachments:
                target = attachments_dir or Path.cwd()
                target.mkdir(parents=True, exist_ok=True)
                for entry in opened.attachments:
                    dest = claim_new_file(target, entry.name, entry.id)
                    try:
                        with box.blob(entry.id) as blob:
                            envelopes.save_attachment(opened, entry.id, blob, dest)
                    except BaseException:
                        dest.unlink(missing_ok=True)  # the empty file that held the name
                        raise
                    click.echo(
                        f"attachment {entry.id} {dest.name} {entry.size} bytes "
                        f"sha256 {entry.sha256}",
                        err=True,
                    )
        if receipt_out is not None:  # inside the unit of work: no receipt, no reception
            receipt_out.write_bytes(delivery.receipt)
    click.echo(json.dumps(opened.body, ensure_ascii=False, indent=2))


class _Discard:
    """A sink for verifying blobs without keeping them."""

    def write(self, data: bytes) -> int:
        """Drop the data."""
        return len(data)


@envelope_cli.command("verify")
@click.option(
    "--in", "source", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
@reports_errors
def verify_command(source: Path) -> None:
    """Check an envelope and its attachments without accepting it; print a summary."""
    with unit_of_work() as session:
        envelopes = node_envelopes(session)
        with read_container(source, envelopes.max_envelope_bytes) as box:
            opened = envelopes.open(box.token)
            box.check_blobs([entry.id for entry in opened.attachments])
            for entry in opened.attachments:
                with box.blob(entry.id) as blob:
                    envelopes.open_attachment(opened, entry.id, blob, _Discard())  # type: ignore[arg-type]
    click.echo(
        f"ok {opened.msg_id} {opened.msg_type} from {opened.sender} to {opened.recipient} "
        f"signed by {opened.sender_kid} suite {opened.suite} attachments {len(opened.attachments)} "
        f"sha256 {opened.envelope_sha256}"
    )
