"""The persons of a case: victims, witnesses, suspects and others, entered once for the case and
chosen into each request that concerns them; with their protection measures as data.

Identities and measures are encrypted at rest, each bound to its row (``person:<public_id>``),
and read only by the case team (``policy.can_view_case``); what a request discloses of a
person is chosen in the request (``exchange.mla.disclosure``). Flush, never commit.
"""

from __future__ import annotations

import json
from typing import Any

from exchange import policy
from exchange.auth.models import User
from exchange.cases.models import Case, CasePerson
from exchange.cases.services import CaseError
from exchange.db import DbSession, utcnow
from exchange.mla import sealing

# The identity of a person, as the wire schema names its parts (mla.request.json "identity").
IDENTITY_FIELDS = (
    "name",
    "aliases",
    "date_of_birth",
    "place_of_birth",
    "nationality",
    "identity_documents",
    "address",
    "language",
)
# The details a request may disclose besides the name (or the pseudonym that stands for it).
DETAIL_FIELDS = IDENTITY_FIELDS[1:]
MAX_IDENTITY_LENGTH = 500
CAPACITIES = ("victim", "minor", "witness", "suspect")

# Protection measures (Palermo Protocol art. 6; UNTOC 24-25): free text, with its length limit.
PROTECTION_TEXT = {
    "pseudonym": 100,  # used instead of the name in documents and messages
    "guardian": 300,  # guardian or support person of a minor (Palermo 6(4))
    "interpreter_language": 60,
    "support_organisation": 200,
}
# Yes/no measures: the address is kept confidential; non-punishment status of a presumed victim
# of trafficking (OHCHR Recommended Principles and Guidelines, principle 7); consent to share
# with a support organisation.
PROTECTION_FLAGS = ("confidential_address", "non_punishment", "support_consent")
# The measures a request may send, each naming the parts of the protection data it carries.
MEASURES: dict[str, tuple[str, ...]] = {
    "pseudonym": ("pseudonym",),
    "confidential_address": ("confidential_address",),
    "no_contact": ("no_contact_with",),
    "guardian": ("guardian",),
    "interpreter": ("interpreter_language",),
    "non_punishment": ("non_punishment",),
    "support": ("support_consent", "support_organisation"),
}
MAX_NO_CONTACT = 20


def identity_context(person: Any) -> str:
    """Return the encryption context of a person's identity (binds it to its row)."""
    return f"person:{person.public_id}"


def protection_context(person: Any) -> str:
    """Return the encryption context of a person's protection measures."""
    return f"person:{person.public_id}:protection"


def identity_of(person: Any) -> dict[str, str]:
    """Return the decrypted identity of a person (of a case, or as received)."""
    if not person.identity_enc:
        return {}
    value: dict[str, str] = json.loads(
        sealing.decrypt_field(person.identity_enc, context=identity_context(person))
    )
    return value


def protection_of(person: Any) -> dict[str, Any]:
    """Return the decrypted protection measures of a person (empty when none are recorded)."""
    if not person.protection_enc:
        return {}
    value: dict[str, Any] = json.loads(
        sealing.decrypt_field(person.protection_enc, context=protection_context(person))
    )
    return value


def _clean_identity(identity: dict[str, Any]) -> dict[str, str]:
    """Trim the identity's parts to their limits; refuse an identity without a name."""
    clean = {k: str(identity.get(k) or "").strip()[:MAX_IDENTITY_LENGTH] for k in IDENTITY_FIELDS}
    if not clean["name"]:
        raise CaseError("missing_name")
    return {k: v for k, v in clean.items() if v}


def _clean_protection(
    case: Case, person: CasePerson | None, data: dict[str, Any]
) -> dict[str, Any]:
    """Check the protection measures: text within limits, no-contact only with the case's
    suspects (never the person themself)."""
    clean: dict[str, Any] = {}
    for key, limit in PROTECTION_TEXT.items():
        text = str(data.get(key) or "").strip()
        if len(text) > limit:
            raise CaseError("too_long")
        if text:
            clean[key] = text
    for key in PROTECTION_FLAGS:
        if data.get(key):
            clean[key] = True
    wanted = [str(p) for p in (data.get("no_contact_with") or [])][:MAX_NO_CONTACT]
    suspects = {
        p.public_id for p in case.persons if p.is_suspect and (person is None or p.id != person.id)
    }
    if not set(wanted) <= suspects:
        raise CaseError("bad_no_contact")
    if wanted:
        clean["no_contact_with"] = sorted(set(wanted))
    return clean


def _store(person: CasePerson, identity: dict[str, str], protection: dict[str, Any]) -> None:
    """Encrypt the identity and measures into the person's row."""
    person.identity_enc = sealing.encrypt_field(
        json.dumps(identity, sort_keys=True, ensure_ascii=False), context=identity_context(person)
    )
    person.protection_enc = sealing.encrypt_field(
        json.dumps(protection, sort_keys=True, ensure_ascii=False),
        context=protection_context(person),
    )


def _set_capacities(person: CasePerson, capacities: set[str]) -> None:
    """Set the person's capacities (victim, minor, witness, suspect; none of them: other)."""
    if not capacities <= set(CAPACITIES):
        raise CaseError("bad_capacity")
    person.is_victim = "victim" in capacities
    person.is_minor = "minor" in capacities
    person.is_witness = "witness" in capacities
    person.is_suspect = "suspect" in capacities


def add_case_person(
    session: DbSession,
    actor: User,
    case: Case,
    *,
    identity: dict[str, Any],
    capacities: set[str],
    protection: dict[str, Any] | None = None,
) -> CasePerson:
    """Add a person to the case's register; identity and measures are stored encrypted."""
    if not policy.can_manage_case(actor, case):
        raise CaseError("forbidden")
    clean_identity = _clean_identity(identity)
    clean_protection = _clean_protection(case, None, protection or {})
    taken = {p.label for p in case.persons}
    number = len(case.persons) + 1
    while f"P{number}" in taken:
        number += 1
    person = CasePerson(label=f"P{number}", identity_enc="", created_by_id=actor.id)
    _set_capacities(person, capacities)
    case.persons.append(person)
    session.flush()  # the public id binds the ciphertext to the row
    _store(person, clean_identity, clean_protection)
    case.updated_at = utcnow()
    session.flush()
    return person


def update_case_person(
    session: DbSession,
    actor: User,
    person: CasePerson,
    *,
    identity: dict[str, Any],
    capacities: set[str],
    protection: dict[str, Any] | None = None,
) -> None:
    """Change a person of the case: identity, capacities and protection measures."""
    case = person.case
    if not policy.can_manage_case(actor, case):
        raise CaseError("forbidden")
    clean_identity = _clean_identity(identity)
    clean_protection = _clean_protection(case, person, protection or {})
    _set_capacities(person, capacities)
    _store(person, clean_identity, clean_protection)
    person.updated_at = utcnow()
    session.flush()


def person_warnings(person: CasePerson) -> list[str]:
    """Return what to check about a person (codes for translated texts); nothing blocks.

    A victim also recorded as a suspect: the non-punishment principle (OHCHR principle 7) may
    apply to offences that follow from being trafficked. A minor without a guardian or support
    person (Palermo Protocol art. 6(4): the special needs of children).
    """
    protection = protection_of(person)
    found = []
    if person.is_victim and person.is_suspect:
        found.append("victim_and_suspect")
    if person.is_victim and not protection.get("non_punishment"):
        found.append("victim_without_non_punishment")
    if person.is_minor and not protection.get("guardian"):
        found.append("minor_without_guardian")
    return found
