"""A node's web process on its own, and a client that streams evidence to it and back.

For the memory tests of annexes (tests/mla/test_evidence_memory.py, bench/evidence.py): the
portal runs in a child process (Werkzeug's threaded server, as ``exchange run`` serves it, or,
with ``server="gunicorn"``, one gunicorn sync worker as production runs ``gunicorn wsgi:app``, the
figures then being the worker's), so that its peak resident memory is its own; the client sends a
multipart body made piece by piece from a generator and hashes the download as it arrives,
holding neither.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
PIECE = 1 << 20
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CHILD = """
import json, sys
from pathlib import Path
from werkzeug.serving import make_server
from exchange import create_app
from exchange.settings import Settings
values = json.loads(sys.argv[1])
for name in ("instance_path", "keys_dir"):
    values[name] = Path(values[name])
app = create_app(Settings(**values).checked())
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""
# A baseline JPEG's frame (8 × 8, one component) and scan header (ITU-T T.81 §B.2.2, §B.2.3).
JPEG_HEAD = (
    b"\xff\xd8"
    + b"\xff\xc0\x00\x0b\x08\x00\x08\x00\x08\x01\x01\x11\x00"
    + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
)
JPEG_TAIL = b"\xff\xd9"
NO_MARKER = bytes.maketrans(b"\xff", b"\xfe")  # entropy-coded data never holds a bare 0xFF


def jpeg_pieces(size: int, seed: int = 19) -> Iterator[bytes]:
    """Yield a JPEG of exactly ``size`` bytes, the same for a seed, one MiB at a time."""
    rng = random.Random(seed)
    yield JPEG_HEAD
    left = size - len(JPEG_HEAD) - len(JPEG_TAIL)
    while left > 0:
        piece = rng.randbytes(min(PIECE, left)).translate(NO_MARKER)
        left -= len(piece)
        yield piece
    yield JPEG_TAIL


class WebProcess:
    """The portal served by a child process, with the figures of its memory."""

    def __init__(self, settings: dict[str, Any], log: Path, server: str = "werkzeug") -> None:
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        if server == "gunicorn":
            self._start_gunicorn(settings, log)
            return
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, json.dumps(settings)],
            stdout=subprocess.PIPE,
            stderr=self._log,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode().strip()
        assert line.isdigit(), f"the web process did not start: {log.read_text()[-2000:]}"
        self.base = f"http://127.0.0.1:{line}"
        self.pid = self.process.pid

    def _start_gunicorn(self, settings: dict[str, Any], log: Path) -> None:
        """Serve ``wsgi:app`` with one gunicorn sync worker; the worker is the web process."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {f"EXCHANGE_{k.upper()}": str(v) for k, v in settings.items()}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
        )
        self.base = f"http://127.0.0.1:{port}"
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.base}/login", timeout=5)
                self.pid = int(children.read_text().split()[0])
                return
            except (requests.ConnectionError, IndexError):
                time.sleep(0.2)
        raise AssertionError(f"gunicorn did not start: {log.read_text()[-2000:]}")

    def status(self, name: str) -> int:
        """Return a figure of /proc/<pid>/status in KiB (VmHWM, VmRSS)."""
        text = Path(f"/proc/{self.pid}/status").read_text()
        return int(re.search(rf"^{name}:\s+(\d+) kB", text, re.M).group(1))  # type: ignore[union-attr]

    def reset_peak(self) -> None:
        """Start the peak (VmHWM) again from the present resident size (proc(5), clear_refs)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def stop(self) -> None:
        """Stop the child and close its log."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()


def csrf(session: requests.Session, url: str) -> str:
    """Return the CSRF token of a page's form."""
    match = CSRF_RE.search(session.get(url, timeout=30).text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def sign_in(base: str, email: str, password: str, code: Callable[[], str]) -> requests.Session:
    """Sign in through the real forms (password, then the second factor's ``code`` if asked)."""
    session = requests.Session()
    answer = session.post(
        f"{base}/login",
        data={"email": email, "password": password, "csrf_token": csrf(session, f"{base}/login")},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303, answer.text[:500]
    if answer.headers["Location"].endswith("/login/second-factor"):
        token = csrf(session, f"{base}/login/second-factor")
        answer = session.post(
            f"{base}/login/second-factor",
            data={"code": code(), "csrf_token": token},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 303, answer.text[:500]
    return session


def upload(
    session: requests.Session,
    url: str,
    pieces: Iterator[bytes],
    size: int,
    *,
    filename: str = "extraction.jpg",
    token: str | None = None,
) -> tuple[http.client.HTTPResponse, str, float]:
    """POST a multipart form whose file is ``pieces``; return the answer, SHA-256 and seconds."""
    token = token if token is not None else csrf(session, url)
    boundary = f"----exchange{secrets.token_hex(12)}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=900)
    connection.putrequest("POST", "/" + url.split("//", 1)[1].split("/", 1)[1])
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    connection.putheader("Cookie", "; ".join(f"{c.name}={c.value}" for c in session.cookies))
    connection.endheaders()
    digest, started = hashlib.sha256(), time.monotonic()
    connection.send(head)
    for piece in pieces:
        digest.update(piece)
        connection.send(piece)
    connection.send(tail)
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer, digest.hexdigest(), time.monotonic() - started


def download(session: requests.Session, url: str) -> tuple[requests.Response, str, int, float]:
    """GET ``url`` as a stream; return the answer, the SHA-256 and size read, and the seconds."""
    digest, size, started = hashlib.sha256(), 0, time.monotonic()
    with session.get(url, stream=True, timeout=900) as answer:
        for piece in answer.iter_content(PIECE):
            digest.update(piece)
            size += len(piece)
    return answer, digest.hexdigest(), size, time.monotonic() - started
