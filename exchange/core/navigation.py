"""The main navigation: each area adds its entries, each shown only to holders of a permission."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from flask_login import current_user


@dataclass(frozen=True)
class NavEntry:
    """One link of the main navigation."""

    endpoint: str
    label: Any  # a lazy translated string
    permission: str
    order: int
    # How many items await the user behind the link (0: none), in a constant number of queries,
    # and the word a screen reader says after the figure ("unread", "waiting").
    count: Callable[[], int] | None = None
    count_label: Any = None


_ENTRIES: list[NavEntry] = []


def add(
    endpoint: str,
    label: Any,
    permission: str,
    order: int = 50,
    count: Callable[[], int] | None = None,
    count_label: Any = None,
) -> None:
    """Add a navigation entry (called by an area's routes module at import).

    ``count`` returns how many items await the current user there, shown beside the label with
    ``count_label`` for screen readers; it must cost a constant number of queries.
    """
    if all(entry.endpoint != endpoint for entry in _ENTRIES):
        _ENTRIES.append(NavEntry(endpoint, label, permission, order, count, count_label))


def nav_items() -> list[dict[str, Any]]:
    """Return the entries the current user may follow, for the page header."""
    items = []
    for entry in sorted(_ENTRIES, key=lambda e: e.order):
        if current_user.is_authenticated and current_user.can(entry.permission):
            blueprint = entry.endpoint.split(".", 1)[0]
            items.append(
                {
                    "url": url_for(entry.endpoint),
                    "label": entry.label,
                    "active": request.blueprint == blueprint,
                    "count": entry.count() if entry.count is not None else 0,
                    "count_label": entry.count_label,
                }
            )
    return items
