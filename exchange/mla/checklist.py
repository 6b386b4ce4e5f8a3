"""Completeness: what the requested state will need, each element with its legal source."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from exchange.db import DbSession
from exchange.directory.languages import accepted_languages
from exchange.mla.citations import sources_under_basis
from exchange.mla.definitions import FieldDef, RequestType, get_type
from exchange.mla.models import MlaRequest
from exchange.mla.payloads import details_of


@dataclass(frozen=True)
class ChecklistItem:
    """One thing the requested state will need, with its legal source, and whether it is there.

    ``warn`` marks an element that does not block review but deserves a second look (a survivor
    who has not consented to return, a child without a best-interests assessment).
    """

    key: str
    source: dict[str, str]
    ok: bool
    required: bool
    field: FieldDef | None = None
    warn: bool = False

    def source_in(self, locale: str) -> str:
        """Return the legal source cited in ``locale``'s style."""
        return self.source.get(locale, self.source["en"])


def _cite(en: str, fr: str, pt: str) -> dict[str, str]:
    """Return a source in the three languages."""
    return {"en": en, "fr": fr, "pt": pt}


STRUCTURAL_SOURCES = {
    "requested_authority": _cite("UNTOC 18(13)", "CNUCTO 18(13)", "UNTOC art. 18.º, n.º 13"),
    "language": _cite(
        "UNTOC 18(14); ECOWAS 5(2)",
        "CNUCTO 18(14) ; CEDEAO 5(2)",
        "UNTOC art. 18.º, n.º 14; CEDEAO art. 5.º, n.º 2",
    ),
    # The undertaking to assist is art. 2 (art. 1 holds the definitions): UNVERIFIED (finding 3).
    "legal_basis": _cite(
        "UNTOC 18(1), 18(7); ECOWAS A/P.1/7/92 art. 2 (UNVERIFIED)",
        "CNUCTO 18(1), 18(7) ; CEDEAO A/P.1/7/92 art. 2 (NON VÉRIFIÉ)",
        "UNTOC art. 18.º, n.ºs 1 e 7; CEDEAO A/P.1/7/92 art. 2.º (NÃO VERIFICADO)",
    ),
    # Reasons go with any deadline asked for, not only with urgency (UNTOC 18(24), finding 15).
    "urgency": _cite(
        "UNTOC 18(24); ECOWAS 5(1)(f)",
        "CNUCTO 18(24) ; CEDEAO 5(1)(f)",
        "UNTOC art. 18.º, n.º 24; CEDEAO art. 5.º, n.º 1, al. f)",
    ),
    # Model Treaty art. 9 "Protection of confidentiality"; ECOWAS follows its numbering (finding 32).
    "confidentiality": _cite(
        "UNTOC 18(20); ECOWAS art. 9 (UNVERIFIED)",
        "CNUCTO 18(20) ; CEDEAO art. 9 (NON VÉRIFIÉ)",
        "UNTOC art. 18.º, n.º 20; CEDEAO art. 9.º (NÃO VERIFICADO)",
    ),
    "persons": _cite(
        "UNTOC 18(15)(e); ECOWAS 5(1)(d) (inferred)",
        "CNUCTO 18(15)(e) ; CEDEAO 5(1)(d) (déduit)",
        "UNTOC art. 18.º, n.º 15, al. e); CEDEAO art. 5.º, n.º 1, al. d) (inferido)",
    ),
    "victim": _cite(
        "Palermo Protocol arts. 6 and 8",
        "Protocole de Palerme, art. 6 et 8",
        "Protocolo de Palermo, arts. 6.º e 8.º",
    ),
}


def _filled(field: FieldDef, value: Any) -> bool:
    """Tell whether a required field has a value (a required checkbox must be ticked)."""
    if field.kind == "bool":
        return value is True
    if field.kind == "choice":
        return value in {o.value for o in field.options}
    return bool(str(value or "").strip())


def person_flags(request: MlaRequest) -> set[str]:
    """Return the qualities the request's persons carry (victim, minor, witness, suspect)."""
    flags = set()
    for person in request.persons:
        for flag in ("victim", "minor", "witness", "suspect"):
            if getattr(person, f"is_{flag}"):
                flags.add(flag)
    return flags


def _field_item(field: FieldDef, details: dict[str, Any], flags: set[str]) -> ChecklistItem:
    """Return the checklist item of one field: required always or when its condition holds."""
    value = details.get(field.name)
    filled = _filled(field, value)
    required = field.required or (
        field.required_when is not None and field.required_when.holds(details, flags)
    )
    warn = bool(field.warn_unless) and value not in field.warn_unless
    if field.advised_when is not None and field.advised_when.holds(details, flags):
        warn = warn or not filled
    return ChecklistItem(field.name, field.source, filled or not required, required, field, warn)


def checklist(session: DbSession, request: MlaRequest) -> list[ChecklistItem]:
    """Return the checklist of the request: every element the requested state needs, in order."""
    definition = get_type(request.request_type)
    assert definition is not None  # noqa: S101
    details = details_of(request)
    flags = person_flags(request)
    basis = [code for code in request.legal_basis.split(",") if code]
    # The draft's own legal basis decides whether A/P.1/7/92 art. 5(2) widens the languages.
    languages = accepted_languages(
        session,
        request.authority.jurisdiction_code,
        request.counterpart_state,
        legal_basis=basis,
    )
    reason_given = bool(request.urgency_reason.strip())
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
            (not request.urgent or request.desired_date is not None)
            and (reason_given or not (request.urgent or request.desired_date)),
            request.urgent or request.desired_date is not None,
        ),
        ChecklistItem("confidentiality", STRUCTURAL_SOURCES["confidentiality"], True, False),
    ]
    items += [_field_item(f, details, flags) for f in definition.all_fields]
    items += _persons_items(definition, request)
    # Each element cites the instruments the request rests on, not one it does not rely on.
    return [replace(i, source=sources_under_basis(i.source, basis)) for i in items]


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


def warnings(session: DbSession, request: MlaRequest) -> list[ChecklistItem]:
    """Return the elements that do not block review but that the checklist warns about."""
    return [item for item in checklist(session, request) if item.warn]
