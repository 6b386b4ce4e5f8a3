"""The plain-data context of an official document, built from a request over the session.

No ORM object reaches a template: ``document_context`` reads the request, its authorities, its
contents and the move the document reports, and returns dicts, lists, strings, numbers and dates
only (``rendering.assert_plain`` checks it). Wording that depends on the language but is data —
the labels and sources of the request type's fields, the state names, the titles of the
instruments relied on — is taken in the document's language from where the portal takes it.

The persons concerned appear exactly as the request discloses them (``disclosed_persons``: the
identity or the pseudonym, the details and protection measures the case team chose) and only to
a user who may read them on the request page; to others a person is their label and capacities.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from exchange import policy
from exchange.auth.models import User
from exchange.cases.models import Case, CaseReference
from exchange.db import DbSession, utcnow
from exchange.directory.models import Authority
from exchange.directory.queries import instrument_by_code
from exchange.documents.rendering import TEMPLATE_VERSION, DocumentError, assert_plain
from exchange.mla import disclosure, grounds, payloads
from exchange.mla.citations import under_basis
from exchange.mla.definitions import FieldDef, get_type
from exchange.mla.labels import request_title
from exchange.mla.models import OUTGOING, MlaRequest, RequestEvent, RequestPerson

#: The move each notice reports (the latest one of these actions on the request's timeline).
EVENT_ACTIONS: dict[str, tuple[str, ...]] = {
    "acknowledgement": ("register", "acknowledge", "take_note"),
    "additional_information": ("request_info",),
    "execution_report": ("execute", "execute_partially"),
    "refusal_notice": ("refuse",),
}

#: Who issues each document: the requesting side or the requested one ("holder": this copy's).
ISSUER = {
    "letter": "requesting",
    "acknowledgement": "requested",
    "additional_information": "requested",
    "execution_report": "requested",
    "refusal_notice": "requested",
    "case_reference_notice": "holder",
}

_EVENT_TEXTS = ("reason", "summary", "reference", "ground", "on")


class RequestNotFound(DocumentError):
    """No request has this reference, or the user may not read it (the same answer for both)."""


def find_by_reference(session: DbSession, actor: User | None, reference: str) -> MlaRequest:
    """Return the request shown in the portal as ``reference`` if ``actor`` may read it.

    Without an actor (the node's operator at the command line) any request held here is found.
    """
    candidates = session.scalars(
        select(MlaRequest)
        .where((MlaRequest.reference == reference) | (MlaRequest.public_id == reference))
        .options(
            selectinload(MlaRequest.events),
            selectinload(MlaRequest.persons).joinedload(RequestPerson.case_person),
            selectinload(MlaRequest.annexes),
            joinedload(MlaRequest.case).selectinload(Case.members),
        )
    ).all()
    for request in candidates:
        if actor is None or policy.can_view_request(actor, request):
            return request
    raise RequestNotFound(f"no request {reference!r} that this user may read")


def _authority(authority: Authority | None, lang: str, reference: str) -> dict[str, Any]:
    """Describe an authority for a letterhead or an address block."""
    if authority is None:
        return {"name": "", "code": "", "state": "", "address": "", "email": "", "phone": "",
                "kind": "", "reference": reference}  # fmt: skip
    return {
        "name": authority.name,
        "code": authority.code,
        "kind": authority.kind,
        "state": authority.jurisdiction.name(lang),
        "state_code": authority.jurisdiction_code,
        "languages": list(authority.jurisdiction.request_languages),
        "address": authority.address,
        "email": authority.email,
        "phone": authority.phone,
        "reference": reference,
    }


def _sides(request: MlaRequest, lang: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the requesting and the requested side, whichever copy this is."""
    if request.side == OUTGOING:
        requesting = _authority(request.authority, lang, request.reference)
        requesting["central"] = _authority(request.reviewing_authority, lang, "")["name"]
        requested = _authority(request.counterpart, lang, request.foreign_reference)
        requested["central"] = ""
    else:
        requesting = _authority(request.counterpart, lang, request.foreign_reference)
        requesting["central"] = ""
        requested = _authority(request.authority, lang, request.reference)
        requested["central"] = _authority(request.assigned_authority, lang, "")["name"]
    return requesting, requested


def _shared_case_reference(session: DbSession, request: MlaRequest) -> str:
    """Return the case reference the requesting side shared with the requested authority.

    The case's own number is not disclosed by a request; a case reference is, once shared
    (``exchange.cases`` references). The requested side's copy has no case: none is shown.
    """
    if request.side != OUTGOING or request.case_id is None:
        return ""
    found = session.scalars(
        select(CaseReference)
        .where(
            CaseReference.case_id == request.case_id,
            CaseReference.counterpart_id == request.counterpart_id,
            CaseReference.direction == "outgoing",
        )
        .order_by(CaseReference.id.desc())
    ).first()
    return found.reference if found is not None else ""


def _value(field: FieldDef, value: Any, lang: str) -> Any:
    """Return a field's value as a document shows it (a choice by its label, a date as a date)."""
    if field.kind == "choice":
        return field.option_label(value, lang)
    if field.kind == "date" and isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if field.kind == "bool":
        return bool(value)
    return str(value)


def _items(
    fields: tuple[FieldDef, ...], contents: Mapping[str, Any], basis: list[str], lang: str
) -> list[dict[str, Any]]:
    """Return the fields filled in, each with its label, value and source in ``lang``."""
    items = []
    for field in fields:
        value = contents.get(field.name)
        if value in (None, "", False) and field.kind != "bool":
            continue
        if field.kind == "bool" and value is None:
            continue
        items.append(
            {
                "name": field.name,
                "kind": field.kind,
                "label": field.label_in(lang),
                "value": _value(field, value, lang),
                "source": under_basis(field.source_in(lang), basis),
            }
        )
    return items


def _basis(session: DbSession, codes: list[str], lang: str) -> list[dict[str, str]]:
    """Return the instruments the request rests on, with their titles in ``lang``."""
    found = []
    for code in codes:
        instrument = instrument_by_code(session, code)
        if instrument is None:
            found.append({"code": code, "title": code, "citation": ""})
            continue
        found.append(
            {
                "code": code,
                "title": str(getattr(instrument, f"title_{lang}", "") or instrument.title_en),
                "citation": str(getattr(instrument, f"citation_{lang}", "") or ""),
            }
        )
    return found


def _measure_value(value: Any) -> Any:
    """Return a protection measure's value: yes/no as a boolean, a list as one line of text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _person(entry: dict[str, Any], identities: bool) -> dict[str, Any]:
    """Return a disclosed person as plain data (label and capacities only without identities)."""
    capacities = [c for c in ("victim", "minor", "witness", "suspect") if entry.get(c)]
    identity = dict(entry.get("identity") or {}) if identities else {}
    protection = dict(entry.get("protection") or {}) if identities else {}
    name = identity.pop("name", "") if identities else ""
    return {
        "label": str(entry.get("label", "")),
        "name": str(name or ""),
        "pseudonym": entry.get("disclosure") == "pseudonym",
        "capacities": capacities,
        "details": [{"key": k, "value": str(v)} for k, v in identity.items() if v],
        "protection": [{"key": k, "value": _measure_value(v)} for k, v in protection.items() if v],
    }


def _ground_label(code: str, lang: str) -> str:
    """Return the label of a refusal ground in ``lang``, as the portal words it."""
    if not code:
        return ""
    from flask_babel import force_locale

    from exchange.mla.labels import GROUND_LABELS

    label = GROUND_LABELS.get(code)
    if label is None:
        return code
    with force_locale(lang):
        return str(label)


def _event(
    request: MlaRequest, document: str, lang: str, basis: list[str]
) -> dict[str, Any] | None:
    """Return the move a notice reports (the latest of its actions), or None for the letter."""
    import json

    actions = EVENT_ACTIONS.get(document)
    if actions is None:
        return None
    chosen: RequestEvent | None = None
    for event in request.events:
        if event.action in actions:
            chosen = event
    if chosen is None:
        raise DocumentError(f"request {request.reference}: nothing recorded for a {document}")
    data = json.loads(chosen.payload or "{}")
    found: dict[str, Any] = {k: str(data.get(k) or "") for k in _EVENT_TEXTS}
    found["action"] = chosen.action
    found["at"] = chosen.at
    found["partial"] = chosen.action == "execute_partially"
    found["ground_label"] = _ground_label(found["ground"], lang)
    found["ground_source"] = (
        grounds.offer(basis).source_of(found["ground"], lang) if found["ground"] else ""
    )
    return found


def build_context(
    session: DbSession,
    request: MlaRequest,
    document: str,
    lang: str,
    *,
    identities: bool,
    signatory: Mapping[str, str] | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Return the plain-data context of ``document`` for ``request`` in ``lang``."""
    definition = get_type(request.request_type)
    if definition is None:
        raise DocumentError(f"unknown request type {request.request_type!r}")
    if document not in ISSUER:
        raise DocumentError(f"unknown document {document!r}")
    basis = [c for c in request.legal_basis.split(",") if c]
    contents = payloads.details_of(request)
    requesting, requested = _sides(request, lang)
    holder, other = (requesting, requested) if request.side == OUTGOING else (requested, requesting)
    issuer = {"requesting": requesting, "requested": requested, "holder": holder}[ISSUER[document]]
    addressee = requested if issuer is requesting else requesting
    case = request.case
    supporting = [a for a in request.annexes if a.kind == "supporting"]
    results = [a for a in request.annexes if a.kind == "result"]
    context: dict[str, Any] = {
        "template_version": TEMPLATE_VERSION,
        "issued_on": today or utcnow().date(),
        "issuer": issuer,
        "addressee": addressee,
        "requesting": requesting,
        "requested": requested,
        "other_side": other,
        "request": {
            "reference": request.reference,
            "foreign_reference": request.foreign_reference,
            "side": request.side,
            "type": request.request_type,
            "title": request_title(definition, requesting["kind"], lang),
            "type_source": under_basis(definition.source_in(lang), basis),
            "state": request.state,
            "language": request.language,
            "urgent": bool(request.urgent),
            "urgency_reason": request.urgency_reason or "",
            "desired_date": request.desired_date,
            "confidential": bool(request.confidential),
            "created_on": request.created_at.date(),
            "transmitted_on": request.transmitted_at.date() if request.transmitted_at else None,
            "due_on": request.due_at.date() if request.due_at else None,
            "case_reference": _shared_case_reference(session, request),
            "stage": case.stage if case is not None else "",
        },
        "basis": _basis(session, basis, lang),
        "contents": _items(definition.common_fields, contents, basis, lang),
        "particulars": _items(definition.fields, contents, basis, lang),
        "persons": [_person(p, identities) for p in disclosure.disclosed_persons(request)],
        "identities_shown": identities,
        "annexes": [
            {"filename": payloads.annex_filename(a), "sha256": a.sha256} for a in supporting
        ],
        "results": [{"filename": payloads.annex_filename(a), "sha256": a.sha256} for a in results],
        "event": _event(request, document, lang, basis),
        "signatory": dict(signatory or {"name": "", "function": ""}),
    }
    assert_plain(context)
    return context


def document_context(
    session: DbSession,
    actor: User | None,
    reference: str,
    document: str,
    lang: str,
    *,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Return the context of ``document`` for the request ``reference``, as ``actor`` may read it.

    The same policy as the request page: ``RequestNotFound`` if ``actor`` may not open the
    request; the persons' identities only if the request page would show them to ``actor``
    (a reviewing officer's view of them is recorded on the timeline, as the page records it).
    Without an actor (the operator), the request is found but no identity is shown.
    """
    request = find_by_reference(session, actor, reference)
    team = actor is not None and policy.can_see_identities(actor, request)
    reviewer = actor is not None and not team and policy.can_review_disclosure(actor, request)
    identities = team or reviewer
    if reviewer and actor is not None and request.persons:
        # As on the review page: the reviewing officer's view of the identities is recorded.
        disclosure.record_view(session, actor, request)
    signatory = (
        {"name": actor.display_name, "function": actor.authority.name}
        if actor is not None
        else {"name": "", "function": ""}
    )
    return build_context(
        session, request, document, lang, identities=identities, signatory=signatory, today=today
    )
