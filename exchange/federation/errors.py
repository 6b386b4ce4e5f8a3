"""The refusals of the federation area."""

from __future__ import annotations

from exchange.exceptions import Refused


class FederationError(Refused):
    """A peer, a descriptor or a delivery was refused; ``code`` names why."""
