"""``make demo``'s two nodes: set up, peered, a request crosses, Ctrl-C leaves no process behind.

The supervisor (``python -m exchange.demo_nodes``) runs as ``make demo`` runs it, on free ports
and in a temporary folder; the test drafts and approves a request in Dakar's database (as the
prosecutor and the officer would through the portal) and waits for the demo's own worker to carry
it to Abuja's central authority. Then SIGINT, and every process the supervisor started is gone.
A second run on the same folders (peers known already) starts again.
"""

from __future__ import annotations

import os
import re
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

ROOT = Path(__file__).resolve().parents[1]
READY = re.compile(r"Both nodes are up: Dakar (\S+), Abuja (\S+)")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("EXCHANGE_TEST_DATABASE", "sqlite") != "sqlite",
        reason="the demo nodes run on SQLite only",
    ),
]


def _free_ports() -> tuple[int, int]:
    socks = [socket.socket() for _ in range(2)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return socks[0].getsockname()[1], socks[1].getsockname()[1]
    finally:
        for sock in socks:
            sock.close()


def _descendants(pid: int) -> set[int]:
    """Return every process below ``pid`` (children, grandchildren...)."""
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            match = re.search(r"^PPid:\s+(\d+)$", text, re.MULTILINE)
            if match and int(match.group(1)) == parent:
                child = int(status.parent.name)
                if child not in found:
                    found.add(child)
                    frontier.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback http
        return int(answer.status)


@contextmanager
def demo(
    instance: Path, ports: tuple[int, int], *, sigint_ignored: bool = False
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """Run the supervisor until it says both nodes are up; SIGINT it at the end if still running.

    ``sigint_ignored`` starts it as a script's background job is started (SIGINT ignored).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env["PYTHONPATH"] = str(ROOT)
    env["EXCHANGE_KEY_KDF_ROUNDS"] = "1000"  # a dozen key files; the default would cost minutes
    env["EXCHANGE_DELIVERY_RETRY_SECONDS"] = "1"
    log = instance.parent / f"demo-{len(list(instance.parent.glob('demo-*.log')))}.log"
    with open(log, "wb") as out:
        supervisor = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "exchange.demo_nodes",
                "--instance",
                str(instance),
                "--ports",
                *map(str, ports),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
            if sigint_ignored
            else None,
        )
    try:
        deadline = time.monotonic() + 240
        while not READY.search(log.read_text()):
            assert supervisor.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        yield supervisor, log
    finally:
        if supervisor.poll() is None:
            supervisor.send_signal(signal.SIGINT)
            try:
                supervisor.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(supervisor.pid, signal.SIGKILL)
                for pid in _descendants(supervisor.pid):
                    os.kill(pid, signal.SIGKILL)
                raise


@contextmanager
def node_session(folder: Path) -> Iterator[Any]:
    """Open a session on a demo node's database with its own keys, as its operator would."""
    app = create_app(
        Settings.from_env(
            {
                "EXCHANGE_DEMO": "1",
                "EXCHANGE_INSTANCE_PATH": str(folder),
                "EXCHANGE_KEYS_DIR": str(folder / "keys"),
            }
        )
    )
    from exchange.extensions import db

    with app.app_context():
        try:
            yield db.session
        finally:
            db.session.remove()
            db.engine.dispose()


def _approve_sample_request(dakar: Path) -> str:
    """Fill, submit and approve the sample case's request to Nigeria's central authority."""
    from exchange.auth.services import find_user
    from exchange.mla import services
    from exchange.mla.models import MlaRequest
    from tests.mla.conftest import fill_request

    with node_session(dakar) as session:
        request = session.scalars(
            sa.select(MlaRequest).where(
                MlaRequest.request_type == "taking_evidence", MlaRequest.state == "draft"
            )
        ).one()
        prosecutor = find_user(session, "prosecutor@sn.demo")
        fill_request(request, prosecutor)
        services.submit(session, prosecutor, request)
        services.approve(session, find_user(session, "officer@sn.demo"), request)
        session.commit()
        assert request.state == "transmitted"
        return str(request.conversation_id)


def _state(folder: Path, conversation: str) -> str | None:
    from exchange.mla.models import MlaRequest

    with node_session(folder) as session:
        request = session.scalar(
            sa.select(MlaRequest).where(MlaRequest.conversation_id == conversation)
        )
        return None if request is None else f"{request.side}:{request.state}"


def test_demo_runs_two_peered_nodes_and_stops_them_all(tmp_path):
    instance = tmp_path / "instance"
    ports = _free_ports()
    with demo(instance, ports) as (supervisor, log):
        printed = log.read_text()
        for email in ("prosecutor@sn.demo", "kedougou@sn.demo", "cnltp@sn.demo", "officer@ng.demo"):
            assert email in printed
        assert "make demo-code EMAIL=officer@ng.demo" in printed
        assert "authorities NG-CA NG-NAPTIP" in printed
        for port in ports:
            assert _get(f"http://127.0.0.1:{port}/login") == 200
        children = _descendants(supervisor.pid)
        assert len(children) >= 4  # two web processes, two workers

        conversation = _approve_sample_request(instance / "dakar")
        deadline = time.monotonic() + 60
        while _state(instance / "abuja", conversation) != "incoming:received":
            assert time.monotonic() < deadline, (instance / "dakar" / "worker.log").read_text()
            time.sleep(0.5)
        while _state(instance / "dakar", conversation) != "outgoing:delivered":
            assert time.monotonic() < deadline, (instance / "dakar" / "worker.log").read_text()
            time.sleep(0.5)

        supervisor.send_signal(signal.SIGINT)
        assert supervisor.wait(timeout=30) == 0
        assert not [pid for pid in children if _alive(pid)]
        assert "Stopping the demo nodes" in log.read_text()

    # Again on the same folders: nothing to create, the peers are refreshed, both nodes answer.
    # Started as `make demo &` in a script starts it (SIGINT ignored), Ctrl-C still stops it.
    with demo(instance, ports, sigint_ignored=True) as (supervisor, log):
        printed = log.read_text()
        assert "refreshed http://127.0.0.1" in printed and "sample case" not in printed
        for port in ports:
            assert _get(f"http://127.0.0.1:{port}/login") == 200
        children = _descendants(supervisor.pid)
        supervisor.send_signal(signal.SIGINT)
        assert supervisor.wait(timeout=30) == 0
        assert not [pid for pid in children if _alive(pid)]


def test_demo_stops_on_sigterm_before_the_nodes_are_up(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    supervisor = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exchange.demo_nodes",
            "--instance",
            str(tmp_path / "i"),
            "--ports",
            *map(str, _free_ports()),
        ],
        env={**env, "PYTHONPATH": str(ROOT), "EXCHANGE_KEY_KDF_ROUNDS": "1000"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while not list(tmp_path.glob("i/*/web.log")):  # the first web process is starting
        assert supervisor.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    children = _descendants(supervisor.pid)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=30) == 0
    assert children and not [pid for pid in children if _alive(pid)]


def test_demo_refuses_a_port_in_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "exchange.demo_nodes",
                "--instance",
                str(tmp_path),
                "--ports",
                str(port),
                str(_free_ports()[0]),
            ],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"error: port {port} in use" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "dakar").exists()
