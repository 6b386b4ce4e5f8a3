"""Reads of the directory: states, instruments between two states, who is competent for what."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from exchange.db import DbSession
from exchange.directory.models import (
    AES_FORMER_MEMBER,
    APPLIES_ECOWAS,
    APPLIES_PARTIES,
    ECOWAS_MEMBER,
    INSTRUMENT_TREATY,
    Authority,
    AuthorityChange,
    Competence,
    Instrument,
    InstrumentChange,
    Jurisdiction,
    NationalLaw,
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


def instruments(session: DbSession) -> Sequence[Instrument]:
    """Return every instrument, in the order a legal basis cites them."""
    return session.scalars(
        select(Instrument).order_by(Instrument.precedence, Instrument.code)
    ).all()


def instrument_by_code(session: DbSession, code: str) -> Instrument | None:
    """Return the instrument with this code."""
    return session.scalar(select(Instrument).where(Instrument.code == code))


# Why an instrument is, or is not, the basis offered for a request between two states.
IN_FORCE = "in_force"  # both states are bound and it covers the measure: suggested
BY_HAND = "by_hand"  # in force and covers the measure, but only chosen by hand (reciprocity...)
NOT_FOR_MEASURE = "not_for_measure"  # in force, but it does not provide for this measure
LEFT_ECOWAS = "left_ecowas"  # a Community instrument, and a state left the Community
NOT_ECOWAS = "not_ecowas"  # a Community instrument, and a state was never a member
NOT_PARTY = "not_party"  # a state is not among its listed parties (or its ratification is unknown)


@dataclass(frozen=True)
class Considered:
    """One instrument of the directory, weighed for a request from one state to another."""

    instrument: Instrument
    reason: str
    # The states the reason is about (who left ECOWAS, who is not a party), by code.
    states: tuple[str, ...] = ()
    # Listed parties whose ratification is still to be verified, among the two states.
    unverified: tuple[str, ...] = ()

    @property
    def in_force(self) -> bool:
        """Tell whether both states are bound by the instrument."""
        return self.reason in (IN_FORCE, BY_HAND, NOT_FOR_MEASURE)

    @property
    def offered(self) -> bool:
        """Tell whether the instrument can be chosen as the basis for this measure."""
        return self.reason in (IN_FORCE, BY_HAND)

    @property
    def suggested(self) -> bool:
        """Tell whether the instrument is suggested as the basis of a new request."""
        return self.reason == IN_FORCE


def _bound(
    instrument: Instrument, states: dict[str, Jurisdiction], pair: tuple[str, str]
) -> tuple[str, tuple[str, ...]]:
    """Return whether the two states are bound by ``instrument`` ("" if so) and who is not."""
    if instrument.applies == APPLIES_ECOWAS:
        outside = tuple(c for c in pair if states[c].status != ECOWAS_MEMBER)
        if outside:
            left = tuple(c for c in outside if states[c].status == AES_FORMER_MEMBER)
            return (LEFT_ECOWAS, left) if left else (NOT_ECOWAS, outside)
    if instrument.applies in (APPLIES_ECOWAS, APPLIES_PARTIES):
        # A Community instrument with listed parties binds only those who ratified it.
        parties = instrument.party_codes()
        if instrument.applies == APPLIES_PARTIES or parties:
            missing = tuple(c for c in pair if c not in parties)
            if missing:
                return NOT_PARTY, missing
    return "", ()


def instruments_considered(
    session: DbSession,
    first: str,
    second: str,
    measure: str | None = None,
    *,
    reserved: Collection[str] = (),
) -> list[Considered]:
    """Weigh every instrument of the directory for a request from ``first`` to ``second``.

    ``measure``: the request type (``None``: any). ``reserved``: instruments that only the types
    naming them may rest on (the extradition convention), not offered for any other measure.
    The instruments in force come first, in the order a legal basis cites them.
    """
    states = {
        j.code: j
        for j in session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_([first, second])))
    }
    if first not in states or second not in states:
        return []
    found = []
    for instrument in instruments(session):
        reason, concerned = _bound(instrument, states, (first, second))
        doubtful = {p.jurisdiction_code for p in instrument.parties if p.unverified}
        unverified = tuple(c for c in (first, second) if c in doubtful)
        if not reason:
            covers = measure is None or (
                instrument.covers(measure) and instrument.code not in reserved
            )
            if not covers:
                reason = NOT_FOR_MEASURE
            elif instrument.suggested and not instrument.unverified:
                reason = IN_FORCE
            else:
                reason = BY_HAND
        found.append(Considered(instrument, reason, concerned, unverified))
    return sorted(found, key=lambda c: (not c.in_force, not c.offered))


def instruments_between(session: DbSession, first: str, second: str) -> list[Instrument]:
    """Return the instruments in force between two states, the one to cite first leading.

    ECOWAS A/P.1/7/92 applies where both states are ECOWAS members and (where its parties are
    listed) both have ratified it; UNTOC art. 18 always (all are parties); bilateral treaties
    where both are listed parties; reciprocity between any two.
    """
    return [c.instrument for c in instruments_considered(session, first, second) if c.in_force]


def needs_untoc_scope(session: DbSession, legal_basis: Collection[str]) -> bool:
    """Tell whether a request on ``legal_basis`` must show that UNTOC's scope is met.

    UNTOC (arts. 3, 18(1)) and its Protocols (Palermo Protocol art. 4) apply only to offences
    that are transnational and involve an organised criminal group (art. 2(a)). Where no other
    treaty is cited, the request must show both, or it may be refused (18(21)(a)).
    """
    cited = [i for i in instruments(session) if i.code in set(legal_basis)]
    scoped = [i for i in cited if i.untoc_scope]
    other_treaties = [i for i in cited if i.kind == INSTRUMENT_TREATY and not i.untoc_scope]
    return bool(scoped) and not other_treaties


def national_laws(session: DbSession, jurisdiction_code: str) -> list[NationalLaw]:
    """Return a state's national laws of the directory (trafficking in persons)."""
    return list(
        session.scalars(
            select(NationalLaw)
            .where(NationalLaw.jurisdiction_code == jurisdiction_code)
            .order_by(NationalLaw.code)
        )
    )


def instrument_changes(session: DbSession, instrument: Instrument) -> list[InstrumentChange]:
    """Return the recorded changes of an instrument's entry, newest first."""
    return list(
        session.scalars(
            select(InstrumentChange)
            .where(InstrumentChange.instrument_id == instrument.id)
            .order_by(InstrumentChange.changed_at.desc(), InstrumentChange.id.desc())
        )
    )


def competent_authorities(session: DbSession, state: str, measure: str) -> list[Authority]:
    """Return who is competent in ``state`` for ``measure``, falling back to the central authority.

    Authorities with a rule naming the measure come first (consular posts after the others); then
    those competent for every measure (``*``); if no rule matches at all, the state's central
    authorities.
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
    # A consular post helps its nationals (repatriation), after the state's competent body.
    specific = sorted((a for a, m in rows if m == measure), key=lambda a: a.kind == "consular_post")
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
