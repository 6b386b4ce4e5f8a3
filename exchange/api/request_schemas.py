"""Marshmallow schemas of requests, their timeline, persons, annexes and messages."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from exchange.api.schemas import AuthorityOut, In, _text
from exchange.directory.models import LANGUAGES
from exchange.mla.drafting import IDENTITY_FIELDS
from exchange.mla.messages import MESSAGE_KINDS


class RequestQueryIn(In):
    """The dashboard's filters, a cursor and a page size."""

    direction = fields.String(
        load_default="outgoing", validate=validate.OneOf(("outgoing", "incoming"))
    )
    state = _text(30, load_default="")
    country = _text(2, load_default="")
    type = _text(60, load_default="")
    urgent = fields.Boolean(load_default=False)
    overdue = fields.Boolean(load_default=False)
    mine = fields.Boolean(load_default=False)
    cursor = _text(60, load_default="")
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class RequestSummaryOut(Schema):
    """A request as the dashboard lists it."""

    id = fields.String(required=True)
    reference = fields.String(required=True)
    foreign_reference = fields.String(required=True)
    direction = fields.String(required=True)
    state = fields.String(required=True)
    request_type = fields.String(required=True)
    counterpart = fields.Nested(AuthorityOut, required=True)
    urgent = fields.Boolean(required=True)
    overdue = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    due_at = fields.DateTime(allow_none=True, required=True)
    version = fields.Integer(required=True)


class RequestPageOut(Schema):
    """One page of requests, newest first, and the cursor of the next (null on the last)."""

    items = fields.List(fields.Nested(RequestSummaryOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class PersonOut(Schema):
    """A person concerned; the identity only for those who may read it (else null)."""

    id = fields.String(required=True)
    label = fields.String(required=True)
    victim = fields.Boolean(required=True)
    minor = fields.Boolean(required=True)
    witness = fields.Boolean(required=True)
    suspect = fields.Boolean(required=True)
    identity = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)


class PersonIn(In):
    """A person concerned to add to a draft."""

    identity = fields.Dict(
        keys=fields.String(validate=validate.OneOf(IDENTITY_FIELDS)),
        values=fields.String(validate=validate.Length(max=500)),
        required=True,
    )
    victim = fields.Boolean(load_default=False)
    minor = fields.Boolean(load_default=False)
    witness = fields.Boolean(load_default=False)
    suspect = fields.Boolean(load_default=False)


class AnnexOut(Schema):
    """An annex of a request (its content is downloaded from its own URL)."""

    sha256 = fields.String(required=True)
    kind = fields.String(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)


class AnnexListOut(Schema):
    """A request's annexes."""

    items = fields.List(fields.Nested(AnnexOut), required=True)


class AnnexIn(In):
    """The kind of an uploaded annex (the file is the ``file`` part)."""

    kind = fields.String(
        load_default="supporting", validate=validate.OneOf(("supporting", "result"))
    )


class RequestOut(RequestSummaryOut):
    """A request as its page shows it: contents, persons, annexes, the moves open to the user."""

    case_id = fields.String(allow_none=True, required=True)
    authority = fields.Nested(AuthorityOut, required=True)
    language = fields.String(required=True)
    legal_basis = fields.List(fields.String(), required=True)
    urgency_reason = fields.String(required=True)
    desired_date = fields.Date(allow_none=True, required=True)
    confidential = fields.Boolean(required=True)
    contents = fields.Dict(keys=fields.String(), required=True)
    persons = fields.List(fields.Nested(PersonOut), required=True)
    annexes = fields.List(fields.Nested(AnnexOut), required=True)
    actions = fields.List(fields.String(), required=True)
    updated_at = fields.DateTime(required=True)


class RequestIn(In):
    """A new draft of a case, to a foreign authority."""

    case_id = _text(36, required=True)
    request_type = _text(60, required=True)
    counterpart = _text(40, required=True)


class DraftIn(In):
    """A change of a draft: the basics and some of its contents (fields left out keep theirs)."""

    counterpart = _text(40)
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    legal_basis = fields.List(_text(60), validate=validate.Length(max=20))
    urgent = fields.Boolean()
    urgency_reason = _text(4000)
    desired_date = fields.Date(allow_none=True)
    confidential = fields.Boolean()
    contents = fields.Dict(keys=fields.String(validate=validate.Length(max=60)))


class MoveIn(In):
    """The particulars of a move (which ones a move needs, the lifecycle says)."""

    reason = _text(4000)
    summary = _text(4000)
    reference = _text(80)
    authority = _text(40)
    officer = _text(36)
    ground = _text(40)
    conditions = _text(4000)
    consultation = _text(4000)
    no_consultation_reason = _text(4000)
    kinds = fields.List(_text(40), validate=validate.Length(max=10))
    annexes = fields.List(_text(64), validate=validate.Length(max=50))
    until = fields.Date()


class EventOut(Schema):
    """One move of the timeline."""

    seq = fields.Integer(required=True)
    action = fields.String(required=True)
    from_state = fields.String(required=True)
    to_state = fields.String(required=True)
    at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    actor_authority = fields.String(required=True)
    particulars = fields.Dict(keys=fields.String(), required=True)


class EventListOut(Schema):
    """A request's timeline, oldest first."""

    items = fields.List(fields.Nested(EventOut), required=True)


class MessageOut(Schema):
    """A message of the thread (sent, received) or an internal note of the team."""

    at = fields.DateTime(required=True)
    where = fields.String(required=True)
    kind = fields.String(required=True)
    author = fields.String(required=True)
    body = fields.String(required=True)


class MessageListOut(Schema):
    """A request's thread, oldest first."""

    items = fields.List(fields.Nested(MessageOut), required=True)


class MessageIn(In):
    """A message to send about a request, or an internal note (``kind`` = ``note``)."""

    kind = fields.String(required=True, validate=validate.OneOf((*MESSAGE_KINDS, "note")))
    body = _text(8000, required=True, validate=validate.Length(min=1, max=8000))
