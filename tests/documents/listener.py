"""A local TCP listener that proves no request was made: anything connecting is recorded."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


class Listener:
    """A socket listening on a free port of 127.0.0.1; ``connections()`` drains its backlog."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.port: int = self.socket.getsockname()[1]

    def connections(self) -> int:
        """Return how many connections arrived (the kernel queues them even before accept)."""
        self.socket.settimeout(0.3)
        count = 0
        while True:
            try:
                conn, _ = self.socket.accept()
            except TimeoutError:
                return count
            conn.close()
            count += 1


@contextmanager
def listening() -> Iterator[Listener]:
    """Listen on a free local port for the duration of a test block."""
    listener = Listener()
    try:
        yield listener
    finally:
        listener.socket.close()
