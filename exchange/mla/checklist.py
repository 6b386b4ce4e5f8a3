"""Completeness: what the requested state will need, each element with its legal source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exchange.db import DbSession
from exchange.directory.languages import accepted_languages
from exchange.mla.definitions import FieldDef, RequestType, get_type
from exchange.mla.models import MlaRequest
from exchange.mla.payloads import details_of


@dataclass(frozen=True)
class ChecklistItem:
    """One thing the requested state will need, with its legal source, and whether it is there."""

    key: str
    source: str
    ok: bool
    required: bool
    field: FieldDef | None = None


STRUCTURAL_SOURCES = {
    "requested_authority": "UNTOC 18(13)",
    "language": "UNTOC 18(14); ECOWAS 5(2)",
    "legal_basis": "UNTOC 18(1), 18(7); ECOWAS A/P.1/7/92 art. 1",
    "urgency": "UNTOC 18(24); ECOWAS 5(1)(f)",
    "confidentiality": "UNTOC 18(20)",
    "persons": "UNTOC 18(15)(e); ECOWAS 5(1)(d) (inferred)",
    "victim": "Palermo Protocol arts. 6 and 8",
}


def _filled(field: FieldDef, value: Any) -> bool:
    """Tell whether a required field has a value (a required checkbox must be ticked)."""
    if field.kind == "bool":
        return value is True
    return bool(str(value or "").strip())


def checklist(session: DbSession, request: MlaRequest) -> list[ChecklistItem]:
    """Return the checklist of the request: every element the requested state needs, in order."""
    definition = get_type(request.request_type)
    assert definition is not None  # noqa: S101
    details = details_of(request)
    # The draft's own legal basis decides whether A/P.1/7/92 art. 5(2) widens the languages.
    languages = accepted_languages(
        session,
        request.authority.jurisdiction_code,
        request.counterpart_state,
        legal_basis=[code for code in request.legal_basis.split(",") if code],
    )
    items = [
        ChecklistItem(
            "requested_authority",
            STRUCTURAL_SOURCES["requested_authority"],
            request.counterpart_id is not None,
            True,
        ),
        ChecklistItem(
            "language", STRUCTURAL_SOURCES["language"], languages.accepts(request.language), True
        ),
        ChecklistItem(
            "legal_basis", STRUCTURAL_SOURCES["legal_basis"], bool(request.legal_basis), True
        ),
        ChecklistItem(
            "urgency",
            STRUCTURAL_SOURCES["urgency"],
            not request.urgent
            or (bool(request.urgency_reason.strip()) and request.desired_date is not None),
            request.urgent,
        ),
        ChecklistItem("confidentiality", STRUCTURAL_SOURCES["confidentiality"], True, False),
    ]
    items += [
        ChecklistItem(
            f.name, f.source, _filled(f, details.get(f.name)) or not f.required, f.required, f
        )
        for f in definition.all_fields
    ]
    items += _persons_items(definition, request)
    return items


def _persons_items(definition: RequestType, request: MlaRequest) -> list[ChecklistItem]:
    """Return the checklist items about persons concerned that the type asks for."""
    if definition.persons == "required":
        return [
            ChecklistItem("persons", STRUCTURAL_SOURCES["persons"], bool(request.persons), True)
        ]
    if definition.persons == "victim":
        return [
            ChecklistItem(
                "victim",
                STRUCTURAL_SOURCES["victim"],
                any(p.is_victim for p in request.persons),
                True,
            )
        ]
    return [ChecklistItem("persons", STRUCTURAL_SOURCES["persons"], True, False)]


def missing(session: DbSession, request: MlaRequest) -> list[ChecklistItem]:
    """Return the required elements still missing; a draft with any cannot go to review."""
    return [item for item in checklist(session, request) if item.required and not item.ok]
