"""The languages in which a requested state accepts a request: one rule, from the directory's data.

The directory's pages and the draft's checks (``exchange.mla``) both ask here, so that what the
directory lists for a state is what a draft to that state is checked against.

- UNTOC art. 18(14): a request is made "in a language acceptable to the requested State Party",
  which each state declares; the directory keeps that list per state, preferred first.
- ECOWAS A/P.1/7/92 art. 5(2): a request under the Convention may also be made in any official
  language of the Community (English, French, Portuguese). That widening follows the
  Convention: it applies where the directory has the Convention in force between the two states
  (``queries.instruments_between``), and, for a draft, only when the draft rests on it.

A state's list wins over any authority's: the language is the requested state's declaration
under UNTOC 18(14), binding every authority of that state, and authorities keep no list of their
own, so two entries of one state can never disagree on it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from exchange.db import DbSession
from exchange.directory import queries
from exchange.directory.models import LANGUAGES, Instrument, Jurisdiction

ECOWAS_CONVENTION = "ECOWAS-A/P.1/7/92"


@dataclass(frozen=True)
class AcceptedLanguages:
    """What a requested state accepts from a requesting state, and on which ground."""

    own: tuple[str, ...]  # the requested state's own list, preferred first (UNTOC 18(14))
    community: tuple[str, ...] = ()  # added by A/P.1/7/92 art. 5(2), none of them in ``own``

    @property
    def languages(self) -> list[str]:
        """Return every accepted language, the requested state's own first."""
        return [*self.own, *self.community]

    def accepts(self, language: str) -> bool:
        """Tell whether a request in ``language`` is acceptable."""
        return language in self.own or language in self.community


def languages_under(
    requested: Jurisdiction, instruments: Iterable[Instrument | str]
) -> AcceptedLanguages:
    """Return what ``requested`` accepts from a request resting on ``instruments`` (or codes)."""
    own = tuple(requested.request_languages)
    codes = {i if isinstance(i, str) else i.code for i in instruments}
    if ECOWAS_CONVENTION not in codes:
        return AcceptedLanguages(own)
    return AcceptedLanguages(own, tuple(lang for lang in LANGUAGES if lang not in own))


def accepted_languages(
    session: DbSession,
    requesting_state: str,
    requested_state: str,
    *,
    legal_basis: Collection[str] | None = None,
) -> AcceptedLanguages:
    """Return what ``requested_state`` accepts from ``requesting_state``; nothing if unknown.

    ``legal_basis``: the instrument codes a draft rests on; the Convention widens the languages
    only if it is among them (and in force between the two states). ``None``: every instrument
    in force between them, as for the directory's pages and a new draft's suggestions.
    """
    requested = queries.jurisdiction(session, requested_state)
    if requested is None:
        return AcceptedLanguages(())
    in_force = queries.instruments_between(session, requesting_state, requested.code)
    if legal_basis is not None:
        in_force = [i for i in in_force if i.code in legal_basis]
    return languages_under(requested, in_force)
