"""Checks on raw request input shared by the areas' blueprints."""

from __future__ import annotations

from flask import abort, request


def refuse_nul_characters() -> None:
    """Answer 400 to any parameter holding a NUL character (PostgreSQL text cannot store it)."""
    for values in (request.args, request.form):
        for value in values.values():
            if "\x00" in value:
                abort(400)
