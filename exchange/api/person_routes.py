"""The register of a case's persons, through the cases area's services: the case team reads
identities and protection measures, its prosecutors add and change them (as on the portal's
register page). Outside the team the case does not exist: 404."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_login import current_user
from marshmallow import Schema, fields, validate

from exchange import policy
from exchange.api.blueprint import blp
from exchange.api.case_routes import load_case
from exchange.api.schemas import In, _text
from exchange.auth.permissions import permission_required
from exchange.cases import persons
from exchange.cases.models import CasePerson
from exchange.extensions import db
from exchange.mla import disclosure

ID_LENGTH = 36


class ProtectionIn(In):
    """Protection measures of a person (Palermo Protocol art. 6; UNTOC 24-25)."""

    pseudonym = _text(persons.PROTECTION_TEXT["pseudonym"])
    guardian = _text(persons.PROTECTION_TEXT["guardian"])
    interpreter_language = _text(persons.PROTECTION_TEXT["interpreter_language"])
    support_organisation = _text(persons.PROTECTION_TEXT["support_organisation"])
    confidential_address = fields.Boolean()
    non_punishment = fields.Boolean()
    support_consent = fields.Boolean()
    no_contact_with = fields.List(
        _text(ID_LENGTH),
        validate=validate.Length(max=persons.MAX_NO_CONTACT),
        metadata={"description": "The case's suspects this person must not be put in touch with."},
    )


class CasePersonIn(In):
    """A person entered into the case's register: identity (a name at least), capacities,
    protection measures."""

    identity = fields.Dict(
        keys=fields.String(validate=validate.OneOf(persons.IDENTITY_FIELDS)),
        values=_text(persons.MAX_IDENTITY_LENGTH),
        required=True,
    )
    capacities = fields.List(
        fields.String(validate=validate.OneOf(persons.CAPACITIES)), load_default=list
    )
    protection = fields.Nested(ProtectionIn, load_default=dict)


class CasePersonEditIn(In):
    """A change of a person: each part sent replaces the stored one; parts left out stay."""

    identity = fields.Dict(
        keys=fields.String(validate=validate.OneOf(persons.IDENTITY_FIELDS)),
        values=_text(persons.MAX_IDENTITY_LENGTH),
    )
    capacities = fields.List(fields.String(validate=validate.OneOf(persons.CAPACITIES)))
    protection = fields.Nested(ProtectionIn)


class CasePersonOut(Schema):
    """A person of the case's register, as its team sees them."""

    id = fields.String(required=True)
    label = fields.String(required=True)
    capacities = fields.List(fields.String(), required=True)
    identity = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    protection = fields.Dict(required=True)
    warnings = fields.List(fields.String(), required=True, metadata={"description": "Codes."})


class CasePersonListOut(Schema):
    """The persons of a case's register."""

    items = fields.List(fields.Nested(CasePersonOut), required=True)


def _person(row: CasePerson) -> dict[str, Any]:
    """Describe a person of the register (identity and measures decrypted, for the team)."""
    return {
        "id": row.public_id,
        "label": row.label,
        "capacities": [c for c in persons.CAPACITIES if getattr(row, f"is_{c}")],
        "identity": persons.identity_of(row),
        "protection": persons.protection_of(row),
        "warnings": persons.person_warnings(row),
    }


@blp.route("/cases/<public_id>/persons", methods=["GET"], tags=["cases"])
@permission_required("cases.view")
@blp.response(200, CasePersonListOut)
def list_case_persons(public_id: str) -> dict[str, Any]:
    """List the persons of a case's register, with their identities (the case team only)."""
    case = load_case(public_id)
    if not policy.can_view_case(current_user, case):
        abort(404)
    return {"items": [_person(p) for p in case.persons]}


@blp.route("/cases/<public_id>/persons", methods=["POST"], tags=["cases"])
@permission_required("cases.manage")
@blp.arguments(CasePersonIn)
@blp.response(201, CasePersonOut)
def add_case_person(body: dict[str, Any], public_id: str) -> dict[str, Any]:
    """Enter a person into a case's register (stored encrypted), to choose into its requests."""
    case = load_case(public_id)
    person = persons.add_case_person(
        db.session,
        current_user,
        case,
        identity=body["identity"],
        capacities=set(body["capacities"]),
        protection=body["protection"],
    )
    return _person(person)


@blp.route("/cases/<public_id>/persons/<person_id>", methods=["PATCH"], tags=["cases"])
@permission_required("cases.manage")
@blp.arguments(CasePersonEditIn)
@blp.response(200, CasePersonOut)
def edit_case_person(body: dict[str, Any], public_id: str, person_id: str) -> dict[str, Any]:
    """Change a person of the register; the requests they are chosen into follow their
    capacities (as on the portal)."""
    case = load_case(public_id)
    person = next((p for p in case.persons if p.public_id == person_id), None)
    if person is None or not policy.can_manage_case(current_user, case):
        abort(404)
    current = {c for c in persons.CAPACITIES if getattr(person, f"is_{c}")}
    persons.update_case_person(
        db.session,
        current_user,
        person,
        identity=body.get("identity", persons.identity_of(person)),
        capacities=set(body.get("capacities", current)),
        protection=body.get("protection", persons.protection_of(person)),
    )
    disclosure.sync_capacities(db.session, person)
    return _person(person)
