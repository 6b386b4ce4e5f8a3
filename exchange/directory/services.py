"""Writes to the directory: load the seed, add and edit authorities, competence rules."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from exchange.core.emails import InvalidEmail, check_email
from exchange.db import DbSession
from exchange.directory import measures as measure_catalogue
from exchange.directory.models import (
    ALL_MEASURES,
    APPLIES,
    AUTHORITY_KINDS,
    INSTRUMENT_KINDS,
    INSTRUMENT_TREATY,
    STATUSES,
    Authority,
    AuthorityChange,
    Competence,
    Instrument,
    InstrumentParty,
    Jurisdiction,
    NationalLaw,
)
from exchange.directory.queries import authority_by_code
from exchange.policy import accounts as policy

if TYPE_CHECKING:
    from exchange.auth.models import User

SEED_FILE = Path(__file__).with_name("data") / "directory.toml"
LANGS = ("en", "fr", "pt")


class DirectoryError(ValueError):
    """A directory change was refused; ``code`` names why, for a translated message."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


def _date(value: Any) -> date | None:
    """Read an optional date from the seed (TOML dates arrive as ``date`` already)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _texts(value: Any) -> dict[str, str]:
    """Read a seed text: one English string, or ``{en, fr, pt}``."""
    if isinstance(value, dict):
        return {lang: str(value.get(lang, "")) for lang in LANGS}
    return {"en": str(value or ""), "fr": "", "pt": ""}


def seed_directory(session: DbSession, path: Path = SEED_FILE) -> dict[str, int]:
    """Load or refresh states, instruments, authorities and laws from the seed file.

    Deletes nothing. An instrument an administrator changed (``edited_at``) is left as they made
    it: the seed only adds instruments it does not find.
    """
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    counts = {"jurisdictions": 0, "instruments": 0, "authorities": 0, "laws": 0}
    for item in data.get("jurisdiction", []):
        _seed_state(session, item)
        counts["jurisdictions"] += 1
    session.flush()
    for item in data.get("instrument", []):
        _seed_instrument(session, item)
        counts["instruments"] += 1
    session.flush()
    for item in data.get("authority", []):
        _seed_authority(session, item)
        counts["authorities"] += 1
    for item in data.get("law", []):
        law = session.scalar(select(NationalLaw).where(NationalLaw.code == item["code"]))
        law = law or NationalLaw(code=item["code"])
        law.jurisdiction_code = item["jurisdiction"]
        law.subject = item.get("subject", "trafficking_in_persons")
        law.title = item["title"]
        law.provisions = item.get("provisions", "")
        law.unverified = bool(item.get("unverified", True))
        session.add(law)
        counts["laws"] += 1
    session.flush()
    return counts


def _seed_state(session: DbSession, item: dict[str, Any]) -> None:
    """Load or refresh one state from the seed."""
    if item["status"] not in STATUSES:
        raise DirectoryError("unknown_status")
    state = session.get(Jurisdiction, item["code"]) or Jurisdiction(code=item["code"])
    state.name_en, state.name_fr, state.name_pt = (item["name"][k] for k in LANGS)
    state.status = item["status"]
    state.status_since = _date(item.get("since"))
    state.request_languages_csv = ",".join(item["languages"])
    state.wacap_member = bool(item.get("wacap", True))
    if "notes" in item:
        state.notes, state.notes_fr, state.notes_pt = _texts(item["notes"]).values()
    session.add(state)


def _seed_instrument(session: DbSession, item: dict[str, Any]) -> None:
    """Load one instrument from the seed; refresh it only if no administrator has changed it."""
    if item["applies"] not in APPLIES or item.get("kind", INSTRUMENT_TREATY) not in (
        INSTRUMENT_KINDS
    ):
        raise DirectoryError("unknown_rule")
    found = session.scalar(select(Instrument).where(Instrument.code == item["code"]))
    if found is not None and found.edited_at is not None:
        return
    instrument = found or Instrument(code=item["code"])
    instrument.title_en, instrument.title_fr, instrument.title_pt = (
        item["title"][k] for k in LANGS
    )
    citation = item.get("citation", {})
    instrument.citation_en, instrument.citation_fr, instrument.citation_pt = (
        citation.get(k, "") for k in LANGS
    )
    instrument.applies = item["applies"]
    instrument.precedence = int(item.get("precedence", 100))
    instrument.kind = item.get("kind", INSTRUMENT_TREATY)
    instrument.measures_csv = ",".join(item.get("measures", [ALL_MEASURES]))
    instrument.suggested = bool(item.get("suggested", True))
    instrument.untoc_scope = bool(item.get("untoc_scope", False))
    instrument.unverified = bool(item.get("unverified", False))
    instrument.notes, instrument.notes_fr, instrument.notes_pt = _texts(
        item.get("notes", "")
    ).values()
    have = instrument.party_codes()
    for code in item.get("parties", []):
        if code not in have:
            instrument.parties.append(
                InstrumentParty(
                    jurisdiction_code=code, unverified=bool(item.get("parties_unverified"))
                )
            )
    session.add(instrument)


def _seed_authority(session: DbSession, item: dict[str, Any]) -> None:
    """Load or refresh one authority from the seed, the change on the record."""
    authority = authority_by_code(session, item["code"])
    before = None if authority is None else _snapshot(authority)
    if authority is None:
        authority = Authority(code=item["code"], hosted=False)
        session.add(authority)
    authority.name = item["name"]
    authority.kind = item["kind"]
    authority.jurisdiction_code = item["jurisdiction"]
    authority.unverified = bool(item.get("unverified", False))
    authority.notes = authority.notes or item.get("notes", "")
    authority.address = authority.address or item.get("address", "")
    session.flush()
    have = {c.measure for c in authority.competences}
    for measure in item.get("measures", []):
        if measure not in have:
            authority.competences.append(Competence(measure=measure))
    if before is not None:
        # A refresh may set a kind back to the seed's: the operator's change, on the record.
        session.flush()
        _record(session, None, authority, before)
    session.flush()


# The fields of an entry that a change record follows, in the order they are shown.
RECORDED_FIELDS = ("name", "kind", "email", "phone", "address", "notes", "last_verified")


def _snapshot(authority: Authority | None) -> dict[str, Any]:
    """Return an entry's recorded fields as plain JSON values (nothing for a new authority)."""
    if authority is None:
        return {name: None for name in (*RECORDED_FIELDS, "competences")}
    values: dict[str, Any] = {name: getattr(authority, name) for name in RECORDED_FIELDS}
    if values["last_verified"] is not None:
        values["last_verified"] = values["last_verified"].isoformat()
    values["competences"] = sorted(c.measure for c in authority.competences)
    return values


def _record(
    session: DbSession, actor: User | None, authority: Authority, before: dict[str, Any]
) -> AuthorityChange | None:
    """Keep who changed which field of an entry from what to what; nothing if nothing changed."""
    after = _snapshot(authority)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not changes:
        return None
    change = AuthorityChange(
        authority_id=authority.id, actor_id=actor.id if actor else None, changes=changes
    )
    session.add(change)
    session.flush()
    return change


def _contact_email(email: str) -> str:
    """Return an entry's contact address trimmed (empty for none), or refuse a wrong one."""
    if not email.strip():
        return ""
    try:
        return check_email(email)
    except InvalidEmail as exc:
        raise DirectoryError("bad_email") from exc


def _measures(measures: list[str]) -> set[str]:
    """Return the measures chosen, or refuse one that is no request type (nor ``*``, all)."""
    try:
        return set(measure_catalogue.clean(measures))
    except measure_catalogue.UnknownMeasure as exc:
        raise DirectoryError("unknown_measure", str(exc)) from exc


def _replace_competences(authority: Authority, measures: list[str]) -> None:
    """Make an authority competent for exactly ``measures``."""
    wanted = _measures(measures)
    for row in list(authority.competences):
        if row.measure not in wanted:
            authority.competences.remove(row)
    have = {c.measure for c in authority.competences}
    for measure in sorted(wanted - have):
        authority.competences.append(Competence(measure=measure))


def add_authority(
    session: DbSession,
    *,
    code: str,
    name: str,
    kind: str,
    jurisdiction_code: str,
    hosted: bool,
    email: str = "",
    phone: str = "",
    address: str = "",
    notes: str = "",
    last_verified: date | None = None,
    measures: list[str] | None = None,
    actor: User | None = None,
) -> Authority:
    """Add an authority and record it; a central authority is competent for every measure.

    ``actor`` is the signed-in user, who needs ``directory.manage_all``; ``None`` is the
    operator's command line. ``measures`` replaces the competences a new entry starts with.
    """
    if actor is not None and not policy.can_add_authority(actor):
        raise DirectoryError("forbidden")
    code = code.strip().upper()
    if not code or len(code) > 40 or not all(c.isalnum() or c == "-" for c in code):
        raise DirectoryError("bad_code")
    if kind not in AUTHORITY_KINDS:
        raise DirectoryError("unknown_kind")
    if session.get(Jurisdiction, jurisdiction_code) is None:
        raise DirectoryError("unknown_jurisdiction")
    if authority_by_code(session, code) is not None:
        raise DirectoryError("code_taken")
    email = _contact_email(email)
    authority = Authority(
        code=code,
        name=name.strip(),
        kind=kind,
        jurisdiction_code=jurisdiction_code,
        hosted=hosted,
        email=email,
        phone=phone,
        address=address,
        notes=notes,
        last_verified=last_verified,
    )
    if kind == "central_authority":
        authority.competences.append(Competence(measure="*"))
    if measures:
        _replace_competences(authority, measures)
    session.add(authority)
    session.flush()
    _record(session, actor, authority, _snapshot(None))
    return authority


def update_authority(
    session: DbSession,
    authority: Authority,
    *,
    actor: User | None,
    measures: list[str] | None = None,
    **changes: Any,
) -> Authority:
    """Change an authority's entry (details, kind, competences) and record what changed.

    An authority's administrator may change the details of their own authority's entry; its kind
    and competences decide who reviews and who receives requests, so only ``directory.manage_all``
    changes them (and any other authority's entry). ``actor=None`` is the operator's command line.
    """
    unknown = set(changes) - set(RECORDED_FIELDS)
    if unknown:
        raise DirectoryError("not_editable")
    if "kind" in changes and changes["kind"] not in AUTHORITY_KINDS:
        raise DirectoryError("unknown_kind")
    if "email" in changes:
        changes["email"] = _contact_email(changes["email"] or "")
    before = _snapshot(authority)
    wanted = None if measures is None else _measures(measures)
    changes_standing = changes.get("kind", authority.kind) != authority.kind or (
        wanted is not None and wanted != set(before["competences"])
    )
    if actor is not None:
        if not policy.can_edit_authority(actor, authority):
            raise DirectoryError("forbidden")
        if changes_standing and not policy.can_change_authority_standing(actor):
            raise DirectoryError("forbidden")
    for key, value in changes.items():
        setattr(authority, key, value)
    if measures is not None:
        _replace_competences(authority, measures)
    session.flush()
    _record(session, actor, authority, before)
    return authority
