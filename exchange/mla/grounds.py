"""Grounds for refusing or postponing a request, as data per legal instrument.

UNTOC 18(7): where two states are bound by a treaty of mutual legal assistance, that treaty's
provisions apply instead of 18(9)-(29); so the grounds offered depend on the instrument the request
relies on (``MlaRequest.legal_basis``), not on one list for all. One TOML file per instrument
under ``refusal_grounds/`` gives its grounds, each with its source in English, French and
Portuguese; ``same_as`` names the instrument whose grounds apply instead (the Palermo Protocol
applies UNTOC, its art. 1(2)). Where a request cites several instruments, the one with the lowest
``rank`` that has grounds gives them: a bilateral treaty (rank below 20) before the ECOWAS
Convention (20), before UNTOC (30). A bilateral treaty brings its own list by adding a file with
its directory code; a cited instrument without a file falls back to the list of the others, and
the page says so (``Offer.unlisted``). The codes are a fixed vocabulary, the wire schema's enum
(``schemas/v1/payloads/mla.status.json``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

GROUNDS_DIR = Path(__file__).with_name("refusal_grounds")
LANGS = ("en", "fr", "pt")
# Where nothing else is cited: every state in the directory is a party to UNTOC.
FALLBACK = "UNTOC-18"

REFUSAL_CODES = (
    "not_in_conformity",
    "essential_interests",
    "domestic_law_prohibits",
    "contrary_to_legal_system",
    "dual_criminality",
    "discrimination",
    "political_offence",
    "military_offence",
    "ne_bis_in_idem",
    "offence_under_investigation",
    "compulsory_measure",
    "own_national",
)
POSTPONEMENT_CODES = ("ongoing_proceedings",)


class GroundsError(ValueError):
    """A grounds file is malformed."""


@dataclass(frozen=True)
class Ground:
    """One ground an instrument offers, with its source in each language."""

    code: str
    source: dict[str, str]

    def source_in(self, locale: str) -> str:
        """Return the source in ``locale`` (English if unknown)."""
        return self.source.get(locale, self.source["en"])


@dataclass(frozen=True)
class InstrumentGrounds:
    """The grounds of one instrument (or the instrument whose grounds it applies)."""

    code: str
    rank: int
    refusal: tuple[Ground, ...]
    postponement: tuple[Ground, ...]
    consultation: dict[str, str]
    same_as: str | None = None


@dataclass(frozen=True)
class Offer:
    """What a request's legal basis offers: whose grounds, which, and what had no list."""

    instrument: str
    refusal: tuple[Ground, ...]
    postponement: tuple[Ground, ...]
    consultation: dict[str, str]
    unlisted: tuple[str, ...]

    @property
    def refusal_codes(self) -> frozenset[str]:
        """Return the codes of the refusal grounds offered."""
        return frozenset(g.code for g in self.refusal)

    @property
    def postponement_codes(self) -> frozenset[str]:
        """Return the codes of the postponement grounds offered."""
        return frozenset(g.code for g in self.postponement)

    def source_of(self, code: str, locale: str) -> str:
        """Return the source of ground ``code`` in ``locale``, or "" if it is not offered."""
        for ground in self.refusal + self.postponement:
            if ground.code == code:
                return ground.source_in(locale)
        return ""

    def consultation_in(self, locale: str) -> str:
        """Return the source of the duty to consult before refusing or postponing."""
        return self.consultation.get(locale, self.consultation.get("en", ""))


def _texts(value: Any, where: str) -> dict[str, str]:
    """Check a {en, fr, pt} mapping of non-empty strings."""
    if not isinstance(value, dict) or any(
        not isinstance(value.get(lang), str) or not value[lang].strip() for lang in LANGS
    ):
        raise GroundsError(f"{where}: needs non-empty en, fr and pt texts")
    return {lang: value[lang] for lang in LANGS}


def _grounds(items: Any, vocabulary: tuple[str, ...], where: str) -> tuple[Ground, ...]:
    """Read a list of grounds, each a known code with its source, none twice."""
    if not isinstance(items, list):
        raise GroundsError(f"{where}: must be an array of tables")
    found = []
    for item in items:
        code = item.get("ground") if isinstance(item, dict) else None
        if code not in vocabulary:
            raise GroundsError(f"{where}: unknown ground {code!r}")
        found.append(Ground(code, _texts(item.get("source"), f"{where}.{code}.source")))
    if len({g.code for g in found}) != len(found):
        raise GroundsError(f"{where}: a ground is listed twice")
    return tuple(found)


def _instrument(data: dict[str, Any], where: str) -> InstrumentGrounds:
    """Read and check one instrument's file."""
    code = data.get("code")
    if not isinstance(code, str) or not code.strip():
        raise GroundsError(f"{where}: needs the instrument's directory `code`")
    same_as = data.get("same_as")
    if same_as is not None:
        if not isinstance(same_as, str) or set(data) - {"code", "same_as"}:
            raise GroundsError(f"{where}: `same_as` names one instrument and nothing else")
        return InstrumentGrounds(code, 1000, (), (), {}, same_as)
    rank = data.get("rank")
    if not isinstance(rank, int) or isinstance(rank, bool):
        raise GroundsError(f"{where}: `rank` must be an integer")
    refusal = _grounds(data.get("refusal"), REFUSAL_CODES, f"{where}.refusal")
    if not refusal:
        raise GroundsError(f"{where}: an instrument with grounds lists at least one")
    return InstrumentGrounds(
        code=code,
        rank=rank,
        refusal=refusal,
        postponement=_grounds(data.get("postponement", []), POSTPONEMENT_CODES, where),
        consultation=_texts((data.get("consultation") or {}).get("source"), f"{where}.consult"),
    )


def load_grounds(directory: Path = GROUNDS_DIR) -> dict[str, InstrumentGrounds]:
    """Load and check every grounds file of ``directory``, by instrument code."""
    found: dict[str, InstrumentGrounds] = {}
    for path in sorted(directory.glob("*.toml")):
        entry = _instrument(tomllib.loads(path.read_text("utf-8")), path.name)
        if entry.code in found:
            raise GroundsError(f"{path.name}: {entry.code} has two files")
        found[entry.code] = entry
    for entry in found.values():
        target = found.get(entry.same_as) if entry.same_as else entry
        if target is None or target.same_as is not None:
            raise GroundsError(f"{entry.code}: `same_as` must name an instrument with grounds")
    if FALLBACK not in found:
        raise GroundsError(f"the grounds of {FALLBACK} are missing")
    return found


@cache
def shipped_grounds() -> dict[str, InstrumentGrounds]:
    """Return the grounds shipped with the node (loaded once)."""
    return load_grounds()


def offer(
    legal_basis: Iterable[str] | str, table: dict[str, InstrumentGrounds] | None = None
) -> Offer:
    """Return the grounds that a request relying on ``legal_basis`` (instrument codes) may cite."""
    table = table if table is not None else shipped_grounds()
    codes = [c for c in legal_basis.split(",")] if isinstance(legal_basis, str) else legal_basis
    cited = [c.strip() for c in codes if c and c.strip()]
    unlisted = tuple(c for c in cited if c not in table)
    resolved = [table[c] for c in cited if c in table]
    resolved = [table[e.same_as] if e.same_as else e for e in resolved]
    chosen = min(resolved, key=lambda e: (e.rank, e.code), default=table[FALLBACK])
    return Offer(chosen.code, chosen.refusal, chosen.postponement, chosen.consultation, unlisted)
