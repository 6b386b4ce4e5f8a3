"""The two ways a service says no, shared by every area; the unit of work answers both.

``Refused``: the action is not allowed or its input is wrong (a translated message names why).
``Conflict``: someone else changed the object since it was read (a lost race, answered 409).
Neither imports Flask: services raise them, ``exchange.uow`` turns them into responses.
"""

from __future__ import annotations


class Refused(ValueError):
    """A service refused an action; ``code`` names why (for a translated message)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class Conflict(Exception):
    """The object changed since the user read it: another person or the worker moved first."""

    code = "stale"
