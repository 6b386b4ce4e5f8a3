"""Writes on cases, their teams and case references. Flush, never commit; actor passed in."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from exchange import policy
from exchange.auth.models import User
from exchange.cases.models import DISCLOSABLE, STAGES, Case, CaseMember, CaseReference
from exchange.db import DbSession, utcnow
from exchange.directory.models import Authority
from exchange.exceptions import Refused
from exchange.mla import sealing


class CaseError(Refused):
    """A change of a case was refused; ``code`` names why (for a translated message)."""


def _lines(text: str) -> str:
    """Normalise a one-item-per-line text (trimmed, no blank lines)."""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())[:4000]


def create_case(
    session: DbSession,
    actor: User,
    *,
    number: str,
    title: str,
    offences: str,
    stage: str,
    border_localities: str,
) -> Case:
    """Open a case of the actor's authority; the creator joins its team."""
    if not actor.can("cases.manage"):
        raise CaseError("forbidden")
    number, title = number.strip(), title.strip()
    if not number or not title:
        raise CaseError("missing")
    if stage not in STAGES:
        raise CaseError("bad_stage")
    exists = session.scalar(
        select(Case.id).where(Case.authority_id == actor.authority_id, Case.number == number)
    )
    if exists is not None:
        raise CaseError("duplicate_number")
    case = Case(
        authority_id=actor.authority_id,
        number=number[:60],
        title=title[:300],
        offences=_lines(offences),
        stage=stage,
        border_localities=_lines(border_localities),
        created_by_id=actor.id,
    )
    case.members.append(CaseMember(user_id=actor.id, role="prosecutor"))
    session.add(case)
    session.flush()
    return case


def update_case(
    session: DbSession,
    actor: User,
    case: Case,
    *,
    title: str,
    offences: str,
    stage: str,
    border_localities: str,
) -> None:
    """Change a case's title, offences, stage and border localities."""
    if not policy.can_manage_case(actor, case):
        raise CaseError("forbidden")
    if stage not in STAGES or not title.strip():
        raise CaseError("missing")
    case.title = title.strip()[:300]
    case.offences = _lines(offences)
    case.stage = stage
    case.border_localities = _lines(border_localities)
    session.flush()


def add_member(session: DbSession, actor: User, case: Case, user: User) -> CaseMember:
    """Assign a prosecutor or investigator of the same authority to the case."""
    if not policy.can_manage_case(actor, case):
        raise CaseError("forbidden")
    if user.authority_id != case.authority_id or not user.active:
        raise CaseError("other_authority")
    if "prosecutor" in user.roles:
        role = "prosecutor"
    elif "investigator" in user.roles:
        role = "investigator"
    else:
        raise CaseError("bad_role")
    for member in case.members:
        if member.user_id == user.id:
            return member
    member = CaseMember(user_id=user.id, role=role)
    case.members.append(member)
    session.flush()
    return member


def remove_member(session: DbSession, actor: User, case: Case, user_id: int) -> None:
    """Take someone off the case team (the creator stays)."""
    if not policy.can_manage_case(actor, case):
        raise CaseError("forbidden")
    if user_id == case.created_by_id:
        raise CaseError("creator_stays")
    case.members[:] = [m for m in case.members if m.user_id != user_id]
    session.flush()


# --- case references -----------------------------------------------------------------------------


def disclosed_of(reference: CaseReference) -> dict[str, Any]:
    """Return what a case reference discloses, decrypted."""
    if not reference.disclosed_enc:
        return {}
    value: dict[str, Any] = json.loads(
        sealing.decrypt_field(reference.disclosed_enc, context=f"reference:{reference.public_id}")
    )
    return value


def _set_disclosed(reference: CaseReference, disclosed: dict[str, Any]) -> None:
    """Store what a case reference discloses, encrypted."""
    reference.disclosed_enc = sealing.encrypt_field(
        json.dumps(disclosed, sort_keys=True, ensure_ascii=False),
        context=f"reference:{reference.public_id}",
    )


def share_reference(
    session: DbSession,
    actor: User,
    case: Case,
    *,
    counterpart: Authority,
    disclose: set[str],
    contact_point: str,
    offence_categories: str,
) -> CaseReference:
    """Share a reference of ``case`` with a foreign authority, disclosing only what is chosen."""
    if not policy.can_share_case(actor, case):
        raise CaseError("forbidden")
    if counterpart.jurisdiction_code == actor.authority.jurisdiction_code:
        raise CaseError("same_state")
    if not disclose <= set(DISCLOSABLE):
        raise CaseError("bad_disclosure")
    if not contact_point.strip():
        raise CaseError("missing")
    values = {
        "title": case.title,
        "offences": case.offence_list,
        "stage": case.stage,
        "border_localities": case.locality_list,
    }
    disclosed = {k: values[k] for k in DISCLOSABLE if k in disclose}
    reference = CaseReference(
        authority_id=actor.authority_id,
        direction="outgoing",
        case_id=case.id,
        counterpart_id=counterpart.id,
        counterpart=counterpart,
        reference=case.number,
        offence_categories=offence_categories.strip()[:300],
        contact_point=contact_point.strip()[:300],
        state="shared",
        created_by_id=actor.id,
    )
    session.add(reference)
    session.flush()
    _set_disclosed(reference, disclosed)
    queued = sealing.queue_message(
        session,
        sender=actor.authority.code,
        recipient=counterpart.code,
        msg_type="case.reference",
        payload={
            "v": 1,
            "action": "share",
            "conversation": reference.conversation_id,
            "reference": reference.reference,
            "offence_categories": reference.offence_categories,
            "contact_point": reference.contact_point,
            "disclosed": disclosed,
        },
        conversation=reference.conversation_id,
        in_reply_to=None,
        msg_id=reference.conversation_id,  # the first message of the conversation
    )
    del queued
    session.flush()
    return reference


def link_reference(session: DbSession, actor: User, reference: CaseReference, case: Case) -> None:
    """Accept an incoming case reference and link it to a local case; tell the sender."""
    if reference.direction != "incoming" or not policy.can_view_reference(actor, reference):
        raise CaseError("forbidden")
    if not policy.can_view_case(actor, case):
        raise CaseError("forbidden")
    if reference.state == "linked":
        raise CaseError("already_linked")
    reference.case_id = case.id
    reference.state = "linked"
    reference.linked_reference = case.number
    reference.linked_at = utcnow()
    session.flush()
    sealing.queue_message(
        session,
        sender=actor.authority.code,
        recipient=reference.counterpart.code,
        msg_type="case.reference",
        payload={
            "v": 1,
            "action": "link",
            "conversation": reference.conversation_id,
            "reference": reference.reference,
            "linked_reference": case.number,
        },
        conversation=reference.conversation_id,
        in_reply_to=reference.conversation_id,
    )


def receive_case_reference(
    session: DbSession, addressed: Authority, origin: Authority, payload: dict[str, Any]
) -> CaseReference:
    """Apply an incoming ``case.reference`` message: a new share, or the other side's link."""
    conversation = str(payload["conversation"])
    existing = session.scalar(
        select(CaseReference).where(
            CaseReference.conversation_id == conversation,
            CaseReference.authority_id == addressed.id,
        )
    )
    if payload["action"] == "link":
        if existing is None or existing.direction != "outgoing":
            raise CaseError("unknown_reference")
        existing.state = "linked"
        existing.linked_reference = str(payload["linked_reference"])[:80]
        existing.linked_at = utcnow()
        session.flush()
        return existing
    if existing is not None:
        return existing  # processed once
    reference = CaseReference(
        conversation_id=conversation,
        authority_id=addressed.id,
        direction="incoming",
        counterpart_id=origin.id,
        counterpart=origin,
        reference=str(payload["reference"])[:80],
        offence_categories=str(payload.get("offence_categories", ""))[:300],
        contact_point=str(payload.get("contact_point", ""))[:300],
        state="received",
    )
    session.add(reference)
    session.flush()
    _set_disclosed(reference, dict(payload.get("disclosed", {})))
    session.flush()
    return reference


def team_candidates(session: DbSession, case: Case) -> list[User]:
    """Return the prosecutors and investigators of the case's authority not yet on its team."""
    on_team = {m.user_id for m in case.members}
    users = session.scalars(
        select(User)
        .where(User.authority_id == case.authority_id, User.active.is_(True))
        .order_by(User.display_name)
    ).all()
    return [u for u in users if u.id not in on_team and u.roles & {"prosecutor", "investigator"}]
