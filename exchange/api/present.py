"""Turn the area's objects into the plain data that the output schemas dump (no ORM object
reaches a schema), deciding nothing: what a user may see is decided by the policy."""

from __future__ import annotations

import json
from typing import Any

from exchange import policy
from exchange.auth.models import User
from exchange.cases.models import Case, CaseMember, CaseReference
from exchange.cases.services import disclosed_of
from exchange.directory.models import Authority
from exchange.mla import lifecycle, queries, services
from exchange.mla.models import Annex, MlaRequest, RequestEvent, RequestPerson
from exchange.mla.notes import ThreadEntry
from exchange.mla.payloads import annex_filename, details_of


def authority(found: Authority) -> dict[str, Any]:
    """Describe an authority of the directory."""
    return {
        "code": found.code,
        "name": found.name,
        "state": found.jurisdiction_code,
        "kind": found.kind,
    }


def member(row: CaseMember) -> dict[str, Any]:
    """Describe a member of a case team."""
    return {"id": row.user.public_id, "name": row.user.display_name, "role": row.role}


def case(found: Case) -> dict[str, Any]:
    """Describe a case for its team."""
    return {
        "id": found.public_id,
        "number": found.number,
        "title": found.title,
        "stage": found.stage,
        "offences": found.offence_list,
        "border_localities": found.locality_list,
        "created_at": found.created_at,
        "team": [member(m) for m in found.members],
    }


def reference(found: CaseReference) -> dict[str, Any]:
    """Describe a case reference."""
    return {
        "id": found.public_id,
        "direction": found.direction,
        "reference": found.reference,
        "counterpart": authority(found.counterpart),
        "state": found.state,
        "case_id": found.case.public_id if found.case is not None else None,
        "linked_reference": found.linked_reference,
        "offence_categories": found.offence_categories,
        "contact_point": found.contact_point,
        "disclosed": disclosed_of(found),
        "created_at": found.created_at,
    }


def reference_etag(found: CaseReference) -> str:
    """Return the entity tag of a case reference as it stands (a link changes its state)."""
    return f'"{found.public_id}-{found.state}"'


def summary(req: MlaRequest) -> dict[str, Any]:
    """Describe a request as the dashboard lists it."""
    return {
        "id": req.public_id,
        "reference": req.reference,
        "foreign_reference": req.foreign_reference,
        "direction": req.side,
        "state": req.state,
        "request_type": req.request_type,
        "counterpart": authority(req.counterpart),
        "urgent": req.urgent,
        "overdue": queries.is_overdue(req),
        "created_at": req.created_at,
        "due_at": req.due_at,
        "version": req.version,
    }


def person(row: RequestPerson, identities: dict[int, dict[str, str]] | None) -> dict[str, Any]:
    """Describe a person concerned; the identity only if ``identities`` is given (the team)."""
    return {
        "id": row.public_id,
        "label": row.label,
        "victim": row.is_victim,
        "minor": row.is_minor,
        "witness": row.is_witness,
        "suspect": row.is_suspect,
        "identity": identities.get(row.id) if identities is not None else None,
    }


def annex(row: Annex) -> dict[str, Any]:
    """Describe an annex."""
    return {
        "sha256": row.sha256,
        "kind": row.kind,
        "filename": annex_filename(row),
        "content_type": row.content_type,
        "size": row.size,
        "created_at": row.created_at,
    }


def request_detail(req: MlaRequest, actor: User) -> dict[str, Any]:
    """Describe a request as its page shows it to ``actor``."""
    identities = services.person_identities(req) if policy.can_see_identities(actor, req) else None
    return {
        **summary(req),
        "case_id": req.case.public_id if req.case is not None and req.side == "outgoing" else None,
        "authority": authority(req.authority),
        "language": req.language,
        "legal_basis": [code for code in req.legal_basis.split(",") if code],
        "urgency_reason": req.urgency_reason,
        "desired_date": req.desired_date,
        "confidential": req.confidential,
        "contents": details_of(req),
        "persons": [person(p, identities) for p in req.persons],
        "annexes": [annex(a) for a in req.annexes],
        "actions": lifecycle.available_actions(req, actor),
        "updated_at": req.updated_at,
    }


def event(row: RequestEvent) -> dict[str, Any]:
    """Describe one move of the timeline, with its particulars as the request's page shows them."""
    return {
        "seq": row.seq,
        "action": row.action,
        "from_state": row.from_state,
        "to_state": row.to_state,
        "at": row.at,
        "actor": row.actor.display_name if row.actor is not None else "",
        "actor_authority": row.actor_authority,
        "particulars": json.loads(row.payload or "{}"),
    }


def thread_entry(entry: ThreadEntry) -> dict[str, Any]:
    """Describe a message of the thread, or a note of the team."""
    return {
        "at": entry.at,
        "where": entry.where,
        "kind": entry.kind,
        "author": entry.author,
        "body": entry.body,
    }
