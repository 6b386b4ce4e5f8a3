"""What a request discloses of each person of its case, and the review of what is sent.

A person is entered once in the case's register (``exchange.cases.persons``) and chosen into
each request that concerns them, with what that request discloses: the identity, or the
pseudonym only (Palermo Protocol art. 6(1)); which further details; which protection measures.
``disclosed_persons`` builds exactly the ``persons`` of the ``mla.request`` payload: the
reviewing officer's page, the confirmation before approval and the envelope all read it.

Each time the reviewing officer is shown the identities a request discloses, the view is
recorded on the request's timeline (who, when). Plain functions over the session; flush only.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from exchange import policy
from exchange.auth.models import User
from exchange.cases import persons as register
from exchange.cases.models import CasePerson
from exchange.db import DbSession, utcnow
from exchange.mla.errors import MlaError
from exchange.mla.models import MlaRequest, RequestEvent, RequestPerson
from exchange.mla.states import EDITABLE_STATES, VIEW_DISCLOSURE

DISCLOSURES = ("identity", "pseudonym")


def _names(csv: str) -> list[str]:
    """Return the names of a comma-separated column."""
    return [name for name in csv.split(",") if name]


def _next_label(request: MlaRequest) -> str:
    """Return the first free neutral label of the request (P1, P2...)."""
    taken = {p.label for p in request.persons}
    number = 1
    while f"P{number}" in taken:
        number += 1
    return f"P{number}"


def _copy_capacities(target: RequestPerson, source: CasePerson) -> None:
    """Give the request's person the capacities recorded in the case."""
    target.is_victim = source.is_victim
    target.is_minor = source.is_minor
    target.is_witness = source.is_witness
    target.is_suspect = source.is_suspect


def choose_person(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    person: CasePerson,
    *,
    disclosure: str = "identity",
    details: list[str] | tuple[str, ...] = (),
    measures: list[str] | tuple[str, ...] = (),
) -> RequestPerson:
    """Choose a person of the request's case into the request, with what it discloses.

    Choosing a person already chosen changes what the request discloses of them.
    """
    if not policy.can_edit_draft(actor, request):
        raise MlaError("forbidden")
    if request.case_id is None or person.case_id != request.case_id:
        raise MlaError("not_found")
    if disclosure not in DISCLOSURES:
        raise MlaError("bad_disclosure")
    if not set(details) <= set(register.DETAIL_FIELDS) or not set(measures) <= set(
        register.MEASURES
    ):
        raise MlaError("bad_disclosure")
    if disclosure == "pseudonym" and not register.protection_of(person).get("pseudonym"):
        raise MlaError("no_pseudonym")
    chosen = next((p for p in request.persons if p.case_person_id == person.id), None)
    if chosen is None:
        chosen = RequestPerson(label=_next_label(request), case_person=person, identity_enc="")
        request.persons.append(chosen)
    _copy_capacities(chosen, person)
    chosen.disclosure = disclosure
    chosen.disclosed_details = ",".join(d for d in register.DETAIL_FIELDS if d in details)
    chosen.disclosed_measures = ",".join(m for m in register.MEASURES if m in measures)
    request.updated_at = utcnow()
    session.flush()
    return chosen


def sync_capacities(session: DbSession, person: CasePerson) -> None:
    """Carry a case person's changed capacities into the requests not yet sent that name them."""
    pending = (*EDITABLE_STATES, "in_review", "approved")
    chosen = session.scalars(
        select(RequestPerson)
        .join(MlaRequest, MlaRequest.id == RequestPerson.request_id)
        .where(RequestPerson.case_person_id == person.id, MlaRequest.state.in_(pending))
    )
    for entry in chosen:
        _copy_capacities(entry, person)
    session.flush()


def _measures_sent(
    entry: RequestPerson, protection: dict[str, Any], labels: dict[str, str]
) -> dict[str, Any]:
    """Return the protection measures the request sends for a chosen person.

    A no-contact measure names the suspects by their labels in this request; a suspect the
    request does not name is not revealed by it.
    """
    sent: dict[str, Any] = {}
    for measure in _names(entry.disclosed_measures):
        for part in register.MEASURES.get(measure, ()):
            value = protection.get(part)
            if part == "no_contact_with":
                named = sorted(labels[p] for p in value or [] if p in labels)
                if named:
                    sent[part] = named
            elif value:
                sent[part] = value
    return sent


def _entry(entry: RequestPerson, labels: dict[str, str]) -> dict[str, Any]:
    """Return one person as the request's payload carries them."""
    source: Any = entry.case_person if entry.case_person is not None else entry
    capacities = {
        "label": entry.label,
        "victim": source.is_victim,
        "minor": source.is_minor,
        "witness": source.is_witness,
        "suspect": source.is_suspect,
    }
    identity = register.identity_of(source)
    protection = register.protection_of(source)
    if entry.case_person is None:  # a received person: kept as it came
        shown: dict[str, Any] = {**capacities, "identity": identity}
        if entry.disclosure == "pseudonym":
            shown["disclosure"] = "pseudonym"
        if protection:
            shown["protection"] = protection
        return shown
    name = protection.get("pseudonym") if entry.disclosure == "pseudonym" else identity.get("name")
    disclosed = {"name": name or entry.label}
    for detail in _names(entry.disclosed_details):
        if identity.get(detail):
            disclosed[detail] = identity[detail]
    shown = {**capacities, "identity": disclosed}
    # Added only when used, so that a payload without them stays as version 1 first defined it.
    if entry.disclosure == "pseudonym":
        shown["disclosure"] = "pseudonym"
    sent = _measures_sent(entry, protection, labels)
    if sent:
        shown["protection"] = sent
    return shown


def disclosed_persons(request: MlaRequest) -> list[dict[str, Any]]:
    """Return the persons exactly as the request's payload carries them (in label order)."""
    labels = {p.case_person.public_id: p.label for p in request.persons if p.case_person}
    return [_entry(p, labels) for p in request.persons]


def disclosure_digest(request: MlaRequest) -> str:
    """Return a digest of what the request discloses, so that an approval given on a page
    refuses to send anything other than what that page showed."""
    canonical = json.dumps(disclosed_persons(request), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_digest(request: MlaRequest, expected: str | None) -> None:
    """Refuse an approval made from a page that showed other persons than will be sent."""
    if expected is not None and expected != disclosure_digest(request):
        raise MlaError("disclosure_changed")


def record_view(session: DbSession, actor: User, request: MlaRequest) -> RequestEvent:
    """Record on the timeline that ``actor`` was shown the identities the request discloses.

    A view is no move: the state and the request's version stay as they are, so a view never
    makes another officer's move a conflict. Two views at once cannot take the same place in
    the timeline: the second takes the next one.
    """
    labels = ", ".join(p.label for p in request.persons)
    for _attempt in range(3):
        seq = max((e.seq for e in request.events), default=0) + 1
        event = RequestEvent(
            seq=seq,
            action=VIEW_DISCLOSURE,
            from_state=request.state,
            to_state=request.state,
            actor_id=actor.id,
            actor_authority=actor.authority.code,
            at=utcnow(),
            payload=json.dumps({"persons": labels}, ensure_ascii=False),
        )
        try:
            with session.begin_nested():
                session.add(event)
                event.request_id = request.id
                session.flush()
        except IntegrityError:
            session.expire(request, ["events"])
            continue
        session.expire(request, ["events"])
        return event
    raise MlaError("busy")
