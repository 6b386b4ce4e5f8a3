"""Cases, their teams, and case references exchanged with foreign authorities."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.db import new_uuid, utcnow
from exchange.envelopes.columns import EncryptedText
from exchange.extensions import db

if TYPE_CHECKING:
    from exchange.auth.models import User
    from exchange.directory.models import Authority

# Judicial investigation (instruction) and enforcement after conviction (confiscation, service of
# judgments) are stages of their own (finding 17).
STAGES = ("investigation", "instruction", "prosecution", "trial", "enforcement")
TEAM_ROLES = ("prosecutor", "investigator")

# What an outgoing case reference may disclose, chosen item by item by the sender.
DISCLOSABLE = ("title", "offences", "stage", "border_localities")


class Case(db.Model):  # type: ignore[name-defined]
    """An authority's own file; never leaves the node as such (only case references do)."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("authority_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"), index=True)
    number: Mapped[str] = mapped_column(String(60))
    # Free text that may name people is encrypted at rest (EncryptedText).
    title: Mapped[str] = mapped_column(EncryptedText("cases.title"))
    # Offence categories, one per line (trafficking in persons, sexual exploitation...).
    offences: Mapped[str] = mapped_column(EncryptedText("cases.offences"), default="")
    stage: Mapped[str] = mapped_column(String(20), default="investigation")
    # Border localities involved (Kédougou, Moussala, Kéniéba...), one per line.
    border_localities: Mapped[str] = mapped_column(
        EncryptedText("cases.border_localities"), default=""
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    authority: Mapped[Authority] = relationship()
    created_by: Mapped[User] = relationship()
    members: Mapped[list[CaseMember]] = relationship(
        back_populates="case", cascade="all, delete-orphan", lazy="selectin"
    )
    persons: Mapped[list[CasePerson]] = relationship(
        back_populates="case", order_by="CasePerson.id", cascade="all, delete-orphan"
    )

    @property
    def offence_list(self) -> list[str]:
        """Return the offence categories as a list."""
        return [line.strip() for line in self.offences.splitlines() if line.strip()]

    @property
    def locality_list(self) -> list[str]:
        """Return the border localities as a list."""
        return [line.strip() for line in self.border_localities.splitlines() if line.strip()]


class CaseMember(db.Model):  # type: ignore[name-defined]
    """A prosecutor or investigator assigned to a case."""

    __tablename__ = "case_members"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")


class CasePerson(db.Model):  # type: ignore[name-defined]
    """A person of a case (victim, witness, suspect or other), entered once and chosen into each
    request that concerns them (UNTOC 18(15)(e)).

    Only a neutral label ("P1") and the capacities are in the clear; the identity and the
    protection measures (Palermo Protocol art. 6) are encrypted at rest, each bound to this row.
    """

    __tablename__ = "case_persons"
    __table_args__ = (UniqueConstraint("case_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    is_victim: Mapped[bool] = mapped_column(default=False)
    is_minor: Mapped[bool] = mapped_column(default=False)
    is_witness: Mapped[bool] = mapped_column(default=False)
    is_suspect: Mapped[bool] = mapped_column(default=False)
    identity_enc: Mapped[str] = mapped_column(Text)
    protection_enc: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship(back_populates="persons")


class CaseReference(db.Model):  # type: ignore[name-defined]
    """A case reference shared with (outgoing) or received from (incoming) a foreign authority.

    Both sides hold their own row, joined by ``conversation_id``; once the receiver links it to a
    local case, both rows carry the other side's reference (``linked_reference``).
    """

    __tablename__ = "case_references"
    __table_args__ = (
        Index("ix_case_references_holder", "authority_id", "direction", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    conversation_id: Mapped[str] = mapped_column(String(36), index=True, default=new_uuid)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"))
    direction: Mapped[str] = mapped_column(String(10))  # outgoing | incoming
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    counterpart_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"))
    reference: Mapped[str] = mapped_column(String(80))  # the sender's case reference
    offence_categories: Mapped[str] = mapped_column(
        EncryptedText("case_references.offence_categories"), default=""
    )
    contact_point: Mapped[str] = mapped_column(
        EncryptedText("case_references.contact_point"), default=""
    )
    # What the sender chose to disclose (JSON), encrypted at rest.
    disclosed_enc: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20))  # shared | received | linked
    linked_reference: Mapped[str] = mapped_column(String(80), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    linked_at: Mapped[datetime | None] = mapped_column()

    authority: Mapped[Authority] = relationship(foreign_keys=[authority_id])
    counterpart: Mapped[Authority] = relationship(foreign_keys=[counterpart_id], lazy="joined")
    case: Mapped[Case | None] = relationship()
