"""A local SMTP sink for the demo: every message it receives is written as a ``.eml`` file.

Nothing is relayed anywhere; ``make demo`` runs one per node so that the e-mails of that node
can be read under ``instance/<node>/mail/`` (any mail reader opens a ``.eml`` file; it is text).
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class MailDirHandler:
    """An aiosmtpd handler writing each message it accepts to a folder, one file each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Write the message (atomically: a reader never sees half a file) and accept it."""
        content = envelope.original_content or b""
        if isinstance(content, str):
            content = content.encode("utf-8")
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(content)
        os.replace(partial, self.folder / name)
        return "250 Message accepted for delivery"


def start(folder: Path, host: str = "127.0.0.1", port: int = 2525) -> Controller:
    """Start a sink on ``host``:``port`` writing to ``folder``; return its controller (``stop()``)."""
    controller = Controller(MailDirHandler(folder), hostname=host, port=port)
    controller.start()
    return controller


def serve(folder: Path, host: str, port: int) -> None:  # pragma: no cover - runs until stopped
    """Run a sink until the process is stopped (SIGTERM, Ctrl-C)."""
    import signal

    controller = start(folder, host, port)
    print(f"SMTP sink on {host}:{port}, writing to {folder}", flush=True)
    stopping: list[Any] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
