"""The refusals of the request area."""

from __future__ import annotations

from exchange.exceptions import Conflict, Refused


class MlaError(Refused):
    """A change of a request was refused; ``code`` names why (for a translated message)."""


class StaleDraft(MlaError, Conflict):
    """The draft changed since the editor loaded it (If-Match / version mismatch)."""

    def __init__(self) -> None:
        super().__init__("stale")


class TransitionError(Refused):
    """A move was refused; ``code`` says why (for a translated message)."""


class Rejected(MlaError):
    """An incoming message is refused whole, nothing of it stored; ``code`` is the receipt's reason.

    Answered with a ``rejected:<code>`` receipt (schemas/README.md), so codes are lower-case words
    joined by hyphens.
    """
