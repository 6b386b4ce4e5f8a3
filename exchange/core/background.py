"""Background work beside the delivery of the outbox: each area adds its passes, the worker runs them.

An area registers a pass when its blueprint is registered (``record_once``), so the worker — which
lives in the federation area — runs the documents' bundle builds or the notifications' e-mails
without importing those areas. A pass is a function of the database session that does one round of
due work, commits what it did, and returns counts by outcome (empty when nothing was due).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

Pass = Callable[[Any], dict[str, int]]
_KEY = "exchange.background_passes"


def register(app: Flask, name: str, run: Pass) -> None:
    """Add the pass ``name`` to the ones the worker of ``app`` runs (once per name)."""
    app.extensions.setdefault(_KEY, {})[name] = run


def passes(app: Flask | None = None) -> dict[str, Pass]:
    """Return the registered passes of ``app`` (the current one by default), by name."""
    return dict((app or current_app).extensions.get(_KEY, {}))


def run_passes(session: Any, app: Flask | None = None) -> dict[str, int]:
    """Run every registered pass once; return their counts, each key prefixed by the pass's name."""
    counts: dict[str, int] = {}
    for name, run in passes(app).items():
        for outcome, count in run(session).items():
            counts[f"{name}.{outcome}"] = count
    return counts
