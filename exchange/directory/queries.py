"""Reads of the directory: states, instruments between two states, who is competent for what."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from exchange.db import DbSession
from exchange.directory.models import (
    APPLIES_ALL,
    APPLIES_ECOWAS,
    APPLIES_PARTIES,
    ECOWAS_MEMBER,
    Authority,
    AuthorityChange,
    Competence,
    Instrument,
    Jurisdiction,
)

ANY_MEASURE = "*"


def jurisdictions(session: DbSession) -> Sequence[Jurisdiction]:
    """Return every jurisdiction, ordered by code."""
    return session.scalars(select(Jurisdiction).order_by(Jurisdiction.code)).all()


def jurisdiction(session: DbSession, code: str) -> Jurisdiction | None:
    """Return the jurisdiction with ISO code ``code``."""
    return session.get(Jurisdiction, code.upper()[:2])


def authority_by_code(session: DbSession, code: str) -> Authority | None:
    """Return the authority with this code."""
    return session.scalar(select(Authority).where(Authority.code == code.upper()))


def authorities(
    session: DbSession, *, jurisdiction_code: str | None = None, hosted: bool | None = None
) -> Sequence[Authority]:
    """Return authorities, optionally of one state or only hosted (or only foreign) ones."""
    query = select(Authority).order_by(Authority.jurisdiction_code, Authority.code)
    if jurisdiction_code:
        query = query.where(Authority.jurisdiction_code == jurisdiction_code)
    if hosted is not None:
        query = query.where(Authority.hosted.is_(hosted))
    return session.scalars(query).all()


def instruments_between(session: DbSession, first: str, second: str) -> list[Instrument]:
    """Return the instruments in force between two states, the one to cite first leading.

    ECOWAS A/P.1/7/92 applies where both states are ECOWAS members; UNTOC art. 18 always (all are
    parties); bilateral treaties where both are listed parties.
    """
    states = {
        j.code: j
        for j in session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_([first, second])))
    }
    if first not in states or second not in states:
        return []
    both_members = all(states[c].status == ECOWAS_MEMBER for c in (first, second))
    found = []
    for instrument in session.scalars(select(Instrument)):
        if instrument.applies == APPLIES_ALL or (
            instrument.applies == APPLIES_ECOWAS and both_members
        ):
            found.append(instrument)
        elif instrument.applies == APPLIES_PARTIES:
            parties = {p.jurisdiction_code for p in instrument.parties}
            if {first, second} <= parties:
                found.append(instrument)
    return sorted(found, key=lambda i: (i.precedence, i.code))


def competent_authorities(session: DbSession, state: str, measure: str) -> list[Authority]:
    """Return who is competent in ``state`` for ``measure``, falling back to the central authority.

    Authorities with a rule naming the measure come first; then those competent for every measure
    (``*``); if no rule matches at all, the state's central authorities.
    """
    rows = session.execute(
        select(Authority, Competence.measure)
        .join(Competence, Competence.authority_id == Authority.id)
        .where(
            Authority.jurisdiction_code == state,
            Competence.measure.in_([measure, ANY_MEASURE]),
        )
        .order_by(Authority.code)
    ).all()
    specific = [a for a, m in rows if m == measure]
    general = [a for a, m in rows if m == ANY_MEASURE and a not in specific]
    if specific or general:
        return specific + general
    return list(
        session.scalars(
            select(Authority)
            .where(Authority.jurisdiction_code == state, Authority.kind == "central_authority")
            .order_by(Authority.code)
        )
    )


def authority_changes(session: DbSession, authority: Authority) -> list[AuthorityChange]:
    """Return the recorded changes of an authority's entry, newest first."""
    return list(
        session.scalars(
            select(AuthorityChange)
            .where(AuthorityChange.authority_id == authority.id)
            .order_by(AuthorityChange.changed_at.desc(), AuthorityChange.id.desc())
        )
    )
