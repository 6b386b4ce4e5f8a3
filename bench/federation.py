"""Benchmark of delivery between two nodes on PostgreSQL against a bare HTTP baseline (make bench).

Two real nodes, Dakar (sender) and Abuja (receiver), each on its own throw-away PostgreSQL
database, peered by fingerprint; Abuja's inbox runs under gunicorn (2 workers) as in production,
Dakar's outbox is carried by real ``exchange worker`` processes. The messages are ``mla.request``
envelopes (the PQ suite, a complete request with one person: what a prosecutor's approved
request is), each its own conversation.

Prints, in one run, medians over paired rounds:
* envelopes per second from the commit of a burst of queued messages to the last stored
  receipt, with 1 and 2 workers;
* the same for the baseline between the same two kinds of processes: a client loop (1 or 2
  processes) POSTing a body of the envelope's size to a minimal Flask endpoint under gunicorn
  (2 workers) that inserts it as a row of the receiving database, the client storing each answer
  as a row of the sending database; and the ratio of the two rates (goal >= 0.5);
* p50 and p99 latency from a message's commit to its stored receipt, messages committed one by
  one at a steady pace below the throughput (goal: p99 < 1 s on loopback);
* the CPU each side spends per envelope, and the cores the run kept busy (bench/support/proc_cpu.py).

"Stored" is the update that marks the message delivered, timed by a trigger of the throw-away
database (``clock_timestamp()``), inside the transaction that also stores the receipt.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import proc_cpu  # noqa: E402 - the benchmark runs as a script

SERVER = os.environ.get("TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ROUNDS = 3  # paired rounds of each measurement
BURST = 60  # messages per throughput round
LATENCY_MESSAGES = 40  # per latency round, committed one by one
LATENCY_LOAD = 0.5  # the pace of the latency rounds, as a share of the 1-worker throughput
INTERVAL = os.environ.get("BENCH_WORKER_INTERVAL", "0.25")  # exchange worker --interval
GUNICORN_WORKERS = "2"
CLI = "from exchange.cli import main; main()"

SETUP = """
import sys
from flask_migrate import upgrade
from exchange import create_app
from exchange.extensions import db
from exchange.directory.services import seed_directory
from exchange.directory.queries import authority_by_code
from exchange.envelopes import local_trust
from exchange.envelopes.stores import node_envelopes
app = create_app()
with app.app_context():
    upgrade()
    seed_directory(db.session)
    envelopes = node_envelopes(db.session)
    for code in sys.argv[1:]:
        authority_by_code(db.session, code).hosted = True
        envelopes.keys.generate(code, pq=True, pdf=False)
        local_trust(envelopes.keys, envelopes.trust, code)
    db.session.commit()
"""

# The receipt's storage, timed in the sending database (see the module's docstring).
TRIGGER = """
CREATE TABLE bench_delivered (msg_id varchar(64) PRIMARY KEY, at double precision NOT NULL);
CREATE FUNCTION bench_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bench_delivered VALUES (NEW.msg_id, extract(epoch FROM clock_timestamp()));
  RETURN NEW;
END $$;
CREATE TRIGGER bench_mark AFTER UPDATE OF state ON outbox_messages FOR EACH ROW
  WHEN (NEW.state = 'delivered' AND OLD.state <> 'delivered') EXECUTE FUNCTION bench_mark();
CREATE TABLE bench_answers (id serial PRIMARY KEY, answer bytea NOT NULL,
  at double precision NOT NULL DEFAULT extract(epoch FROM clock_timestamp()));
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Node:
    """One node: folder, database, environment; its gunicorn and workers once started."""

    def __init__(self, name: str, base: Path, database_url: str, hosted: tuple[str, ...]) -> None:
        self.name, self.hosted, self.database_url = name, hosted, database_url
        self.folder = base / name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")},
            "PYTHONPATH": str(ROOT),
            "EXCHANGE_ENV": "development",
            "EXCHANGE_INSTANCE_PATH": str(self.folder),
            "EXCHANGE_KEYS_DIR": str(self.folder / "keys"),
            "EXCHANGE_DATABASE_URL": database_url,
            "EXCHANGE_KEY_PASSPHRASE": f"{name} bench passphrase",
            "EXCHANGE_KEY_KDF_ROUNDS": "1000",  # a dozen key files, each read once per process
            "EXCHANGE_SECRET_KEY": f"{name}-bench-" + "x" * 32,
            "EXCHANGE_NODE_URL": self.url,
            "EXCHANGE_NODE_NAME": name,
            "EXCHANGE_DELIVERY_RETRY_SECONDS": "1",
            # The default (600 per minute per sending address) would cap one peer at 10/s.
            "EXCHANGE_INBOX_RATE_LIMIT": "1000000 per minute",
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def run(self, *args: str) -> str:
        """Run a Python command line on this node; return its output."""
        done = subprocess.run(
            [sys.executable, *args], env=self.env, capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            raise RuntimeError(f"{self.name} {args[:3]}: {done.stderr[-2000:]}")
        return done.stdout

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start a long-running process of this node in its own process group."""
        process = subprocess.Popen(
            list(args),
            env=env or self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / f"{len(self.processes)}.log", "wb"),  # noqa: SIM115
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def gunicorn(self, app: str, port: int, env: dict[str, str] | None = None) -> None:
        """Serve ``app`` under gunicorn on ``port`` and wait until it answers."""
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.start(gunicorn, "-w", GUNICORN_WORKERS, "-b", f"127.0.0.1:{port}", app, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers (the baseline has no /healthz)
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name}: gunicorn did not answer on {port}")

    def stop(self) -> None:
        """Stop every process of this node."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()


@contextmanager
def databases(names: tuple[str, ...]) -> Iterator[list[str]]:
    """Create throw-away databases on the server; drop them at the end."""
    admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    created = [f"bench_fed_{name}_{os.getpid()}_{secrets.token_hex(2)}" for name in names]
    with admin.connect() as conn:
        for name in created:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield [sa.make_url(SERVER).set(database=n).render_as_string(False) for n in created]
    finally:
        with admin.connect() as conn:
            for name in created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def dakar_app(node: Node) -> Any:
    """Return an application on Dakar's database and keys, for queuing messages here."""
    from exchange import create_app
    from exchange.settings import Settings

    return create_app(
        Settings.from_env({k: v for k, v in node.env.items() if k.startswith("EXCHANGE_")})
    )


def request_payload(app: Any) -> dict[str, Any]:
    """Draft, fill, submit and approve one request in Dakar; return its ``mla.request`` payload."""
    from exchange.auth import services as accounts
    from exchange.cases import services as cases
    from exchange.directory.queries import authority_by_code
    from exchange.extensions import db
    from exchange.mla import sealing, services
    from exchange.mla.definitions import get_type
    from exchange.mla.models import OutboxMessage

    with app.app_context():
        session = db.session
        people = {}
        for role, code in (("prosecutor", "SN-TGI-TAMBA"), ("central_authority_officer", "SN-CA")):
            people[role] = accounts.create_user(
                session,
                email=f"{role}@bench.sn",
                display_name=role,
                authority=authority_by_code(session, code),
                roles={role},
            )
        prosecutor = people["prosecutor"]
        case = cases.create_case(
            session,
            prosecutor,
            number="PR-TAMBA-2026-0001",
            title="Exploitation sexuelle sur le site d'orpaillage de Bantaco",
            offences="trafficking in persons",
            stage="investigation",
            border_localities="Kédougou",
        )
        request = services.create_request(
            session,
            prosecutor,
            case,
            request_type="taking_evidence",
            counterpart=authority_by_code(session, "NG-CA"),
        )
        definition = get_type(request.request_type)
        assert definition is not None
        fillers = {"text": "Filled in", "textarea": "Filled in, with detail.", "date": "2027-01-15"}
        values = {
            f.name: f.options[0].value if f.kind == "choice" else fillers.get(f.kind, True)
            for f in definition.all_fields
        }
        services.update_contents(session, prosecutor, request, expected_version=None, values=values)
        services.add_person(
            session,
            prosecutor,
            request,
            identity={"name": "Blessing Okafor", "nationality": "Nigerian"},
            victim=True,
            minor=False,
            witness=True,
        )
        services.submit(session, prosecutor, request)
        services.approve(session, people["central_authority_officer"], request)
        message = session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.msg_id == request.conversation_id)
        )
        payload = sealing.message_payload(message)
        session.commit()
        return payload


def queue(app: Any, payload: dict[str, Any], count: int) -> tuple[list[str], float]:
    """Queue ``count`` copies of the request (each its own conversation) in one commit."""
    from exchange.db import new_uuid
    from exchange.extensions import db
    from exchange.mla import sealing

    with app.app_context():
        ids = []
        for _ in range(count):
            conversation = new_uuid()
            sealing.queue_message(
                db.session,
                sender="SN-CA",
                recipient="NG-CA",
                msg_type="mla.request",
                payload={**payload, "request": conversation},
                conversation=conversation,
                in_reply_to=None,
                msg_id=conversation,
            )
            ids.append(conversation)
        db.session.commit()
        committed = time.time()
        db.session.remove()
    return ids, committed


def stored_at(engine: sa.Engine, ids: list[str], timeout: float = 120) -> dict[str, float]:
    """Wait until every message has its receipt stored; return when each was."""
    deadline = time.monotonic() + timeout
    wanted = set(ids)
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT msg_id, at FROM bench_delivered WHERE msg_id = ANY(:ids)"),
                {"ids": ids},
            ).all()
        found = {row.msg_id: float(row.at) for row in rows}
        if set(found) == wanted:
            return found
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(wanted - set(found))} of {len(ids)} never delivered")
        time.sleep(0.02)


def federation_rate(app: Any, engine: sa.Engine, payload: dict[str, Any]) -> float:
    """Return envelopes per second from one commit of a burst to the last stored receipt."""
    ids, committed = queue(app, payload, BURST)
    return BURST / (max(stored_at(engine, ids).values()) - committed)


def latencies(app: Any, engine: sa.Engine, payload: dict[str, Any], pace: float) -> list[float]:
    """Commit messages one by one, ``pace`` a second; return each one's commit-to-receipt time."""
    committed = {}
    for _ in range(LATENCY_MESSAGES):
        start = time.monotonic()
        (msg_id,), committed[msg_id] = queue(app, payload, 1)
        time.sleep(max(0.0, 1 / pace - (time.monotonic() - start)))
    stored = stored_at(engine, list(committed))
    return [stored[i] - committed[i] for i in committed]


# --- the baseline: a bare HTTP POST that inserts a row ---------------------------------------


def baseline_app() -> Any:
    """Return the baseline's receiving side: one POST inserts the body as a row (gunicorn)."""
    import hashlib

    from flask import Flask, request

    engine = sa.create_engine(os.environ["BENCH_BASELINE_DB"], pool_size=1)
    app = Flask("baseline")

    @app.post("/inbox")
    def inbox() -> bytes:
        body = request.get_data()
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO bench_inbox (body) VALUES (:b)"), {"b": body})
        return hashlib.sha256(body).hexdigest().encode()

    return app


def baseline_client(url: str, database: str, count: int, size: int) -> None:
    """The baseline's sending side: POST, store the answer as a row; print start and end times."""
    engine = sa.create_engine(database, pool_size=1)
    body = os.urandom(size)

    def once() -> None:
        request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - loopback
        with urllib.request.urlopen(request, timeout=15) as answer:  # noqa: S310
            reply = answer.read()
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO bench_answers (answer) VALUES (:a)"), {"a": reply})

    once()
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.time()
    for _ in range(count):
        once()
    print(start, time.time(), flush=True)


def baseline_rate(node: Node, url: str, database: str, clients: int, size: int) -> float:
    """Run ``clients`` client loops sharing a burst; return rows per second."""
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--client", url, database, str(BURST // clients), str(size)],
            env=node.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(clients)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    times = [proc.communicate(timeout=120)[0].split() for proc in procs]
    start, end = min(float(t[0]) for t in times), max(float(t[1]) for t in times)
    return (BURST // clients * clients) / (end - start)


def _pause(worker: subprocess.Popen[bytes], paused: bool) -> None:
    """Pause or resume a worker (only between rounds, its queue empty: it holds no lock)."""
    os.killpg(worker.pid, signal.SIGSTOP if paused else signal.SIGCONT)


def main() -> None:
    """Set the two nodes up, run the paired rounds, print the figures."""
    with tempfile.TemporaryDirectory() as tmp, databases(("dakar", "abuja")) as urls:
        dakar = Node("dakar", Path(tmp), urls[0], ("SN-CA", "SN-TGI-TAMBA"))
        abuja = Node("abuja", Path(tmp), urls[1], ("NG-CA",))
        try:
            started = time.monotonic()
            setups = []
            for node in (dakar, abuja):  # both at once
                node.folder.mkdir()
                setups.append(node.start(sys.executable, "-c", SETUP, *node.hosted))
            if any(process.wait(timeout=300) for process in setups):
                raise RuntimeError(f"set-up failed; see the logs in {tmp}")
            for node in (dakar, abuja):
                node.processes.clear()
                node.gunicorn("wsgi:app", node.port)
            for here, there in ((dakar, abuja), (abuja, dakar)):
                fingerprint = there.run("-c", CLI, "peer", "fingerprint").strip()
                here.run("-c", CLI, "peer", "add", there.url, "--fingerprint", fingerprint)
            engine = sa.create_engine(dakar.database_url)
            with engine.begin() as conn:
                conn.exec_driver_sql(TRIGGER)
            receiving = sa.create_engine(abuja.database_url)
            with receiving.begin() as conn:
                conn.exec_driver_sql(
                    "CREATE TABLE bench_inbox (id serial PRIMARY KEY, body bytea NOT NULL)"
                )
            receiving.dispose()
            baseline_port = _free_port()
            abuja.gunicorn(
                "bench.federation:baseline_app()",
                baseline_port,
                env={**abuja.env, "BENCH_BASELINE_DB": urls[1]},
            )
            baseline_url = f"http://127.0.0.1:{baseline_port}/inbox"
            app = dakar_app(dakar)
            payload = request_payload(app)
            worker = [sys.executable, "-c", CLI, "worker", "--interval", INTERVAL]
            workers = [dakar.start(*worker), dakar.start(*worker)]
            ids, _ = queue(app, payload, 10)  # warm both workers and both gunicorn workers up
            stored_at(engine, ids)
            with engine.connect() as conn:
                size = len(conn.execute(sa.text("SELECT envelope FROM deliveries")).scalar() or b"")
            print(
                f"set-up {time.monotonic() - started:.0f} s; envelope {size} bytes (mla.request, "
                f"PQ suite); {BURST} messages a round, {ROUNDS} paired rounds; worker --interval "
                f"{INTERVAL}; inbox and baseline under gunicorn -w {GUNICORN_WORKERS}"
            )
            rates: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
            meter = proc_cpu.node_meter([w.pid for w in workers], abuja.processes[0].pid, urls)
            cpu: dict[int, list[dict[str, float]]] = {1: [], 2: []}
            for _ in range(ROUNDS):
                for count in (1, 2):
                    _pause(workers[1], paused=count == 1)
                    before = meter.read()
                    ours = federation_rate(app, engine, payload)
                    cpu[count].append({**meter.since(before), "wall": BURST / ours})
                    bare = baseline_rate(dakar, baseline_url, urls[0], count, size)
                    rates[count].append((ours, bare))
            lat: dict[int, list[float]] = {}
            pace = LATENCY_LOAD * statistics.median(r[0] for r in rates[1])
            for count in (1, 2):
                _pause(workers[1], paused=count == 1)
                lat[count] = sorted(latencies(app, engine, payload, pace))
            _pause(workers[1], paused=False)
            print(
                f"{'workers':>7} {'envelopes/s':>12} {'baseline/s':>11} {'ratio':>6} "
                f"{'p50 ms':>7} {'p99 ms':>7}   (goal: ratio >= 0.5, p99 < 1000 ms)"
            )
            for count in (1, 2):
                ours = statistics.median(r[0] for r in rates[count])
                bare = statistics.median(r[1] for r in rates[count])
                ratio = statistics.median(r[0] / r[1] for r in rates[count])
                p50 = statistics.median(lat[count]) * 1000
                p99 = lat[count][min(len(lat[count]) - 1, int(0.99 * len(lat[count])))] * 1000
                print(
                    f"{count:>7} {ours:>12.1f} {bare:>11.1f} {ratio:>6.2f} {p50:>7.0f} {p99:>7.0f}"
                )  # and below it, where the cores went (bench/support/proc_cpu.py)
                print(f"{count} worker(s), " + proc_cpu.summary(cpu[count], BURST))
            rounded = {k: [[round(a, 1), round(b, 1)] for a, b in v] for k, v in rates.items()}
            print(f"rounds (envelopes/s, baseline/s): {json.dumps(rounded)}")
            load = os.getloadavg()[0]
            print(
                f"latency: {LATENCY_MESSAGES} messages committed one by one at {pace:.1f}/s "
                f"(half the 1-worker rate); {time.monotonic() - started:.0f} s in all; load "
                f"average {load:.1f} on {os.cpu_count()} cores"
            )
            engine.dispose()
        finally:
            for node in (dakar, abuja):
                node.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--client"]:
        baseline_client(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
