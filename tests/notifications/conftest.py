"""Fixtures of the notification tests: a real SMTP server (aiosmtpd) on a free port, the app
configured to send through it, and helpers to run the worker's passes and read what arrived."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from exchange.extensions import db
from exchange.notifications import outbox
from exchange.notifications.models import Notification
from tests.mla.conftest import make_case, make_request  # noqa: F401 - fixtures used here


def free_port() -> int:
    """Return a loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Collector:
    """An aiosmtpd handler keeping every message it accepts, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message and accept it."""
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


class Sink:
    """A real SMTP server for a test: started, stopped and started again on one port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.collector = Collector()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        """Return the EXCHANGE_SMTP_URL of this server."""
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        """Return the messages received so far."""
        return list(self.collector.messages)

    def start(self) -> None:
        """Listen (again) on the sink's port."""
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until ``start``."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def sink() -> Iterator[Sink]:
    """Return a running SMTP server that keeps what it receives."""
    server = Sink()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings_overrides(sink: Sink) -> dict[str, Any]:
    """Send the app's e-mail through the test's SMTP server; links on a public address."""
    return {
        "smtp_url": sink.url,
        "public_url": "https://exchange.justice.sn",
        "node_name": "Dakar node",
    }


def send_mail(**kwargs: Any) -> dict[str, int]:
    """Run the e-mail pass once, as the worker does."""
    return outbox.send_due(db.session, **kwargs)


def body(message: EmailMessage) -> str:
    """Return the text of a message."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def kinds_of(user: Any) -> list[str]:
    """Return the kinds of ``user``'s notifications, oldest first."""
    rows = db.session.query(Notification).filter_by(user_id=user.id).order_by(Notification.id)
    return [n.kind for n in rows]
