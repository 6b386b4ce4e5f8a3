"""The directory: jurisdictions, legal instruments, authorities and who is competent for what."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.db import utcnow
from exchange.extensions import db

if TYPE_CHECKING:
    from exchange.auth.models import User

# Membership status of a jurisdiction, as it matters for which instruments apply.
ECOWAS_MEMBER = "ecowas_member"
AES_FORMER_MEMBER = "aes_former_member"  # Burkina Faso, Mali, Niger: left on 29 January 2025
NON_MEMBER = "non_member"
STATUSES = (ECOWAS_MEMBER, AES_FORMER_MEMBER, NON_MEMBER)

# How an instrument decides which pairs of states it binds.
APPLIES_ALL = "all"  # every pair of states in the directory (UNTOC: all are parties)
APPLIES_ECOWAS = "ecowas_members"  # both states are ECOWAS members (A/P.1/7/92)
APPLIES_PARTIES = "listed_parties"  # both states are listed parties (bilateral treaties)
APPLIES = (APPLIES_ALL, APPLIES_ECOWAS, APPLIES_PARTIES)

AUTHORITY_KINDS = (
    "central_authority",
    "prosecution_office",
    "special_investigative_unit",
    "court",
    "investigating_judge",
    "consular_post",
    "regional_body",
    "network_contact_point",  # WACAP focal points, the Sahel Regional Judicial Platform
    "interpol_ncb",  # INTERPOL National Central Bureau: the urgent channel of UNTOC 18(13)
    "national_agency",  # a national body against trafficking (CNLTP, NAPTIP), a ministry
    "international_organisation",  # IOM (assisted return) and the like
)

# What an instrument is: a treaty (convention, protocol, bilateral agreement), or the promise of
# reciprocity under the requested state's own law, a basis that needs no treaty.
INSTRUMENT_TREATY = "treaty"
INSTRUMENT_RECIPROCITY = "reciprocity"
INSTRUMENT_KINDS = (INSTRUMENT_TREATY, INSTRUMENT_RECIPROCITY)
# The measures an instrument covers: request-type codes, or this for every request for assistance
# (every type that does not name its own bases, as extradition does).
ALL_MEASURES = "*"

# The languages a request can be written in: the official languages of the Community, in which
# A/P.1/7/92 art. 5(2) allows any request between its parties (see ``languages``).
LANGUAGES = ("en", "fr", "pt")


class Jurisdiction(db.Model):  # type: ignore[name-defined]
    """A state, by its ISO 3166-1 alpha-2 code."""

    __tablename__ = "jurisdictions"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_fr: Mapped[str] = mapped_column(String(120))
    name_pt: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(30))
    status_since: Mapped[date | None] = mapped_column()
    # Languages in which the state accepts requests, comma-separated in order of preference.
    request_languages_csv: Mapped[str] = mapped_column("request_languages", String(40))
    wacap_member: Mapped[bool] = mapped_column(default=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    notes_fr: Mapped[str] = mapped_column(Text, default="")
    notes_pt: Mapped[str] = mapped_column(Text, default="")
    last_verified: Mapped[date | None] = mapped_column()

    authorities: Mapped[list[Authority]] = relationship(
        back_populates="jurisdiction", order_by="Authority.code"
    )

    @property
    def request_languages(self) -> list[str]:
        """Return the languages in which the state accepts requests, preferred first."""
        return [lang for lang in self.request_languages_csv.split(",") if lang]

    def name(self, locale: str) -> str:
        """Return the state's name in ``locale`` (en, fr or pt)."""
        return str(getattr(self, f"name_{locale}", None) or self.name_en)

    def notes_in(self, locale: str) -> str:
        """Return the notes in ``locale`` (``notes`` holds the English)."""
        return str((getattr(self, f"notes_{locale}", "") if locale != "en" else "") or self.notes)


class Instrument(db.Model):  # type: ignore[name-defined]
    """A legal instrument on which a request can rest (convention, protocol, bilateral treaty)."""

    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title_en: Mapped[str] = mapped_column(String(300))
    title_fr: Mapped[str] = mapped_column(String(300))
    title_pt: Mapped[str] = mapped_column(String(300))
    citation_en: Mapped[str] = mapped_column(String(120), default="")
    citation_fr: Mapped[str] = mapped_column(String(120), default="")
    citation_pt: Mapped[str] = mapped_column(String(120), default="")
    applies: Mapped[str] = mapped_column(String(20))
    # Order in which a request's legal basis is suggested: the most specific first.
    precedence: Mapped[int] = mapped_column(default=100)
    notes: Mapped[str] = mapped_column(Text, default="")
    notes_fr: Mapped[str] = mapped_column(Text, default="")
    notes_pt: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20), default=INSTRUMENT_TREATY)
    # The request types it covers, comma-separated, or ``*`` (see ``ALL_MEASURES``).
    measures_csv: Mapped[str] = mapped_column("measures", Text, default=ALL_MEASURES)
    # Offered as the suggested basis of a new draft; otherwise only chosen by hand (reciprocity,
    # or a treaty whose existence is still to be verified).
    suggested: Mapped[bool] = mapped_column(default=True)
    # Applies only to offences within UNTOC's scope (arts. 2(a), 3; Palermo Protocol art. 4).
    untoc_scope: Mapped[bool] = mapped_column(default=False)
    unverified: Mapped[bool] = mapped_column(default=False)
    last_verified: Mapped[date | None] = mapped_column()
    # Set when an administrator changes the entry: a re-seed then leaves it as they made it.
    edited_at: Mapped[datetime | None] = mapped_column()

    parties: Mapped[list[InstrumentParty]] = relationship(
        back_populates="instrument", cascade="all, delete-orphan", lazy="selectin"
    )

    def title(self, locale: str) -> str:
        """Return the instrument's title in ``locale``."""
        return str(getattr(self, f"title_{locale}", None) or self.title_en)

    def citation(self, locale: str) -> str:
        """Return the instrument's short citation in ``locale``."""
        return str(getattr(self, f"citation_{locale}", None) or self.citation_en or self.code)

    def notes_in(self, locale: str) -> str:
        """Return the notes in ``locale`` (``notes`` holds the English)."""
        return str((getattr(self, f"notes_{locale}", "") if locale != "en" else "") or self.notes)

    @property
    def measures(self) -> list[str]:
        """Return the request types the instrument covers (``*``: every request for assistance)."""
        return [m for m in self.measures_csv.split(",") if m]

    def covers(self, measure: str) -> bool:
        """Tell whether a request of type ``measure`` can rest on this instrument."""
        return ALL_MEASURES in self.measures or measure in self.measures

    def party_codes(self) -> set[str]:
        """Return the listed parties' codes."""
        return {p.jurisdiction_code for p in self.parties}


class InstrumentParty(db.Model):  # type: ignore[name-defined]
    """A state party to an instrument that binds only its listed parties."""

    __tablename__ = "instrument_parties"
    __table_args__ = (UniqueConstraint("instrument_id", "jurisdiction_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), index=True
    )
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"))
    # Whether the state has ratified is still to be confirmed (SHERLOC, the depositary).
    unverified: Mapped[bool] = mapped_column(default=False)

    instrument: Mapped[Instrument] = relationship(back_populates="parties")


class InstrumentChange(db.Model):  # type: ignore[name-defined]
    """A record of one change to an instrument's entry: who, when, before and after."""

    __tablename__ = "instrument_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()


class NationalLaw(db.Model):  # type: ignore[name-defined]
    """A state's own law on an offence (trafficking in persons), cited in requests from or to it."""

    __tablename__ = "national_laws"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"), index=True)
    subject: Mapped[str] = mapped_column(String(40), default="trafficking_in_persons")
    # The law's own title, in the language it was enacted in.
    title: Mapped[str] = mapped_column(String(300))
    provisions: Mapped[str] = mapped_column(String(300), default="")
    unverified: Mapped[bool] = mapped_column(default=True)
    last_verified: Mapped[date | None] = mapped_column()


class Authority(db.Model):  # type: ignore[name-defined]
    """A competent body in a jurisdiction; hosted here (users and keys on this node) or foreign."""

    __tablename__ = "authorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(40))
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"), index=True)
    hosted: Mapped[bool] = mapped_column(default=False)
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(60), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # The sources themselves call the entry unverified: the portal says so, in the reader's language.
    unverified: Mapped[bool] = mapped_column(default=False)
    last_verified: Mapped[date | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    jurisdiction: Mapped[Jurisdiction] = relationship(back_populates="authorities", lazy="joined")
    competences: Mapped[list[Competence]] = relationship(
        back_populates="authority", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Authority {self.code}>"


class Competence(db.Model):  # type: ignore[name-defined]
    """A rule that an authority is competent in its state for a measure (the EJN Atlas idea)."""

    __tablename__ = "competences"
    __table_args__ = (UniqueConstraint("authority_id", "measure"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authorities.id", ondelete="CASCADE"), index=True
    )
    # A request-type code (e.g. ``taking_evidence``), or ``*`` for every measure.
    measure: Mapped[str] = mapped_column(String(60), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")

    authority: Mapped[Authority] = relationship(back_populates="competences")


class AuthorityChange(db.Model):  # type: ignore[name-defined]
    """A record of one change to an authority's directory entry: who, when, before and after.

    An authority's kind and competences decide who reviews a request and who is competent to
    receive one, so every change is kept, never edited or deleted.
    """

    __tablename__ = "authority_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"), index=True)
    # Nobody for the operator's command line (the node's root), otherwise the signed-in user.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # ``{field: [before, after]}`` for each field that changed; competences as sorted lists.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)

    authority: Mapped[Authority] = relationship()
    actor: Mapped[User | None] = relationship()
