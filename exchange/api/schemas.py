"""Marshmallow schemas of the API: ``XIn`` loads what a client sends, ``XOut`` dumps what it reads.

Never one schema for both. Every text input has a length limit; unknown fields are refused.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from exchange.api.models import SCOPES
from exchange.cases.models import DISCLOSABLE, STAGES
from exchange.mla.messages import MESSAGE_KINDS

ID = fields.String(metadata={"description": "Public identifier (a UUID)."})


class In(Schema):
    """Base of input schemas: unknown fields are an error, not silently dropped."""

    class Meta:
        unknown = RAISE


def _text(max_length: int, *, required: bool = False, **kwargs: object) -> fields.String:
    """Return a text field of at most ``max_length`` characters (or as ``validate`` says)."""
    kwargs.setdefault("validate", validate.Length(max=max_length))
    return fields.String(required=required, **kwargs)  # type: ignore[arg-type]


class ProblemOut(Schema):
    """Problem details (RFC 9457): what went wrong, ``detail`` in the user's language."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    error = fields.String(metadata={"description": "Why a service refused, as a code."})
    items = fields.List(fields.String(), metadata={"description": "What is missing or wrong."})
    errors = fields.Dict(metadata={"description": "The fields that are not valid, and why."})
    state = fields.String()
    version = fields.Integer()


# --- tokens ---------------------------------------------------------------------------------------


class TokenIn(In):
    """A sign-in: e-mail address, password and, where the account has one, the current code."""

    email = _text(254, required=True)
    password = _text(1024, required=True)
    code = _text(40, load_default="", metadata={"description": "TOTP or recovery code."})


class RefreshIn(In):
    """A refresh token to spend for a new pair."""

    refresh_token = _text(100, required=True)


class RevokeIn(In):
    """A refresh token whose sign-in to end (RFC 7009)."""

    refresh_token = _text(100, required=True)


class TokenOut(Schema):
    """An access token (JWT) and the refresh token that replaces it."""

    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)
    refresh_token = fields.String(required=True)


class MeOut(Schema):
    """The account a credential speaks for."""

    id = fields.String(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    authority = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    permissions = fields.List(fields.String(), required=True)
    scope = fields.String(required=True, validate=validate.OneOf(SCOPES))


# --- directory ------------------------------------------------------------------------------------


class AuthorityOut(Schema):
    """An authority of the directory."""

    code = fields.String(required=True)
    name = fields.String(required=True)
    state = fields.String(required=True)
    kind = fields.String(required=True)


class CompetentQueryIn(In):
    """Which state and which measure a competent authority is sought for."""

    state = fields.String(required=True, validate=validate.Length(equal=2))
    measure = _text(60, required=True)


class StatsQueryIn(In):
    """Which direction the statistics cover."""

    direction = fields.String(
        load_default="outgoing", validate=validate.OneOf(("outgoing", "incoming"))
    )


class CountOut(Schema):
    """One figure of a breakdown."""

    key = fields.String(required=True)
    count = fields.Integer(required=True)


class StatsOut(Schema):
    """The authority's figures (aggregates only: no names, no free text)."""

    direction = fields.String(required=True)
    total = fields.Integer(required=True)
    by_country = fields.List(fields.Nested(CountOut), required=True)
    by_type = fields.List(fields.Nested(CountOut), required=True)
    by_state = fields.List(fields.Nested(CountOut), required=True)
    refusal_grounds = fields.List(fields.Nested(CountOut), required=True)
    median_days_to_ack = fields.Float(allow_none=True, required=True)
    median_days_to_execution = fields.Float(allow_none=True, required=True)


# --- cases ----------------------------------------------------------------------------------------


class MemberOut(Schema):
    """A member of a case team."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)


class CaseOut(Schema):
    """A case of the user's authority that the user is on the team of."""

    id = fields.String(required=True)
    number = fields.String(required=True)
    title = fields.String(required=True)
    stage = fields.String(required=True)
    offences = fields.List(fields.String(), required=True)
    border_localities = fields.List(fields.String(), required=True)
    created_at = fields.DateTime(required=True)
    team = fields.List(fields.Nested(MemberOut), required=True)


class CaseListOut(Schema):
    """The cases the user may see."""

    items = fields.List(fields.Nested(CaseOut), required=True)


class CaseIn(In):
    """A new case."""

    number = _text(60, required=True, validate=validate.Length(min=1, max=60))
    title = _text(300, required=True, validate=validate.Length(min=1, max=300))
    offences = fields.List(_text(200), load_default=list, validate=validate.Length(max=50))
    stage = fields.String(load_default="investigation", validate=validate.OneOf(STAGES))
    border_localities = fields.List(_text(200), load_default=list, validate=validate.Length(max=50))


class CaseEditIn(In):
    """A change of a case (fields left out keep their value)."""

    title = _text(300, validate=validate.Length(min=1, max=300))
    offences = fields.List(_text(200), validate=validate.Length(max=50))
    stage = fields.String(validate=validate.OneOf(STAGES))
    border_localities = fields.List(_text(200), validate=validate.Length(max=50))


class MemberIn(In):
    """A colleague to put on a case team."""

    user_id = _text(36, required=True)


class TeamOut(Schema):
    """A case team."""

    items = fields.List(fields.Nested(MemberOut), required=True)


class ReferenceOut(Schema):
    """A case reference shared with, or received from, a foreign authority."""

    id = fields.String(required=True)
    direction = fields.String(required=True)
    reference = fields.String(required=True)
    counterpart = fields.Nested(AuthorityOut, required=True)
    state = fields.String(required=True)
    case_id = fields.String(allow_none=True, required=True)
    linked_reference = fields.String(required=True)
    offence_categories = fields.String(required=True)
    contact_point = fields.String(required=True)
    disclosed = fields.Dict(keys=fields.String(), required=True)
    created_at = fields.DateTime(required=True)


class ReferenceListOut(Schema):
    """Case references the user may see."""

    items = fields.List(fields.Nested(ReferenceOut), required=True)


class ShareIn(In):
    """A case reference to share abroad, disclosing only what is chosen."""

    counterpart = _text(40, required=True)
    disclose = fields.List(fields.String(validate=validate.OneOf(DISCLOSABLE)), load_default=list)
    contact_point = _text(300, required=True, validate=validate.Length(min=1, max=300))
    offence_categories = _text(300, load_default="")


class LinkIn(In):
    """The own case to link a received case reference to."""

    case_id = _text(36, required=True)


class ReferenceMessageIn(In):
    """A message about a case reference (consultation before a request); no internal notes."""

    kind = fields.String(required=True, validate=validate.OneOf(MESSAGE_KINDS))
    body = _text(8000, required=True, validate=validate.Length(min=1, max=8000))
