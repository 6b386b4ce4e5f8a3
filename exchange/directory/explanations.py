"""Why an instrument is, or is not, offered as a request's legal basis: in the reader's language.

Shown beside the legal basis of a draft, so that the drafting prosecutor and the reviewing officer
see on what the suggestion rests: which instruments both states are party to, why the ECOWAS
Convention is not offered for a state that left the Community, what an instrument does not
provide for, and what is still to be verified.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from exchange.db import DbSession
from exchange.directory import queries
from exchange.directory.models import INSTRUMENT_RECIPROCITY


@dataclass(frozen=True)
class Explanation:
    """One instrument, the reason in words, and whether it is suggested or may be chosen."""

    code: str
    citation: str
    title: str
    text: str
    offered: bool
    suggested: bool


def _names(session: DbSession, codes: tuple[str, ...], locale: str) -> str:
    """Return the states' names in ``locale``, joined."""
    names = []
    for code in codes:
        state = queries.jurisdiction(session, code)
        names.append(state.name(locale) if state else code)
    return _(" and ").join(names)


def _text(session: DbSession, c: queries.Considered, pair: tuple[str, str], locale: str) -> str:
    """Return the reason for one instrument, in ``locale``."""
    states = _names(session, c.states, locale)
    both = _names(session, pair, locale)
    if c.reason == queries.LEFT_ECOWAS:
        return _(
            "Not offered: %(states)s left ECOWAS on 29 January 2025, and whether the Convention "
            "still binds it is contested. Rely on UNTOC, a bilateral treaty or reciprocity.",
            states=states,
        )
    if c.reason == queries.NOT_ECOWAS:
        return _("Not offered: %(states)s is not a member of ECOWAS.", states=states)
    if c.reason == queries.NOT_PARTY:
        return _("Not offered: %(states)s is not listed as a party.", states=states)
    if c.reason == queries.NOT_FOR_MEASURE:
        return _(
            "%(states)s are both bound by it, but it does not provide for this measure.",
            states=both,
        )
    if c.instrument.kind == INSTRUMENT_RECIPROCITY:
        return _(
            "A basis between any two states, under the requested state's own law: choose it "
            "yourself where no treaty applies or alongside one."
        )
    if c.reason == queries.BY_HAND:
        return _(
            "Listed for %(states)s, but still to be verified: choose it only once confirmed.",
            states=both,
        )
    text = _("%(states)s are both bound by it, and it provides for this measure.", states=both)
    if c.instrument.untoc_scope:
        text += " " + _(
            "It applies to offences that are transnational and involve an organised criminal "
            "group: where no other treaty is cited, the request must show both."
        )
    return text


def explain(
    session: DbSession, considered: list[queries.Considered], pair: tuple[str, str], locale: str
) -> list[Explanation]:
    """Return the explanation of every instrument that concerns the pair, in ``locale``.

    A bilateral treaty to which neither state is party is left out: it concerns neither.
    """
    found = []
    for c in considered:
        if c.reason == queries.NOT_PARTY and set(c.states) == set(pair):
            continue
        text = _text(session, c, pair, locale)
        if c.unverified:
            text += " " + _(
                "Ratification by %(states)s to be verified.",
                states=_names(session, c.unverified, locale),
            )
        found.append(
            Explanation(
                code=c.instrument.code,
                citation=c.instrument.citation(locale),
                title=c.instrument.title(locale),
                text=text,
                offered=c.offered,
                suggested=c.suggested,
            )
        )
    return found


def parties_to_both(considered: list[queries.Considered], locale: str) -> list[str]:
    """Return the citations of the treaties both states are bound by (reciprocity aside).

    A treaty whose very existence is still to be verified is not counted: its line says so.
    """
    return [
        c.instrument.citation(locale)
        for c in considered
        if c.in_force
        and c.instrument.kind != INSTRUMENT_RECIPROCITY
        and not c.instrument.unverified
    ]
