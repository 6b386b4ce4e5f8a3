"""Drafting a request: the directory's suggestions, the draft's basics, contents and persons.

Plain functions over the session with the actor passed in; they check everything before they
change anything, flush, never commit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from exchange import policy
from exchange.auth.models import User
from exchange.cases import persons as register
from exchange.cases.models import Case
from exchange.cases.persons import IDENTITY_FIELDS as IDENTITY_FIELDS
from exchange.cases.persons import identity_of
from exchange.db import DbSession, utcnow
from exchange.directory import languages
from exchange.directory import queries as directory
from exchange.directory.models import LANGUAGES, Authority
from exchange.exceptions import Refused
from exchange.mla import disclosure, lifecycle, sealing
from exchange.mla.definitions import FieldDef, get_type, request_types, suggested_bases
from exchange.mla.errors import MlaError, StaleDraft
from exchange.mla.models import OUTGOING, MlaRequest, RequestPerson
from exchange.mla.payloads import details_context, details_of

# The kind of authority that reviews and transmits a state's requests (UNTOC 18(13)).
CENTRAL_AUTHORITY = "central_authority"


# --- suggestions from the directory ------------------------------------------------------------


@dataclass(frozen=True)
class Suggestions:
    """What the directory suggests for a request from one state to another for a measure."""

    authorities: list[Authority]
    language: str
    languages: list[str]
    legal_basis: list[str]
    # Every instrument of the directory, weighed for this pair and measure: why each is, or is
    # not, the basis offered (shown beside the legal basis).
    considered: list[directory.Considered]

    @property
    def choosable(self) -> list[str]:
        """Return the instruments that may be chosen as the basis for this measure."""
        return [c.instrument.code for c in self.considered if c.offered]


def accepted_languages(
    session: DbSession, requesting_state: str, requested_state: str
) -> list[str]:
    """Return the languages the requested state accepts, preferred first (the directory's rule)."""
    return languages.accepted_languages(session, requesting_state, requested_state).languages


def suggest(
    session: DbSession, requesting_state: str, requested_state: str, measure: str
) -> Suggestions:
    """Suggest the requested authority, the language and the legal basis for a new request."""
    languages = accepted_languages(session, requesting_state, requested_state)
    considered = considered_bases(session, requesting_state, requested_state, measure)
    suggested = [c.instrument.code for c in considered if c.suggested]
    definition = get_type(measure)
    return Suggestions(
        authorities=directory.competent_authorities(session, requested_state, measure),
        language=languages[0] if languages else "en",
        languages=languages,
        legal_basis=suggested_bases(definition, suggested) if definition else suggested,
        considered=considered,
    )


def considered_bases(
    session: DbSession, requesting_state: str, requested_state: str, measure: str
) -> list[directory.Considered]:
    """Weigh the directory's instruments for a request of type ``measure`` between two states.

    An instrument rests a request only if both states are bound by it and it provides for the
    measure (finding the basis per measure: the MLA conventions are no basis for repatriating a
    victim, Palermo Protocol art. 8 is). The instruments a type names in ``bases`` (extradition:
    A/P.1/8/94) are offered to no other type.
    """
    definition = get_type(measure)
    reserved = {code for t in request_types().values() for code in t.bases}
    if definition is not None:
        reserved -= set(definition.bases)
    return directory.instruments_considered(
        session, requesting_state, requested_state, measure, reserved=reserved
    )


def reviewing_authority_for(session: DbSession, authority: Authority) -> Authority:
    """Return the central authority that reviews and transmits requests of ``authority``'s state.

    Never the requesting office itself (UNTOC 18(13): requests go through the central authority):
    a state without one in the directory cannot send requests until a node administrator adds it.
    """
    if authority.kind == CENTRAL_AUTHORITY:
        return authority
    central = session.scalar(
        select(Authority)
        .where(
            Authority.jurisdiction_code == authority.jurisdiction_code,
            Authority.kind == CENTRAL_AUTHORITY,
        )
        .order_by(Authority.hosted.desc(), Authority.code)
    )
    if central is None:
        raise MlaError("no_central_authority")
    return central


def check_reviewer(request: MlaRequest) -> None:
    """Refuse a request whose reviewing authority is no longer its state's central authority."""
    reviewer = request.reviewing_authority
    if reviewer is None or reviewer.kind != CENTRAL_AUTHORITY:
        raise MlaError("no_central_authority")


# --- the draft ----------------------------------------------------------------------------------


def create_request(
    session: DbSession,
    actor: User,
    case: Case,
    *,
    request_type: str,
    counterpart: Authority,
) -> MlaRequest:
    """Open a draft request of ``case`` to ``counterpart``, with the directory's defaults."""
    if not policy.can_view_case(actor, case) or not actor.can("requests.draft"):
        raise MlaError("forbidden")
    definition = get_type(request_type)
    if definition is None:
        raise MlaError("unknown_type")
    if counterpart.jurisdiction_code == actor.authority.jurisdiction_code:
        raise MlaError("same_state")
    hints = suggest(
        session, actor.authority.jurisdiction_code, counterpart.jurisdiction_code, request_type
    )
    request = MlaRequest(
        side=OUTGOING,
        authority_id=actor.authority_id,
        authority=actor.authority,
        reviewing_authority=reviewing_authority_for(session, actor.authority),
        counterpart=counterpart,
        counterpart_state=counterpart.jurisdiction_code,
        case=case,
        request_type=request_type,
        state="",
        language=hints.language,
        legal_basis=",".join(hints.legal_basis),
        confidential=True,
        created_by_id=actor.id,
        details_enc="",
    )
    session.add(request)
    session.flush()
    request.reference = f"{actor.authority.code}/{utcnow().year}/{request.id:06d}"
    request.details_enc = sealing.encrypt_field("{}", context=details_context(request))
    lifecycle.transition(session, request, "create", actor=actor)
    return request


def require_editable(actor: User, request: MlaRequest) -> None:
    """Refuse an edit by someone not on the case team, or of a request that is no draft."""
    if not policy.can_edit_draft(actor, request):
        raise MlaError("forbidden")


def _save_unless_stale(
    request: MlaRequest, expected_version: int | None, current: Any, wanted: Any
) -> bool:
    """Tell whether to save ``wanted``; refuse an edit based on an old version of the draft.

    An edit made from an older version is a conflict (someone saved in between), unless the draft
    already holds exactly what the editor sends: a double click on "Save" answers as the first.
    """
    if expected_version is None or expected_version == request.version:
        return True
    if current == wanted:
        return False
    raise StaleDraft()


def update_basics(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    *,
    expected_version: int | None,
    counterpart: Authority,
    language: str,
    legal_basis: list[str],
    urgent: bool,
    urgency_reason: str,
    desired_date: date | None,
    confidential: bool,
) -> None:
    """Change the requested authority, language, legal basis, urgency and confidentiality."""
    require_editable(actor, request)
    if counterpart.jurisdiction_code == actor.authority.jurisdiction_code:
        raise MlaError("same_state")
    if language not in LANGUAGES:
        raise MlaError("bad_language")
    known = {
        c.instrument.code
        for c in considered_bases(
            session,
            actor.authority.jurisdiction_code,
            counterpart.jurisdiction_code,
            request.request_type,
        )
        if c.offered
    }
    if not set(legal_basis) <= known:
        raise MlaError("bad_legal_basis")
    basics = (
        counterpart.id,
        language,
        ",".join(legal_basis),
        urgent,
        urgency_reason.strip()[:4000],
        desired_date,
        confidential,
    )
    stored = (
        request.counterpart_id,
        request.language,
        request.legal_basis,
        request.urgent,
        request.urgency_reason,
        request.desired_date,
        request.confidential,
    )
    if not _save_unless_stale(request, expected_version, stored, basics):
        return
    request.counterpart = counterpart
    request.counterpart_state = counterpart.jurisdiction_code
    request.language = language
    request.legal_basis = ",".join(legal_basis)
    request.urgent = urgent
    request.urgency_reason = urgency_reason.strip()[:4000]
    request.desired_date = desired_date
    request.confidential = confidential
    session.flush()


def _clean_value(field: FieldDef, value: Any) -> Any:
    """Normalise a submitted value for ``field`` (text trimmed, dates as ISO, booleans)."""
    if field.kind == "bool":
        return bool(value)
    if field.kind == "choice":
        if value in (None, ""):
            return ""
        if value not in {o.value for o in field.options}:
            raise MlaError("bad_choice", field.name)
        return str(value)
    if field.kind == "date":
        if value in (None, ""):
            return ""
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise MlaError("bad_date", field.name) from exc
    text = "" if value is None else str(value).strip()
    if len(text) > field.max_length:
        raise MlaError("too_long", field.name)
    return text


def update_contents(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    *,
    expected_version: int | None,
    values: dict[str, Any],
) -> None:
    """Save some of the request's contents (only fields its type defines; others are refused)."""
    require_editable(actor, request)
    definition = get_type(request.request_type)
    assert definition is not None  # noqa: S101 - the type was checked at creation
    fields = {f.name: f for f in definition.all_fields}
    unknown = set(values) - set(fields)
    if unknown:
        raise MlaError("unknown_field", ", ".join(sorted(unknown)))
    details = details_of(request)
    clean = {name: _clean_value(fields[name], value) for name, value in values.items()}
    if not _save_unless_stale(
        request, expected_version, {name: details.get(name) for name in clean}, clean
    ):
        return
    details.update(clean)
    request.details_enc = sealing.encrypt_field(
        json.dumps(details, sort_keys=True, ensure_ascii=False), context=details_context(request)
    )
    request.updated_at = utcnow()  # the row changes: the version moves on
    session.flush()


def add_person(
    session: DbSession,
    actor: User,
    request: MlaRequest,
    *,
    identity: dict[str, str],
    victim: bool = False,
    minor: bool = False,
    witness: bool = False,
    suspect: bool = False,
) -> RequestPerson:
    """Add a person to the request's case and choose them into the request, identity and every
    detail disclosed (UNTOC 18(15)(e)); the identity is stored encrypted, with the case."""
    require_editable(actor, request)
    if request.case is None:
        raise MlaError("not_found")
    capacities = {
        name
        for name, held in (
            ("victim", victim),
            ("minor", minor),
            ("witness", witness),
            ("suspect", suspect),
        )
        if held
    }
    try:
        person = register.add_case_person(
            session, actor, request.case, identity=identity, capacities=capacities
        )
    except Refused as exc:
        raise MlaError("missing_name" if exc.code == "missing_name" else "forbidden") from exc
    return disclosure.choose_person(session, actor, request, person, details=register.DETAIL_FIELDS)


def remove_person(
    session: DbSession, actor: User, request: MlaRequest, person: RequestPerson
) -> None:
    """Remove a person concerned from a draft."""
    require_editable(actor, request)
    if person.request_id != request.id:
        raise MlaError("not_found")
    request.persons.remove(person)
    request.updated_at = utcnow()
    session.flush()


def person_identities(request: MlaRequest) -> dict[int, dict[str, str]]:
    """Return the full identities of a request's persons, by person id (for the case team)."""
    return {p.id: identity_of(p.case_person or p) for p in request.persons}
