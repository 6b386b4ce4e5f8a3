"""A fixed plain-data context of each document, for the snapshot tests (no database, no clock)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from exchange.documents.context import EVENT_ACTIONS
from exchange.mla.definitions import get_type

TYPE = "taking_evidence"


def _authority(name: str, state: str, reference: str, central: str = "") -> dict[str, Any]:
    """Describe an authority as the context does."""
    return {
        "name": name,
        "code": name[:6].upper(),
        "kind": "prosecutor",
        "state": state,
        "state_code": state[:2].upper(),
        "languages": ["en"],
        "address": "1 Court Road",
        "email": "office@example.org",
        "phone": "+221 33 000 00 00",
        "reference": reference,
        "central": central,
    }


def sample_context(document: str, lang: str) -> dict[str, Any]:
    """Return a fixed context of ``document`` in ``lang`` (labels from the request type)."""
    definition = get_type(TYPE)
    assert definition is not None

    def items(fields: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": f.name,
                "kind": f.kind,
                "label": f.label_in(lang),
                "value": {"bool": True, "date": dt.date(2027, 1, 15)}.get(
                    f.kind, f"Value of {f.name}"
                ),
                "source": f.source_in(lang),
            }
            for f in fields
        ]

    requesting = _authority("Parquet de Tambacounda", "Sénégal", "SN-TGI-TAMBA/2026/000001", "DACG")
    requested = _authority("Central Authority Unit", "Nigeria", "FMOJ/CAU/2026/77")
    issuer, addressee = (
        (requesting, requested)
        if document in ("letter", "case_reference_notice")
        else (requested, requesting)
    )
    event = None
    if document in EVENT_ACTIONS:
        event = {
            "action": EVENT_ACTIONS[document][0],
            "at": dt.datetime(2026, 12, 2, 10, 0),
            "partial": False,
            "reason": "Which village?",
            "summary": "Statement taken on oath.",
            "reference": "FMOJ/CAU/2026/77",
            "ground": "essential_interests",
            "on": "",
            "ground_label": "Essential interests",
            "ground_source": "UNTOC 18(21)(b)",
        }
    return {
        "template_version": "VERSION",
        "issued_on": dt.date(2026, 12, 2),
        "issuer": issuer,
        "addressee": addressee,
        "requesting": requesting,
        "requested": requested,
        "other_side": addressee,
        "request": {
            "reference": issuer["reference"],
            "foreign_reference": addressee["reference"],
            "side": "outgoing",
            "type": TYPE,
            "title": definition.label_in(lang),
            "type_source": definition.source_in(lang),
            "state": "transmitted",
            "language": "en",
            "urgent": True,
            "urgency_reason": "The witness leaves on 20 December.",
            "desired_date": dt.date(2026, 12, 18),
            "confidential": True,
            "created_on": dt.date(2026, 11, 30),
            "transmitted_on": dt.date(2026, 12, 1),
            "due_on": dt.date(2026, 12, 9),
            "case_reference": "PR-TAMBA-2026-0001",
            "stage": "investigation",
        },
        "basis": [
            {
                "code": "UNTOC-18",
                "title": "United Nations Convention against Transnational Organized Crime",
                "citation": "UNTOC art. 18",
            }
        ],
        "contents": items(definition.common_fields),
        "particulars": items(definition.fields),
        "persons": [
            {
                "label": "P1",
                "name": "Blessing Okafor",
                "pseudonym": False,
                "capacities": ["victim", "minor", "witness"],
                "details": [{"key": "nationality", "value": "Nigerian"}],
                "protection": [
                    {"key": "confidential_address", "value": True},
                    {"key": "interpreter_language", "value": "Igbo"},
                ],
            },
            {
                "label": "P2",
                "name": "",
                "pseudonym": False,
                "capacities": ["suspect"],
                "details": [],
                "protection": [],
            },
        ],
        "identities_shown": True,
        "annexes": [{"filename": "pv-audition.pdf", "sha256": "ab" * 32}],
        "results": [{"filename": "deposition.pdf", "sha256": "cd" * 32}],
        "event": event,
        "signatory": {"name": "Aminata Diallo", "function": "Procureur de la République"},
    }
