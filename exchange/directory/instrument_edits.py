"""Administrators' changes to a legal instrument: what it covers, whom it binds, each recorded.

Which instruments a request can rest on decides the grounds of refusal it can meet (UNTOC 18(7)),
the languages it may be written in (A/P.1/7/92 art. 5(2)) and the elements it must show (UNTOC's
scope): so only ``directory.manage_all`` changes them, every change is kept with who made it, and
an instrument once changed is the administrator's: re-seeding the directory leaves it alone.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from exchange.db import DbSession, utcnow
from exchange.directory import measures as measure_catalogue
from exchange.directory.models import (
    APPLIES,
    INSTRUMENT_KINDS,
    Instrument,
    InstrumentChange,
    InstrumentParty,
    Jurisdiction,
)
from exchange.directory.services import DirectoryError
from exchange.policy import accounts as policy

if TYPE_CHECKING:
    from exchange.auth.models import User

TEXT_FIELDS = {
    "title_en": 300,
    "title_fr": 300,
    "title_pt": 300,
    "citation_en": 120,
    "citation_fr": 120,
    "citation_pt": 120,
    "notes": 4000,
    "notes_fr": 4000,
    "notes_pt": 4000,
}
FLAGS = ("suggested", "untoc_scope", "unverified")
# The fields a change record follows, in the order they are shown.
RECORDED = (
    *TEXT_FIELDS,
    "kind",
    "applies",
    "precedence",
    "measures",
    *FLAGS,
    "last_verified",
    "parties",
    "unverified_parties",
)


def _snapshot(instrument: Instrument) -> dict[str, Any]:
    """Return an instrument's recorded fields as plain JSON values."""
    values: dict[str, Any] = {name: getattr(instrument, name) for name in TEXT_FIELDS}
    values.update({name: bool(getattr(instrument, name)) for name in FLAGS})
    values["kind"], values["applies"] = instrument.kind, instrument.applies
    values["precedence"] = instrument.precedence
    values["measures"] = sorted(instrument.measures)
    values["last_verified"] = (
        instrument.last_verified.isoformat() if instrument.last_verified else None
    )
    values["parties"] = sorted(instrument.party_codes())
    values["unverified_parties"] = sorted(
        p.jurisdiction_code for p in instrument.parties if p.unverified
    )
    return values


def update_instrument(
    session: DbSession,
    instrument: Instrument,
    *,
    actor: User | None,
    parties: list[str] | None = None,
    unverified_parties: list[str] | None = None,
    measures: list[str] | None = None,
    **changes: Any,
) -> InstrumentChange | None:
    """Change an instrument's entry and record what changed; ``actor=None`` is the command line.

    ``parties`` replaces the listed parties (ISO codes of the directory's states);
    ``unverified_parties`` names those whose ratification is still to be confirmed.
    """
    if actor is not None and not policy.can_edit_instrument(actor):
        raise DirectoryError("forbidden")
    unknown = set(changes) - set(RECORDED)
    if unknown:
        raise DirectoryError("not_editable")
    for name, limit in TEXT_FIELDS.items():
        if name in changes:
            changes[name] = str(changes[name] or "").strip()
            if len(changes[name]) > limit:
                raise DirectoryError("too_long", name)
    if not all(changes.get(f"title_{lang}", "x") for lang in ("en", "fr", "pt")):
        raise DirectoryError("title_required")
    if "kind" in changes and changes["kind"] not in INSTRUMENT_KINDS:
        raise DirectoryError("unknown_instrument_kind")
    if "applies" in changes and changes["applies"] not in APPLIES:
        raise DirectoryError("unknown_rule")
    if "precedence" in changes:
        precedence = changes["precedence"]
        if not isinstance(precedence, int) or isinstance(precedence, bool):
            raise DirectoryError("bad_precedence")
        if not 0 <= precedence <= 1000:
            raise DirectoryError("bad_precedence")
    if "last_verified" in changes and not (
        changes["last_verified"] is None or isinstance(changes["last_verified"], date)
    ):
        raise DirectoryError("bad_date")
    wanted_measures = None
    if measures is not None:
        try:
            wanted_measures = measure_catalogue.clean(measures)
        except measure_catalogue.UnknownMeasure as exc:
            raise DirectoryError("unknown_measure", str(exc)) from exc
        if not wanted_measures:
            raise DirectoryError("no_measure")
    codes = None if parties is None else sorted({c.strip().upper() for c in parties if c.strip()})
    doubtful = {c.strip().upper() for c in unverified_parties or [] if c.strip()}
    for code in [*(codes or []), *doubtful]:
        if session.get(Jurisdiction, code) is None:
            raise DirectoryError("unknown_jurisdiction", code)
    before = _snapshot(instrument)
    for name in FLAGS:
        if name in changes:
            changes[name] = bool(changes[name])
    for key, value in changes.items():
        setattr(instrument, key, value)
    if wanted_measures is not None:
        instrument.measures_csv = ",".join(wanted_measures)
    if codes is not None:
        for party in list(instrument.parties):
            if party.jurisdiction_code not in codes:
                instrument.parties.remove(party)
        have = instrument.party_codes()
        for code in codes:
            if code not in have:
                instrument.parties.append(InstrumentParty(jurisdiction_code=code))
    if unverified_parties is not None:
        for party in instrument.parties:
            party.unverified = party.jurisdiction_code in doubtful
    session.flush()
    after = _snapshot(instrument)
    diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not diff:
        return None
    instrument.edited_at = utcnow()
    change = InstrumentChange(
        instrument_id=instrument.id, actor_id=actor.id if actor else None, changes=diff
    )
    session.add(change)
    session.flush()
    return change
