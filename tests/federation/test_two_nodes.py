"""Two real nodes (separate processes, own databases and keys) exchange a request end to end.

Dakar hosts Senegal's central authority and the Tambacounda prosecution office; Abuja hosts
Nigeria's central authority. The test peers them through ``exchange peer add`` with the
fingerprints each prints, then follows a request: drafted and approved in Dakar, carried by
``exchange worker``, receipted, registered in Abuja, answered, and followed in Dakar.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from exchange import create_app
from exchange.settings import Settings

pytestmark = pytest.mark.slow

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Node:
    """One node: its folder, database, environment, and (once started) its web process."""

    def __init__(self, name: str, base: Path, database_url: str, hosted: tuple[str, ...]) -> None:
        self.name, self.hosted = name, hosted
        self.instance = base / name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
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
        }
        self.process: subprocess.Popen[bytes] | None = None
        self._app: Any = None

    def exchange(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run an ``exchange`` command on this node."""
        result = subprocess.run(
            [sys.executable, "-c", CLI, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            assert result.returncode == 0, result.stderr[-3000:]
        return result

    def setup(self) -> None:
        """Migrate the database, seed the directory, host and key this node's authorities."""
        result = subprocess.run(
            [sys.executable, "-c", SETUP, *self.hosted],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stderr[-3000:]

    def start(self) -> None:
        """Start the web process in its own process group and wait until it answers."""
        self.process = subprocess.Popen(
            [sys.executable, "-c", CLI, "run", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:  # noqa: S310 - loopback http
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"{self.name} did not start")

    def stop(self) -> None:
        """Stop the web process by its process group."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)

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
                    node_url=self.url,
                ).checked()
            )
        from exchange.extensions import db

        with self._app.app_context():
            try:
                yield db.session
            finally:
                db.session.remove()


@pytest.fixture
def two_nodes(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    """Return Dakar and Abuja, set up, started, peered both ways; stop them at the end."""
    server = os.environ.get("EXCHANGE_TEST_DATABASE", "sqlite")
    urls, created = [], []
    admin = None
    for name in ("dakar", "abuja"):
        if server == "sqlite":
            urls.append(f"sqlite:///{tmp_path / name}.sqlite")
        else:
            admin = admin or sa.create_engine(server, isolation_level="AUTOCOMMIT")
            db_name = f"exchange_fed_{name}_{os.getpid()}"
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
                conn.execute(sa.text(f'CREATE DATABASE "{db_name}"'))
            created.append(db_name)
            urls.append(sa.make_url(server).set(database=db_name).render_as_string(False))
    dakar = Node("dakar", tmp_path, urls[0], ("SN-CA", "SN-TGI-TAMBA"))
    abuja = Node("abuja", tmp_path, urls[1], ("NG-CA",))
    try:
        for node in (dakar, abuja):
            node.setup()
            node.start()
        for here, there in ((dakar, abuja), (abuja, dakar)):
            fingerprint = there.exchange("peer", "fingerprint").stdout.strip()
            out = here.exchange("peer", "add", there.url, "--fingerprint", fingerprint).stdout
            assert "added" in out
        yield dakar, abuja
    finally:
        for node in (dakar, abuja):
            node.stop()
            if node._app is not None:
                from exchange.extensions import db

                with node._app.app_context():
                    db.engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                for db_name in created:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            admin.dispose()


def _user(session: Any, role: str, code: str) -> Any:
    from exchange.auth import services as accounts
    from exchange.directory.queries import authority_by_code

    return accounts.create_user(
        session,
        email=f"{role}@{code.lower()}.demo",
        display_name=f"Test {role}",
        authority=authority_by_code(session, code),
        roles={role},
    )


def test_a_request_travels_between_two_nodes_and_back(two_nodes):
    from exchange.cases import services as cases
    from exchange.directory.queries import authority_by_code
    from exchange.federation.models import Delivery
    from exchange.mla import services
    from exchange.mla.models import MlaRequest, OutboxMessage
    from tests.mla.conftest import fill_request

    dakar, abuja = two_nodes
    listed = dakar.exchange("peer", "list").stdout
    assert abuja.url in listed and "NG-CA" in listed

    # Dakar: a prosecutor drafts, the central authority approves (four eyes): it is queued.
    with dakar.app() as session:
        prosecutor = _user(session, "prosecutor", "SN-TGI-TAMBA")
        officer = _user(session, "central_authority_officer", "SN-CA")
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
        fill_request(request, prosecutor)
        services.submit(session, prosecutor, request)
        services.approve(session, officer, request)
        session.commit()
        conversation = request.conversation_id
        assert request.state == "transmitted"

    # Abuja is down: the message stays queued, the attempt is counted, the next one planned.
    abuja.stop()
    out = dakar.exchange("worker", "--once").stdout
    assert "retry=1" in out, out
    with dakar.app() as session:
        message = session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.msg_id == conversation)
        )
        assert message.state == "queued"
        delivery = session.get(Delivery, message.id)
        assert delivery.attempts == 1 and delivery.last_error == "unreachable"
        sealed_once = delivery.envelope
    abuja.start()
    time.sleep(2.0)  # past the first backoff (1 s with jitter of at most 1.5)

    # Dakar's worker posts the same sealed bytes to Abuja (the PQ suite: Abuja has an ML-KEM key).
    out = dakar.exchange("worker", "--once").stdout
    assert "delivered=1" in out, out
    with dakar.app() as session:
        outgoing = session.scalar(
            sa.select(MlaRequest).where(MlaRequest.conversation_id == conversation)
        )
        assert outgoing.state == "delivered"
        message = session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.msg_id == conversation)
        )
        assert message.state == "delivered"
        delivery = session.get(Delivery, message.id)
        assert delivery.receipt_status == "delivered" and delivery.receipt
        assert delivery.envelope == sealed_once and delivery.attempts == 2
        assert b"HPKE-MLKEM768X25519" in base64.urlsafe_b64decode(
            delivery.envelope.split(b".")[0] + b"=="
        )

    # Abuja: the request arrived at its central authority, which registers it and asks for more.
    with abuja.app() as session:
        incoming = session.scalar(
            sa.select(MlaRequest).where(MlaRequest.conversation_id == conversation)
        )
        assert incoming is not None and incoming.side == "incoming"
        assert incoming.state == "received"
        assert services.person_identities(incoming)  # decrypted with Abuja's own data key
        ng_officer = _user(session, "central_authority_officer", "NG-CA")
        services.act(session, ng_officer, incoming, "register", {"reference": "FMOJ/CAU/2026/77"})
        services.act(session, ng_officer, incoming, "start_execution", {})
        services.act(session, ng_officer, incoming, "request_info", {"reason": "Which village?"})
        session.commit()
        assert incoming.state == "info_requested"

    out = abuja.exchange("worker", "--once").stdout
    assert "delivered=3" in out, out  # in the order they were made (one conversation)

    with dakar.app() as session:
        outgoing = session.scalar(
            sa.select(MlaRequest).where(MlaRequest.conversation_id == conversation)
        )
        assert outgoing.state == "info_requested"
        assert outgoing.foreign_reference == "FMOJ/CAU/2026/77"
        services.act(
            session, prosecutor_of(session), outgoing, "provide_info", {"reason": "Bantaco."}
        )
        session.commit()
    assert "delivered=1" in dakar.exchange("worker", "--once").stdout
    with abuja.app() as session:
        incoming = session.scalar(
            sa.select(MlaRequest).where(MlaRequest.conversation_id == conversation)
        )
        assert incoming.state == "in_execution"


def prosecutor_of(session: Any) -> Any:
    from exchange.auth.models import User

    return session.scalar(sa.select(User).where(User.email == "prosecutor@sn-tgi-tamba.demo"))
