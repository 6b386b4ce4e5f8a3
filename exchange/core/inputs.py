"""Checks on raw request input shared by the areas' blueprints."""

from __future__ import annotations

from flask import abort, request


def refuse_nul_characters() -> None:
    """Answer 400 to a path or parameter holding a NUL character, before any view reads it.

    PostgreSQL text cannot store NUL, and a NUL in a header is invalid (RFC 9110 5.5): refusing
    it at the door, for every blueprint, keeps it out of queries, logs and file names.
    """
    if "\x00" in request.path:
        abort(400)
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)
    for upload in request.files.values():
        if "\x00" in (upload.filename or ""):
            abort(400)
