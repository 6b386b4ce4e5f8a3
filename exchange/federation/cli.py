"""``exchange peer ...`` and ``exchange worker``: trusting peer nodes, delivering the outbox."""

from __future__ import annotations

import datetime as dt
import math
import signal
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import click
from flask import current_app
from flask.cli import AppGroup

from exchange.core import background
from exchange.envelopes.stores import key_store
from exchange.federation import client, pipeline, services
from exchange.federation.delivery import DeliveryConfig
from exchange.federation.errors import FederationError
from exchange.federation.journal import record_action
from exchange.uow import unit_of_work

peer_cli = AppGroup("peer", help="Peer nodes: add (by fingerprint), list, refresh, remove.")


@peer_cli.command("fingerprint")
def fingerprint_command() -> None:
    """Print this node's fingerprint, to read out to a peer's administrator."""
    click.echo(services.node_key(current_app.config["EXCHANGE"]).fingerprint())


@peer_cli.command("add")
@click.argument("url")
@click.option("--fingerprint", "expected", required=True, help="The peer's node fingerprint.")
def add_command(url: str, expected: str) -> None:
    """Fetch the descriptor of the node at URL and trust it if its fingerprint matches."""
    try:
        with unit_of_work() as session:
            peer = services.add_peer(
                session, key_store(), url, expected, fetch=client.fetch_descriptor
            )
            record_action(session, None, "peer_add", peer.url, "added")
            line = f"{peer.url} {peer.name!r} authorities {' '.join(peer.authorities)}"
    except FederationError as exc:
        raise click.ClickException(f"{exc.code}: {exc.detail}") from exc
    click.echo(f"added {line}")


@peer_cli.command("refresh")
@click.argument("url")
def refresh_command(url: str) -> None:
    """Fetch a known peer's descriptor again (rotated keys, revocations)."""
    try:
        with unit_of_work() as session:
            peer = services.peer_by_url(session, url)
            if peer is None:
                raise FederationError("unknown_peer", f"{url} is not a peer")
            services.refresh_peer(session, key_store(), peer, fetch=client.fetch_descriptor)
            record_action(session, None, "peer_refresh", peer.url, f"serial {peer.serial}")
            line = f"{peer.url} serial {peer.serial}"
    except FederationError as exc:
        raise click.ClickException(f"{exc.code}: {exc.detail}") from exc
    click.echo(f"refreshed {line}")


@peer_cli.command("list")
def list_command() -> None:
    """List the peers: URL, fingerprint, authorities."""
    with unit_of_work() as session:
        for peer in services.peers(session):
            click.echo(f"{peer.url} {peer.fingerprint} {' '.join(peer.authorities)}")


@peer_cli.command("remove")
@click.argument("url")
def remove_command(url: str) -> None:
    """Stop trusting a peer; its authorities' keys are revoked from now."""
    try:
        with unit_of_work() as session:
            peer = services.peer_by_url(session, url)
            if peer is None:
                raise FederationError("unknown_peer", f"{url} is not a peer")
            services.remove_peer(session, peer)
            record_action(session, None, "peer_remove", peer.url, "removed")
    except FederationError as exc:
        raise click.ClickException(f"{exc.code}: {exc.detail}") from exc
    click.echo(f"removed {url}")


def delivery_config() -> DeliveryConfig:
    """Return the worker's configuration from the node's settings."""
    settings = current_app.config["EXCHANGE"]
    instance = Path(current_app.instance_path)
    return DeliveryConfig(
        retry=dt.timedelta(seconds=settings.delivery_retry_seconds),
        give_up=dt.timedelta(hours=settings.delivery_give_up_hours),
        lease=dt.timedelta(seconds=settings.delivery_lease_seconds),
        blobs_dir=instance / "blobs",
        max_annex_bytes=int(settings.max_annex_mb) << 20,
        max_carried_bytes=int(settings.max_upload_mb) << 20,
        spool_dir=instance / "outbox",
        post=client.PeerConnections().post,
    )


# Outcomes of a pass after which the next pass starts at once: something left, so a message
# behind it in its conversation, or queued meanwhile, may be due now.
PROGRESS = frozenset({"delivered", "parked"})
# Outcomes not worth a log line: not due yet, or claimed by another worker meanwhile.
QUIET = frozenset({"waiting", "taken"})


# The longest the other areas' passes wait while deliveries keep the worker from resting.
BACKGROUND_EVERY = 1.0


def pause_after(counts: dict[str, int], interval: float) -> float:
    """Return how long the worker rests after a pass: not at all if it moved messages on."""
    return 0.0 if PROGRESS & counts.keys() else interval


@click.command("worker")
@click.option("--once", is_flag=True, help="Make one pass over the due messages, then stop.")
@click.option(
    "--interval",
    default=0.25,
    show_default=True,
    type=click.FloatRange(0.01, 3600),
    help="Seconds of rest after a pass that delivered nothing (on PostgreSQL, cut short when "
    "a message is queued).",
)
@click.option(
    "--senders",
    default=4,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Conversations delivered side by side (one on SQLite).",
)
def worker_cli(once: bool, interval: float, senders: int) -> None:
    """Deliver the outbox: seal, send to peers (or apply here), store receipts, retry."""
    from exchange.extensions import db

    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    pool = pipeline.Senders(app, delivery_config(), senders)
    wakeup = pipeline.Wakeup(db.engine)
    try:
        _work(pool, wakeup, once=once, interval=interval, stopping=lambda: stopping)
    finally:
        pool.close()
        wakeup.close()


def _work(
    pool: pipeline.Senders,
    wakeup: pipeline.Wakeup,
    *,
    once: bool,
    interval: float,
    stopping: Callable[[], bool],
) -> None:
    """The worker's loop: a delivery pass, the other areas' passes, a rest if nothing moved."""
    from exchange.extensions import db

    ran = -math.inf  # when the other areas' passes last ran (monotonic clock)
    while True:
        counts = pool.deliver_pass()
        moved = bool(PROGRESS & counts.keys())
        now = time.monotonic()
        # The other areas' background work (bundles, e-mails): exchange/core/background.py.
        # They run before every rest; while messages keep moving (no rest), at most every
        # BACKGROUND_EVERY seconds (--interval if shorter), not after each pass.
        if once or not moved or now - ran >= min(interval, BACKGROUND_EVERY):
            counts.update(background.run_passes(db.session))
            ran = now
        db.session.remove()
        if counts and (once or not counts.keys() <= QUIET):
            click.echo(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
        if once or stopping():
            return
        rest = pause_after(counts, interval)
        if rest:
            wakeup.rest(rest)
