"""``make demo``: two demo nodes on one machine, set up, peered, supervised; Ctrl-C stops them all.

Dakar (Senegal) answers on 127.0.0.1:5000 and Abuja (Nigeria) on 127.0.0.1:5001. Each node has its
own instance folder under ``instance/`` (its SQLite database, secret, blobs), its own key store
(``instance/<node>/keys``), its own web process, its own ``exchange worker`` and its own local SMTP
sink (``exchange notifications sink``, on a free loopback port), which writes every e-mail the node
sends as a ``.eml`` file under ``instance/<node>/mail/``: nothing leaves the machine. The set-up runs
what an operator would: ``exchange db upgrade``, ``exchange demo setup --node …``, then, with both
web processes up, ``exchange peer fingerprint`` on one node and ``exchange peer add URL
--fingerprint FP`` on the other (``peer refresh`` when they are peers already), both ways.
Running it again reuses the folders: every step is idempotent.

    python -m exchange.demo_nodes [--instance DIR] [--ports 5000 5001] [--setup-only]

The children run in sessions of their own (a Ctrl-C in the terminal reaches this supervisor only),
with their output in ``instance/<node>/web.log`` and ``worker.log``; on SIGINT or SIGTERM, or when
one of them dies, every child is stopped (SIGTERM, then SIGKILL after a grace period) and waited
for. On Linux each child is also asked to receive SIGTERM should the supervisor itself be killed.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import IO

CLI = "from exchange.cli import main; main()"
GRACE_SECONDS = 10.0
START_SECONDS = 90.0
# Settings that make a node this node: never inherited from the caller's environment, so that a
# shell's EXCHANGE_DATABASE_URL cannot make both demo nodes share one database.
NODE_VARIABLES = (
    "EXCHANGE_ENV",
    "EXCHANGE_DEMO",
    "EXCHANGE_DATABASE_URL",
    "EXCHANGE_INSTANCE_PATH",
    "EXCHANGE_KEYS_DIR",
    "EXCHANGE_SECRET_KEY",
    "EXCHANGE_NODE_URL",
    "EXCHANGE_NODE_NAME",
    "EXCHANGE_PUBLIC_URL",
    "EXCHANGE_SMTP_URL",
    "EXCHANGE_SMTP_PASSWORD_FILE",
    "EXCHANGE_SMTP_FROM",
)


@dataclass(frozen=True)
class Node:
    """One demo node: its name (``exchange demo setup --node``), title, folder and port."""

    name: str
    title: str
    folder: Path
    port: int
    smtp_port: int = 0  # the node's local SMTP sink, once chosen (0: no e-mail)

    @property
    def url(self) -> str:
        """Return the node's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Return the environment of this node's commands."""
        env = {k: v for k, v in os.environ.items() if k not in NODE_VARIABLES}
        env.update(
            EXCHANGE_DEMO="1",
            EXCHANGE_INSTANCE_PATH=str(self.folder),
            EXCHANGE_KEYS_DIR=str(self.folder / "keys"),
            EXCHANGE_NODE_URL=self.url,
            EXCHANGE_PUBLIC_URL=self.url,  # enrolment links reach the portal people open
            EXCHANGE_NODE_NAME=self.title,
            EXCHANGE_DELIVERY_RETRY_SECONDS=env.get("EXCHANGE_DELIVERY_RETRY_SECONDS", "2"),
        )
        if self.smtp_port:
            env["EXCHANGE_SMTP_URL"] = f"smtp://127.0.0.1:{self.smtp_port}"
        return env

    @property
    def mail_folder(self) -> Path:
        """Return where the node's local SMTP sink writes the e-mails it receives."""
        return self.folder / "mail"


class DemoError(RuntimeError):
    """A step of the demo failed; the message says which and why."""


def nodes(instance: Path, ports: tuple[int, int]) -> tuple[Node, Node]:
    """Return Dakar and Abuja under ``instance``."""
    return (
        Node("dakar", "Dakar (Senegal)", instance / "dakar", ports[0]),
        Node("abuja", "Abuja (Nigeria)", instance / "abuja", ports[1]),
    )


def exchange(node: Node, *args: str) -> str:
    """Run an ``exchange`` command on ``node``; return its output or raise with its error."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and command line
        [sys.executable, "-c", CLI, *args],
        env=node.env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise DemoError(f"{node.name}: exchange {' '.join(args)} failed:\n{done.stderr.strip()}")
    return done.stdout


def setup(node: Node) -> str:
    """Migrate the node's database and set the demo up on it; return what the set-up printed."""
    node.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    exchange(node, "db", "upgrade")
    return exchange(node, "demo", "setup", "--node", node.name)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, between fork and exec
    """Ask Linux to send this child SIGTERM when the supervisor dies (PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


class Supervisor:
    """The children of the demo: started, watched, and all stopped together."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._logs: list[IO[bytes]] = []

    def start(self, label: str, node: Node, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        """Start ``exchange ARGS`` for ``node`` in its own session, output to ``log``."""
        out = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(out)
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and command line
            [sys.executable, "-c", CLI, *args],
            env=node.env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self.children.append((label, child))
        return child

    def dead(self) -> list[str]:
        """Return the labels of the children that have exited."""
        return [label for label, child in self.children if child.poll() is not None]

    def stop(self) -> None:
        """Stop every child: SIGTERM to its process group, SIGKILL after the grace period."""
        for _, child in self.children:
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for _, child in self.children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child, signal.SIGKILL)
                child.wait()
        self.children.clear()
        for out in self._logs:
            out.close()
        self._logs.clear()


def _signal_group(child: subprocess.Popen[bytes], signum: int) -> None:
    """Send ``signum`` to the child's process group (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)


def _port_free(port: int) -> bool:
    """Tell whether nothing listens on the port (connections of a previous run may linger)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the web server binds
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    """Return a loopback port nothing listens on now (for a node's SMTP sink)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_mail_sink(supervisor: Supervisor, node: Node) -> None:
    """Start the node's local SMTP sink, writing each e-mail to ``instance/<node>/mail/``."""
    args = ["notifications", "sink", "--port", str(node.smtp_port), "--dir", str(node.mail_folder)]
    supervisor.start(f"{node.name} mail", node, args, node.folder / "mail.log")


def wait_until_up(node: Node, child: subprocess.Popen[bytes]) -> None:
    """Wait until the node's web process answers /healthz."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise DemoError(f"{node.name}: the web process stopped; see {node.folder / 'web.log'}")
        try:
            with urllib.request.urlopen(node.url + "/healthz", timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise DemoError(f"{node.name} did not answer on {node.url}; see {node.folder / 'web.log'}")


def peer(here: Node, there: Node) -> str:
    """Make ``there`` a peer of ``here`` by its fingerprint, as operators do (or refresh it)."""
    if there.url in exchange(here, "peer", "list").split():
        return exchange(here, "peer", "refresh", there.url).strip()
    fingerprint = exchange(there, "peer", "fingerprint").strip()
    return exchange(here, "peer", "add", there.url, "--fingerprint", fingerprint).strip()


def _stop_on(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(instance: Path, ports: tuple[int, int], *, setup_only: bool = False) -> int:
    """Set the two nodes up; unless ``setup_only``, start, peer and supervise them."""
    pair = nodes(instance.resolve(), ports)
    if not setup_only:
        busy = [str(n.port) for n in pair if not _port_free(n.port)]
        if busy:
            raise DemoError(f"port {', '.join(busy)} in use: is a demo already running?")
    printed = {node.name: setup(node) for node in pair}
    if setup_only:
        for node in pair:
            print(f"== {node.title}: {node.folder}\n{printed[node.name]}", end="")
        return 0
    supervisor = Supervisor()
    # Both stop the demo, even when started with SIGINT ignored (in the background of a script).
    signal.signal(signal.SIGINT, _stop_on)
    signal.signal(signal.SIGTERM, _stop_on)
    pair = (replace(pair[0], smtp_port=_free_port()), replace(pair[1], smtp_port=_free_port()))
    try:
        for node in pair:
            start_mail_sink(supervisor, node)
        for node in pair:
            web = ["run", "--host", "127.0.0.1", "--port", str(node.port)]
            child = supervisor.start(f"{node.name} web", node, web, node.folder / "web.log")
            wait_until_up(node, child)
        peered = [peer(pair[0], pair[1]), peer(pair[1], pair[0])]
        for node in pair:
            supervisor.start(f"{node.name} worker", node, ["worker"], node.folder / "worker.log")
        for node in pair:
            print(f"\n== {node.title}: {node.url}  (logs in {node.folder})")
            print(f"E-mails it sends (a local SMTP sink): {node.mail_folder}/*.eml")
            print(printed[node.name], end="")
        print("\nPeers:\n  " + "\n  ".join(peered))
        print(f"\nBoth nodes are up: Dakar {pair[0].url}, Abuja {pair[1].url}  (Ctrl-C to stop)")
        sys.stdout.flush()
        while not (gone := supervisor.dead()):
            time.sleep(0.5)
        raise DemoError(f"{', '.join(gone)} stopped; see the logs in {instance}")
    except KeyboardInterrupt:
        print("\nStopping the demo nodes…", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not cut the stop short
        supervisor.stop()


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the demo."""
    parser = argparse.ArgumentParser(prog="python -m exchange.demo_nodes", description=__doc__)
    parser.add_argument("--instance", type=Path, default=Path("instance"))
    parser.add_argument(
        "--ports", type=int, nargs=2, default=(5000, 5001), metavar=("DAKAR", "ABUJA")
    )
    parser.add_argument("--setup-only", action="store_true", help="set up, start nothing")
    args = parser.parse_args(argv)
    try:
        return run(args.instance, (args.ports[0], args.ports[1]), setup_only=args.setup_only)
    except DemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
