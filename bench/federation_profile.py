"""Profile of delivery between two nodes on PostgreSQL: where an envelope's time goes, both sides.

The same two nodes as ``bench/federation.py`` (Dakar sends, Abuja receives; each its own
throw-away database, keys, peered by fingerprint through the real command line), but both run in
this one process so one profiler sees both sides: Dakar's ``deliver_due`` POSTs through Abuja's
WSGI application (a test client, each request in fresh context variables as a server thread
would), so no HTTP or process hop is measured, only the work of the two nodes.

Prints, for a burst of ``mla.request`` envelopes (the PQ suite):
* SQL round trips per envelope on each side (statements, and commits/rollbacks), counted by
  SQLAlchemy engine events, with the statements grouped by their first words;
* the share of the time spent in the inbox (receiving side) and in cryptography (HPKE
  ML-KEM-768 + X25519, Ed25519 signatures, AES-GCM of the payload), from cProfile;
* the top functions by cumulative and by own time.

    PYTHONPATH=$PWD .venv/bin/python bench/federation_profile.py [messages [file.prof]]

With ``BENCH_PROFILE_CLOCK=cpu`` the profile counts this process's CPU time instead of the wall
clock: on a machine shared with other work, the time spent waiting for PostgreSQL and for the
cores then drops out, and what is left is the Python work of the two nodes.
"""

from __future__ import annotations

import contextvars
import cProfile
import dataclasses
import io
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.federation import CLI, SETUP, Node, dakar_app, databases, queue, request_payload

MESSAGES = int(sys.argv[1]) if len(sys.argv) > 1 else 60

# Functions whose cumulative time is the cost of cryptography (module file, function name).
CRYPTO = (
    ("_jose.py", "hpke_encrypt"),
    ("_jose.py", "hpke_decrypt"),
    ("_jose.py", "jwe_encrypt"),
    ("_jose.py", "jwe_decrypt"),
    ("_jose.py", "jws_sign"),
    ("_jose.py", "jws_verify"),
)


class Counts:
    """SQL round trips of one engine: statements by kind, and transaction ends."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements: Counter[str] = Counter()
        self.ends = 0
        sa.event.listen(engine, "before_cursor_execute", self._statement)
        sa.event.listen(engine, "commit", self._end)
        sa.event.listen(engine, "rollback", self._end)

    def _statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = statement.split()
        kind = " ".join(words[:3])
        if words[:1] == ["SELECT"]:
            lower = statement.lower()
            frm = lower.find(" from ")
            kind = "SELECT " + (lower[frm + 6 :].split()[0] if frm > 0 else words[1])
        self.statements[kind] += 1

    def _end(self, conn: Any) -> None:
        self.ends += 1

    def reset(self) -> None:
        self.statements.clear()
        self.ends = 0

    def report(self, side: str, messages: int) -> None:
        total = sum(self.statements.values())
        print(
            f"{side}: {total / messages:.1f} statements and {self.ends / messages:.1f} "
            f"commits/rollbacks per envelope"
        )
        for kind, count in self.statements.most_common(14):
            print(f"    {count / messages:5.1f}  {kind[:90]}")


def _isolated(call: Any, *args: Any, **kwargs: Any) -> Any:
    return contextvars.Context().run(call, *args, **kwargs)


def main() -> None:
    """Set the two nodes up, deliver a burst under the profiler, print the figures."""
    from exchange import create_app
    from exchange.extensions import db
    from exchange.federation.cli import delivery_config
    from exchange.federation.client import Answer
    from exchange.federation.delivery import deliver_due
    from exchange.settings import Settings

    with tempfile.TemporaryDirectory() as tmp, databases(("pdakar", "pabuja")) as urls:
        dakar = Node("dakar", Path(tmp), urls[0], ("SN-CA", "SN-TGI-TAMBA"))
        abuja = Node("abuja", Path(tmp), urls[1], ("NG-CA",))
        try:
            for node in (dakar, abuja):
                node.folder.mkdir()
                node.run("-c", SETUP, *node.hosted)
                node.gunicorn("wsgi:app", node.port)
            for here, there in ((dakar, abuja), (abuja, dakar)):
                fingerprint = there.run("-c", CLI, "peer", "fingerprint").strip()
                here.run("-c", CLI, "peer", "add", there.url, "--fingerprint", fingerprint)
        finally:
            for node in (dakar, abuja):
                node.stop()
        sender = dakar_app(dakar)
        receiver = create_app(
            Settings.from_env({k: v for k, v in abuja.env.items() if k.startswith("EXCHANGE_")})
        )
        client = receiver.test_client()

        def post(url: str, body: bytes, content_type: str) -> Answer:
            answer = _isolated(
                client.post, "/federation/v1/inbox", data=body, content_type=content_type
            )
            return Answer(answer.status_code, answer.mimetype, answer.get_data())

        payload = request_payload(sender)
        with sender.app_context():
            sending = Counts(db.engine)
            config = dataclasses.replace(delivery_config(), post=post)
        with receiver.app_context():
            receiving = Counts(db.engine)

        def burst(count: int) -> float:
            queue(sender, payload, count)
            start = time.perf_counter()
            with sender.app_context():
                delivered = 0
                while delivered < count:
                    delivered += deliver_due(db.session, config).get("delivered", 0)
                    db.session.remove()
            return time.perf_counter() - start

        burst(5)  # warm up: keys loaded, caches filled, connections open
        sending.reset()
        receiving.reset()
        cpu = os.environ.get("BENCH_PROFILE_CLOCK") == "cpu"
        profile = cProfile.Profile(time.process_time) if cpu else cProfile.Profile()
        profile.enable()
        elapsed = burst(MESSAGES)
        profile.disable()

        print(
            f"{MESSAGES} mla.request envelopes (PQ suite), both nodes in one process: "
            f"{elapsed:.2f} s, {MESSAGES / elapsed:.1f} envelopes/s under the profiler"
        )
        sending.report("sender (Dakar)", MESSAGES)
        receiving.report("receiver (Abuja)", MESSAGES)
        stats = pstats.Stats(profile)
        total = max(v[3] for v in stats.stats.values())  # type: ignore[attr-defined]
        by_name: dict[tuple[str, str], float] = {}
        for (file, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            key = (Path(file).name, name)
            by_name[key] = max(by_name.get(key, 0.0), ct)
        inbox = by_name.get(("inbox.py", "receive"), 0.0)
        print(f"inbox (receiving side): {inbox / total:.0%} of the time")
        crypto = 0.0
        for key in CRYPTO:
            share = by_name.get(key, 0.0)
            crypto += share
            print(f"    {key[1]:<14} {share / MESSAGES * 1000:6.2f} ms/envelope")
        print(f"cryptography: {crypto / total:.0%} of the time ({crypto / MESSAGES * 1000:.1f} ms)")
        for order, restriction in (("cumulative", ("/exchange/", 45)), ("tottime", (25,))):
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(order).print_stats(*restriction)
            print(f"--- top by {order}")
            print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))
        if len(sys.argv) > 2:
            profile.dump_stats(sys.argv[2])
        for app in (sender, receiver):
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


if __name__ == "__main__":
    main()
