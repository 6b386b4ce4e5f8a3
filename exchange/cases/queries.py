"""Reads of cases and case references, always through the policy's scopes."""

from __future__ import annotations

from sqlalchemy import select

from exchange import policy
from exchange.auth.models import User
from exchange.cases.models import Case, CaseReference
from exchange.db import DbSession


def visible_cases(session: DbSession, actor: User) -> list[Case]:
    """Return the cases ``actor`` may see, newest first."""
    return list(
        session.scalars(policy.cases_scope(actor).order_by(Case.created_at.desc(), Case.id.desc()))
    )


def find_case(session: DbSession, actor: User, public_id: str) -> Case | None:
    """Return the case ``public_id`` if ``actor`` may see it."""
    case = session.scalar(select(Case).where(Case.public_id == public_id))
    if case is None or not policy.can_view_case(actor, case):
        return None
    return case


def visible_references(session: DbSession, actor: User) -> list[CaseReference]:
    """Return the case references ``actor`` may see, newest first."""
    return list(
        session.scalars(
            select(CaseReference)
            .where(policy.references_condition(actor))
            .order_by(CaseReference.created_at.desc(), CaseReference.id.desc())
        )
    )


def find_reference(session: DbSession, actor: User, public_id: str) -> CaseReference | None:
    """Return the case reference ``public_id`` if ``actor`` may see it."""
    found = session.scalar(select(CaseReference).where(CaseReference.public_id == public_id))
    if found is None or not policy.can_view_reference(actor, found):
        return None
    return found


def case_references(session: DbSession, case: Case) -> list[CaseReference]:
    """Return the references shared from, or linked to, a case."""
    return list(
        session.scalars(
            select(CaseReference)
            .where(CaseReference.case_id == case.id)
            .order_by(CaseReference.created_at.desc())
        )
    )
