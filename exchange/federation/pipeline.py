"""A pass of the worker with several senders: conversations in parallel, each in order.

The due messages are grouped by conversation, oldest first. A small pool of threads (each with
its own application context, database session and keep-alive connections to the peers) takes
one conversation at a time and delivers its messages one after the other, each through
``delivery.deliver_one`` (claim, send, record: the same units of work, locks and checks as a
pass of one sender). A conversation stops at its first message that is not delivered now: the
claim refuses a message whose predecessor has not left anyway, so the order per conversation
does not rest on the pool. On SQLite (one writer) the pass has one sender.

Several workers see the same due messages. A pass that finds one of them taken by another
worker stops starting conversations (those under way finish) and leaves the rest to its next
pass, which asks afresh what is due, so the messages the other worker has claimed meanwhile are
not tried again one by one; while the workers meet, each takes its conversations in a random
order, so that they seldom reach for the same one. A worker alone keeps the oldest-first order.

Between passes the worker rests; on PostgreSQL it is woken as soon as a message is queued
(``NOTIFY`` on ``OUTBOX_CHANNEL`` from ``mla.sealing.queue_message``, delivered at its commit).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import select

from exchange.db import DbSession, utcnow
from exchange.extensions import db
from exchange.federation.delivery import DeliveryConfig, Routes, deliver_one
from exchange.federation.models import Delivery
from exchange.mla.models import OutboxMessage
from exchange.mla.sealing import OUTBOX_CHANNEL

log = logging.getLogger(__name__)


def due_conversations(session: DbSession, limit: int) -> list[list[int]]:
    """Return the ids of the due queued messages grouped by conversation, each oldest first."""
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.conversation_id)
        .outerjoin(Delivery, Delivery.outbox_id == OutboxMessage.id)
        .where(OutboxMessage.state == "queued")
        .where((Delivery.outbox_id.is_(None)) | (Delivery.next_attempt_at <= utcnow()))
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    groups: dict[str, list[int]] = {}
    for row in rows:
        groups.setdefault(row.conversation_id, []).append(row.id)
    return list(groups.values())


def _add(counts: dict[str, int], more: Iterable[tuple[str, int]]) -> None:
    for key, value in more:
        counts[key] = counts.get(key, 0) + value


class Senders:
    """The worker's senders: a pool of threads delivering conversations side by side."""

    def __init__(self, app: Flask, config: DeliveryConfig, senders: int) -> None:
        self.app, self.config = app, config
        with app.app_context():
            sqlite = db.engine.dialect.name == "sqlite"
        self.size = 1 if sqlite else max(1, senders)
        self._pool = ThreadPoolExecutor(self.size, thread_name_prefix="sender")
        self._contended = False  # the last pass met another worker's claims

    def _conversation(self, ids: list[int], routes: Routes) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self.app.app_context():
            try:
                for outbox_id in ids:
                    outcome = deliver_one(db.session, self.config, outbox_id, routes)
                    counts[outcome] = counts.get(outcome, 0) + 1
                    if outcome != "delivered":
                        break  # the rest of its conversation waits for it
            finally:
                db.session.remove()
        return counts

    def deliver_pass(self, *, limit: int = 200) -> dict[str, int]:
        """Make one pass over the due messages; return how many ended in each outcome."""
        with self.app.app_context():
            try:
                groups = due_conversations(db.session, limit)
            finally:
                db.session.remove()
        if self._contended:
            random.shuffle(groups)
        routes = Routes()
        met = threading.Event()  # another worker took one of this pass's messages

        def deliver(ids: list[int]) -> dict[str, int]:
            if met.is_set():
                return {}  # left to the next pass, which asks afresh what is due
            done = self._conversation(ids, routes)
            if "taken" in done:
                met.set()
            return done

        counts: dict[str, int] = {}
        if self.size == 1:
            for ids in groups:
                _add(counts, deliver(ids).items())
        else:
            for done in self._pool.map(deliver, groups):
                _add(counts, done.items())
        self._contended = met.is_set()
        return counts

    def close(self) -> None:
        """Stop the threads (after the pass under way)."""
        self._pool.shutdown(wait=True)


class Wakeup:
    """The worker's rest: a sleep, cut short on PostgreSQL when a message is queued."""

    def __init__(self, engine: sa.Engine) -> None:
        self._url = engine.url if engine.dialect.name == "postgresql" else None
        self._conn: Any = None

    def _listening(self) -> Any:
        if self._conn is None and self._url is not None:
            import psycopg

            url = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
            try:
                self._conn = psycopg.connect(url, autocommit=True)
                self._conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
            except psycopg.Error as exc:
                log.info("worker: no LISTEN (%s); resting by the clock", exc)
                self._conn = None
        return self._conn

    def rest(self, seconds: float) -> None:
        """Wait ``seconds``, or until a message is queued (then drain the notifications)."""
        conn = self._listening()
        if conn is None:
            time.sleep(seconds)
            return
        import psycopg

        try:
            for _ in conn.notifies(timeout=seconds, stop_after=1):
                pass
            for _ in conn.notifies(timeout=0):
                pass
        except psycopg.Error:
            self.close()
            time.sleep(seconds)

    def close(self) -> None:
        """Close the listening connection."""
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
