"""Checks on raw request input shared by the areas' blueprints and forms."""

from __future__ import annotations

from typing import Any

from flask import abort, request
from wtforms import Field, ValidationError

from exchange.core.emails import InvalidEmail, check_email

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def refuse_nul_characters() -> None:
    """Answer 400 to a path or parameter holding a NUL character, before any view reads it.

    PostgreSQL text cannot store NUL, and a NUL in a header is invalid (RFC 9110 5.5): refusing
    it at the door, for every blueprint, keeps it out of queries, logs and file names.
    """
    if "\x00" in request.path:
        abort(400)
    if request.mimetype not in FORM_TYPES:
        # Only forms are parsed here: another body (an envelope at the federation inbox) is its
        # route's to read, within that route's own size limit.
        values_of: tuple[Any, ...] = (request.args,)
    else:
        values_of = (request.args, request.form)
    for values in values_of:
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)
    if request.mimetype != "multipart/form-data":
        return
    for upload in request.files.values():
        if "\x00" in (upload.filename or ""):
            abort(400)


class EmailAddress:
    """A form field validator: the field holds an e-mail address (``emails.check_email``)."""

    def __init__(self, message: object) -> None:
        self.message = message  # a lazy string: translated when a form is checked

    def __call__(self, form: object, field: Field) -> None:
        """Refuse the field's value unless it is an e-mail address."""
        try:
            check_email(field.data or "")
        except InvalidEmail as exc:
            raise ValidationError(str(self.message)) from exc
