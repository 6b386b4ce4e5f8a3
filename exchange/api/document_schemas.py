"""Schemas of the documents, bundle jobs and paper dispatches of the API (``XIn`` / ``XOut``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from exchange.api.schemas import In, _text
from exchange.documents.dispatch import CHANNELS, MAX_REFERENCE
from exchange.documents.jobs import LANGUAGES

# At most one part per language: the original, and the other two at most (bilingual, trilingual).
MAX_EXTRA_LANGUAGES = len(LANGUAGES) - 1


class DocumentQueryIn(In):
    """Which language a document is rendered in, and which others follow it (each a part)."""

    lang = fields.String(
        load_default="",
        validate=validate.OneOf(("", *LANGUAGES)),
        metadata={"description": "Its language; by default the request's."},
    )
    also = fields.List(
        fields.String(validate=validate.OneOf(LANGUAGES)),
        load_default=list,
        validate=validate.Length(max=MAX_EXTRA_LANGUAGES),
        metadata={
            "description": "Another language, as a second part after the first (repeatable): "
            "the bilingual document."
        },
    )


class BundleIn(In):
    """A bundle to build: its language."""

    lang = fields.String(required=True, validate=validate.OneOf(LANGUAGES))


class BundleOut(Schema):
    """A bundle job: its state and progress; where to download it once done."""

    id = fields.String(required=True)
    request_id = fields.String(required=True)
    lang = fields.String(required=True)
    state = fields.String(
        required=True, metadata={"description": "queued, running, done or failed"}
    )
    done = fields.Integer(required=True, metadata={"description": "Steps done."})
    total = fields.Integer(required=True, metadata={"description": "Steps in all (0: not known)."})
    percent = fields.Integer(required=True)
    error = fields.String(required=True, metadata={"description": "Why it failed, as a code."})
    error_detail = fields.String(required=True, metadata={"description": "Why, in words."})
    sha256 = fields.String(required=True)
    size = fields.Integer(required=True)
    template_version = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(required=True, allow_none=True)
    download = fields.String(required=True, allow_none=True)


class BundleListOut(Schema):
    """A request's bundle jobs, newest first."""

    items = fields.List(fields.Nested(BundleOut), required=True)


class DispatchIn(In):
    """A dispatch by an official channel: which, its note or courier reference, its date."""

    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    reference = _text(MAX_REFERENCE, load_default="")
    on = fields.Date(required=True)


class ReceiptIn(In):
    """The other side's receipt of a dispatch: its date and their reference."""

    reference = _text(MAX_REFERENCE, load_default="")
    on = fields.Date(required=True)


class DispatchOut(Schema):
    """A paper dispatch, and its receipt once recorded."""

    id = fields.String(required=True)
    request_id = fields.String(required=True)
    subject = fields.String(
        required=True, metadata={"description": "request, partially_executed, executed, refused"}
    )
    channel = fields.String(required=True)
    reference = fields.String(required=True)
    dispatched_on = fields.Date(required=True)
    bundle_id = fields.String(required=True, allow_none=True)
    received_on = fields.Date(required=True, allow_none=True)
    receipt_reference = fields.String(required=True)


class DispatchListOut(Schema):
    """A request's dispatches, newest first."""

    items = fields.List(fields.Nested(DispatchOut), required=True)


class OwedOut(Schema):
    """A request whose paper is owed, and what of it."""

    request_id = fields.String(required=True)
    reference = fields.String(required=True)
    direction = fields.String(required=True)
    state = fields.String(required=True)
    urgent = fields.Boolean(required=True)
    subject = fields.String(required=True)


class PaperDeskOut(Schema):
    """The liaison officer's work list: the paper owed, and the dispatches awaiting receipt."""

    awaiting_dispatch = fields.List(fields.Nested(OwedOut), required=True)
    awaiting_receipt = fields.List(fields.Nested(DispatchOut), required=True)
