"""Two real nodes for the federation tests: separate processes, own databases, keys and ports.

``Node`` is one node (its folder, database, environment, web process and workers); ``node_pair``
sets up Dakar (Senegal's central authority and the Tambacounda prosecution office) and Abuja
(Nigeria's central authority), starts them and peers them both ways through ``exchange peer add``
with the fingerprints each prints. A node may run inside a network namespace (``netns``), reached
at its namespace's address.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from exchange import create_app
from exchange.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
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


# A parent that loads the application once, then forks a worker (``exchange worker ARGS``) for
# each line it reads, printing the worker's pid: a killed worker is replaced in a moment, not in
# the seconds a process start takes on a busy machine. Nothing is connected before the fork.
WORKER_FORKER = """
import os, signal, sys
from exchange import create_app
import exchange.federation.delivery, exchange.mla.receiving
from exchange.cli import main
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reaped by the system
args = sys.argv[1:]
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the pipe to the test carries pids only
        sys.argv = ["exchange", "worker", *args]
        try:
            main()
        finally:
            os._exit(0)
    print(pid, flush=True)
"""


class WorkerForker:
    """Workers forked from one loaded parent (``WORKER_FORKER``), each killed by its pid."""

    def __init__(self, node: Node, *args: str) -> None:
        self.parent = subprocess.Popen(
            node.command("-c", WORKER_FORKER, *args),
            env=node.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self.alive: list[int] = []

    def spawn(self) -> int:
        """Fork one more worker; return its pid."""
        assert self.parent.stdin is not None and self.parent.stdout is not None
        self.parent.stdin.write("go\n")
        self.parent.stdin.flush()
        pid = int(self.parent.stdout.readline())
        self.alive.append(pid)
        return pid

    def kill(self, pid: int) -> None:
        """Kill one worker with SIGKILL, wherever it is in its work."""
        self.alive.remove(pid)
        with suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)

    def close(self) -> None:
        """Kill every worker and the parent."""
        for pid in list(self.alive):
            self.kill(pid)
        os.killpg(self.parent.pid, signal.SIGKILL)
        self.parent.wait(timeout=20)
        for pipe in (self.parent.stdin, self.parent.stdout):
            if pipe is not None:
                pipe.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Node:
    """One node: its folder, database, environment, and (once started) its web process."""

    def __init__(
        self,
        name: str,
        base: Path,
        database_url: str,
        hosted: tuple[str, ...],
        *,
        netns: str | None = None,
        host: str = "127.0.0.1",
        **env: str,
    ) -> None:
        self.name, self.hosted, self.netns, self.host = name, hosted, netns, host
        self.instance = base / name
        self.port = _free_port() if netns is None else 8000
        self.url = f"http://{host}:{self.port}"
        self.database_url = database_url
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "EXCHANGE_ENV": "development",
            "EXCHANGE_INSTANCE_PATH": str(self.instance),
            "EXCHANGE_KEYS_DIR": str(self.instance / "keys"),
            "EXCHANGE_DATABASE_URL": database_url,
            "EXCHANGE_KEY_PASSPHRASE": f"{name} passphrase",
            "EXCHANGE_SECRET_KEY": f"{name}-secret-" + "x" * 32,
            "EXCHANGE_NODE_URL": self.url,
            "EXCHANGE_NODE_NAME": name,
            "EXCHANGE_DELIVERY_RETRY_SECONDS": "1",
            "EXCHANGE_KEY_KDF_ROUNDS": "1000",
            **env,
        }
        self.log = self.instance / "web.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self._app: Any = None

    def command(self, *args: str) -> list[str]:
        """Return the command line of ``python -c ...`` on this node (in its namespace if any)."""
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        return [*prefix, sys.executable, *args]

    def exchange(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run an ``exchange`` command on this node."""
        result = subprocess.run(
            self.command("-c", CLI, *args),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            assert result.returncode == 0, result.stderr[-3000:]
        return result

    def setup(self) -> subprocess.Popen[str]:
        """Start migrating the database, seeding the directory, hosting and keying this node's
        authorities; return the process (``wait_for``)."""
        return subprocess.Popen(
            [sys.executable, "-c", SETUP, *self.hosted],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def healthy(self) -> bool:
        """Tell whether the web process answers /healthz (asked from inside its namespace)."""
        if self.netns is None:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:  # noqa: S310 - loopback http
                    return bool(answer.status == 200)
            except OSError:
                return False
        probe = (
            f"import urllib.request; urllib.request.urlopen({self.url + '/healthz'!r}, timeout=2)"
        )
        return subprocess.run(self.command("-c", probe), capture_output=True).returncode == 0

    def start(self, *, wait: bool = True) -> None:
        """Start the web process in its own process group and wait until it answers."""
        self.instance.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:  # the web process's log lines, for the tests to read
            self.process = subprocess.Popen(
                self.command("-c", CLI, "run", "--host", self.host, "--port", str(self.port)),
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        if wait:
            self.wait_started()

    def wait_started(self) -> None:
        """Wait until the web process answers."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.healthy():
                return
            time.sleep(0.2)
        raise AssertionError(f"{self.name} did not start")

    def stop(self) -> None:
        """Stop the web process and the workers by their process groups."""
        for process in [*self.workers, self.process]:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=20)
        self.workers = []

    def start_worker(self, *args: str) -> subprocess.Popen[bytes]:
        """Start an ``exchange worker`` in its own process group (stopped with the node)."""
        worker = subprocess.Popen(
            self.command("-c", CLI, "worker", *args),
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.workers.append(worker)
        return worker

    def kill_worker(self, worker: subprocess.Popen[bytes]) -> None:
        """Kill a worker with SIGKILL, wherever it is in its work."""
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=20)
        self.workers.remove(worker)

    @contextmanager
    def app(self) -> Iterator[Any]:
        """Open an application context on this node's database and keys (as an operator would)."""
        if self._app is None:
            self._app = create_app(
                Settings(
                    env="development",
                    instance_path=self.instance,
                    database_url=self.database_url,
                    secret_key=self.env["EXCHANGE_SECRET_KEY"],
                    keys_dir=self.instance / "keys",
                    key_passphrase=self.env["EXCHANGE_KEY_PASSPHRASE"],
                    key_kdf_rounds=1000,
                    node_url=self.url,
                ).checked()
            )
        from exchange.extensions import db

        with self._app.app_context():
            try:
                yield db.session
            finally:
                db.session.remove()

    def fingerprint(self) -> str:
        """Return the node's fingerprint, as ``exchange peer fingerprint`` prints it."""
        from flask import current_app

        from exchange.federation import services

        with self.app():
            return str(services.node_key(current_app.config["EXCHANGE"]).fingerprint())

    def add_peer(self, there: Node) -> None:
        """Trust ``there`` by its fingerprint, as ``exchange peer add`` does."""
        from exchange.envelopes.stores import key_store
        from exchange.federation import client, services

        fingerprint = there.fingerprint()
        with self.app() as session:
            services.add_peer(
                session, key_store(), there.url, fingerprint, fetch=client.fetch_descriptor
            )
            session.commit()

    def worker_pass(self) -> dict[str, int]:
        """Make one pass of the worker's delivery here, in this process (``worker --once``)."""
        from exchange.federation.cli import delivery_config
        from exchange.federation.delivery import deliver_due

        with self.app() as session:
            return deliver_due(session, delivery_config())

    def dispose(self) -> None:
        """Close this test process's connections to the node's database."""
        if self._app is not None:
            from exchange.extensions import db

            with self._app.app_context():
                db.engine.dispose()


def wait_for(processes: list[subprocess.Popen[str]], timeout: float = 240) -> list[str]:
    """Wait for processes started together; return their outputs, failing on the first error."""
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=timeout)
        assert process.returncode == 0, err[-3000:]
        outputs.append(out)
    return outputs


def database_urls(base: Path, server: str, names: tuple[str, ...]) -> tuple[list[str], Any]:
    """Return a database URL per node (SQLite files, or fresh PostgreSQL databases) and the
    admin engine that created them (None for SQLite)."""
    if server == "sqlite":
        return [f"sqlite:///{base / name}.sqlite" for name in names], None
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    urls = []
    for name in names:
        db_name = _db_name(name)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{db_name}"'))
        urls.append(sa.make_url(server).set(database=db_name).render_as_string(False))
    return urls, admin


def _db_name(name: str) -> str:
    return f"exchange_fed_{name}_{os.getpid()}"


@contextmanager
def node_pair(
    base: Path,
    server: str,
    *,
    netns: tuple[str, str] | None = None,
    cli_peering: bool = False,
    **env: str,
) -> Iterator[tuple[Node, Node]]:
    """Set up, start and peer Dakar and Abuja; stop them and drop their databases at the end.

    ``cli_peering``: peer through ``exchange peer add`` (else through the same service, in this
    process, which spares two process starts). ``netns``: the names of two network namespaces, Dakar's and Abuja's, joined by a link with
    the addresses 10.231.0.1 and 10.231.0.2 (``tests.federation.netns``).
    """
    suffix = base.name[-12:].replace("-", "_").lower()
    names = (f"dakar_{suffix}", f"abuja_{suffix}")
    urls, admin = database_urls(base, server, names)
    hosts = ("10.231.0.1", "10.231.0.2") if netns else ("127.0.0.1", "127.0.0.1")
    spaces = netns or (None, None)
    dakar = Node(
        "dakar", base, urls[0], ("SN-CA", "SN-TGI-TAMBA"), netns=spaces[0], host=hosts[0], **env
    )
    abuja = Node("abuja", base, urls[1], ("NG-CA",), netns=spaces[1], host=hosts[1], **env)
    try:
        # Both at once: each step of a node is a process start, seconds on a busy machine.
        wait_for([node.setup() for node in (dakar, abuja)])
        for node in (dakar, abuja):
            node.start(wait=False)
        for node in (dakar, abuja):
            node.wait_started()
        if cli_peering or netns:  # from inside a namespace: only its own processes reach out
            adding = []
            for here, there in ((dakar, abuja), (abuja, dakar)):
                line = ["peer", "add", there.url, "--fingerprint", there.fingerprint()]
                adding.append(
                    subprocess.Popen(
                        here.command("-c", CLI, *line),
                        env=here.env,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                )
            assert all("added" in out for out in wait_for(adding))
        else:
            for here, there in ((dakar, abuja), (abuja, dakar)):
                here.add_peer(there)
        yield dakar, abuja
    finally:
        for node in (dakar, abuja):
            node.stop()
            node.dispose()
        if admin is not None:
            with admin.connect() as conn:
                for name in names:
                    conn.execute(
                        sa.text(f'DROP DATABASE IF EXISTS "{_db_name(name)}" WITH (FORCE)')
                    )
            admin.dispose()


def engine_url() -> str:
    """Return the database server of this run (``sqlite`` or a PostgreSQL server URL)."""
    return os.environ.get("EXCHANGE_TEST_DATABASE", "sqlite")


def make_user(session: Any, role: str, code: str) -> Any:
    """Create a user of ``code`` with one role."""
    import pyotp

    from exchange.auth import services as accounts
    from exchange.directory.queries import authority_by_code
    from tests.conftest import DEFAULT_PASSWORD, password_hash

    user = accounts.create_user(
        session,
        email=f"{role}@{code.lower()}.example",
        display_name=f"Test {role}",
        authority=authority_by_code(session, code),
        roles={role},
    )
    user.password_hash = password_hash(DEFAULT_PASSWORD)  # so that a test can sign in
    if user.totp_required:
        user.totp_secret = pyotp.random_base32()
        user.totp_enabled = True
    return user
