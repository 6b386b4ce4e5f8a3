"""MLA requests, their events (the source of truth of their state), persons, annexes, messages
and the outbox of messages waiting to be sealed and delivered."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.db import new_uuid, utcnow
from exchange.envelopes.columns import EncryptedText
from exchange.extensions import db

if TYPE_CHECKING:
    from exchange.auth.models import User
    from exchange.cases.models import Case, CasePerson, CaseReference
    from exchange.directory.models import Authority

OUTGOING = "outgoing"
INCOMING = "incoming"


class MlaRequest(db.Model):  # type: ignore[name-defined]
    """One side's copy of an MLA request: ``outgoing`` at the requesting authority, ``incoming``
    at the requested one. Both copies share ``conversation_id``.

    ``state`` is a cache of the fold of the events, written only by ``exchange.mla.lifecycle``.
    Free text (``details_enc``) is encrypted at rest; only metadata that the dashboard filters on
    is in the clear, and none of it names a person.
    """

    __tablename__ = "mla_requests"
    __table_args__ = (
        # One index per dashboard path: keyset on (created_at, id) after the filter columns.
        Index("ix_mla_requests_holder", "authority_id", "side", "created_at", "id"),
        Index("ix_mla_requests_reviewer", "reviewing_authority_id", "side", "created_at", "id"),
        Index("ix_mla_requests_state", "authority_id", "side", "state", "created_at", "id"),
        Index(
            "ix_mla_requests_country",
            "authority_id",
            "side",
            "counterpart_state",
            "created_at",
            "id",
        ),
        Index("ix_mla_requests_type", "authority_id", "side", "request_type", "created_at", "id"),
        Index("ix_mla_requests_urgent", "authority_id", "side", "urgent", "created_at", "id"),
        Index("ix_mla_requests_due", "authority_id", "side", "due_at"),
        Index("ix_mla_requests_case", "case_id", "created_at", "id"),
        Index("ix_mla_requests_case_country", "case_id", "counterpart_state", "created_at", "id"),
        Index("ix_mla_requests_case_state", "case_id", "state", "created_at", "id"),
        Index("ix_mla_requests_author", "created_by_id", "created_at", "id"),
        Index("ix_mla_requests_officer", "assigned_officer_id", "created_at", "id"),
        Index("ix_mla_requests_executing", "assigned_authority_id", "side", "created_at", "id"),
        UniqueConstraint("conversation_id", "side"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    conversation_id: Mapped[str] = mapped_column(String(36), default=new_uuid)
    side: Mapped[str] = mapped_column(String(10))
    # The authority holding this copy: the requesting one (outgoing) or the addressed one (incoming).
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"))
    # Outgoing: the central authority of the requesting state, which reviews and transmits
    # (UNTOC 18(13)); it is also the sender of the envelopes.
    reviewing_authority_id: Mapped[int | None] = mapped_column(ForeignKey("authorities.id"))
    counterpart_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"))
    counterpart_state: Mapped[str] = mapped_column(String(2))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    request_type: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(30))
    reference: Mapped[str] = mapped_column(String(80), default="")
    foreign_reference: Mapped[str] = mapped_column(String(80), default="")
    language: Mapped[str] = mapped_column(String(2))
    legal_basis: Mapped[str] = mapped_column(
        String(300), default=""
    )  # instrument codes, comma-separated
    urgent: Mapped[bool] = mapped_column(default=False)
    urgency_reason: Mapped[str] = mapped_column(
        EncryptedText("mla_requests.urgency_reason"), default=""
    )
    desired_date: Mapped[date | None] = mapped_column()
    confidential: Mapped[bool] = mapped_column(default=True)
    # The common and type-specific contents (JSON), encrypted at rest.
    details_enc: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_authority_id: Mapped[int | None] = mapped_column(ForeignKey("authorities.id"))
    assigned_officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    transmitted_at: Mapped[datetime | None] = mapped_column()
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    executed_at: Mapped[datetime | None] = mapped_column()
    # When the next expected step is overdue (acknowledgement, then execution); None when closed.
    due_at: Mapped[datetime | None] = mapped_column()
    refusal_ground: Mapped[str | None] = mapped_column(String(40))
    # Optimistic lock: an edit based on an older version is refused (If-Match on the draft form).
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook

    authority: Mapped[Authority] = relationship(foreign_keys=[authority_id], lazy="joined")
    reviewing_authority: Mapped[Authority | None] = relationship(
        foreign_keys=[reviewing_authority_id]
    )
    counterpart: Mapped[Authority] = relationship(foreign_keys=[counterpart_id], lazy="joined")
    assigned_authority: Mapped[Authority | None] = relationship(
        foreign_keys=[assigned_authority_id]
    )
    assigned_officer: Mapped[User | None] = relationship(foreign_keys=[assigned_officer_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    case: Mapped[Case | None] = relationship()
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.seq", cascade="all, delete-orphan"
    )
    persons: Mapped[list[RequestPerson]] = relationship(
        back_populates="request", order_by="RequestPerson.id", cascade="all, delete-orphan"
    )
    annexes: Mapped[list[Annex]] = relationship(
        back_populates="request", order_by="Annex.id", cascade="all, delete-orphan"
    )


class RequestEvent(db.Model):  # type: ignore[name-defined]
    """One move of a request: who, when, what, with which payload; the state is their fold."""

    __tablename__ = "mla_request_events"
    __table_args__ = (UniqueConstraint("request_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("mla_requests.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(30), default="")
    to_state: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who acted, as the other side or the system knows it: an authority code, or "system".
    actor_authority: Mapped[str] = mapped_column(String(40), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # JSON: reasons, summaries, references, grounds — free text that may name people, encrypted.
    payload: Mapped[str] = mapped_column(EncryptedText("mla_request_events.payload"), default="{}")
    message_id: Mapped[str | None] = mapped_column(String(36))  # the outbox message it produced

    request: Mapped[MlaRequest] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class RequestPerson(db.Model):  # type: ignore[name-defined]
    """A person concerned by a request (UNTOC 18(15)(e)), and what the request discloses of them.

    Outgoing: a person of the case (``case_person``) chosen into the request, with what it
    discloses: the identity or the pseudonym only (``disclosure``), which further details and
    which protection measures. The identity stays with the case person (entered once).
    Incoming: the identity and measures as received, encrypted at rest in ``identity_enc`` and
    ``protection_enc``. Only a neutral label ("P1") and the capacities are in the clear
    (Palermo Protocol art. 6(1): protect the privacy and identity of victims).
    """

    __tablename__ = "mla_request_persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("mla_requests.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(40))
    is_victim: Mapped[bool] = mapped_column(default=False)
    is_minor: Mapped[bool] = mapped_column(default=False)
    is_witness: Mapped[bool] = mapped_column(default=False)
    is_suspect: Mapped[bool] = mapped_column(default=False)
    identity_enc: Mapped[str] = mapped_column(Text, default="")
    protection_enc: Mapped[str] = mapped_column(Text, default="")
    case_person_id: Mapped[int | None] = mapped_column(ForeignKey("case_persons.id"), index=True)
    # What this request discloses: "identity" or "pseudonym" (the pseudonym stands for the name),
    # the further identity details and the protection measures sent (comma-separated names).
    disclosure: Mapped[str] = mapped_column(String(20), default="identity")
    disclosed_details: Mapped[str] = mapped_column(String(300), default="")
    disclosed_measures: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[MlaRequest] = relationship(back_populates="persons")
    case_person: Mapped[CasePerson | None] = relationship()


class Annex(db.Model):  # type: ignore[name-defined]
    """A file attached to a request (supporting, or a result of execution), stored encrypted
    under ``blobs/`` and addressed by the SHA-256 of its plaintext."""

    __tablename__ = "mla_annexes"
    __table_args__ = (UniqueConstraint("request_id", "sha256", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("mla_requests.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="supporting")  # supporting | result
    sha256: Mapped[str] = mapped_column(String(64))
    filename_enc: Mapped[str] = mapped_column(Text)  # a file name can name a person
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column()
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[MlaRequest] = relationship(back_populates="annexes")


class Message(db.Model):  # type: ignore[name-defined]
    """A threaded message about a request or a case reference (consultation, progress inquiry)."""

    __tablename__ = "mla_messages"
    __table_args__ = (Index("ix_mla_messages_thread", "authority_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    msg_id: Mapped[str] = mapped_column(String(36), index=True)
    conversation_id: Mapped[str] = mapped_column(String(36))
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"))
    counterpart_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("mla_requests.id"), index=True)
    case_reference_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_references.id"), index=True
    )
    direction: Mapped[str] = mapped_column(String(10))  # outgoing | incoming
    kind: Mapped[str] = mapped_column(String(30))
    in_reply_to: Mapped[str | None] = mapped_column(String(36))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")
    counterpart: Mapped[Authority] = relationship(foreign_keys=[counterpart_id], lazy="joined")
    request: Mapped[MlaRequest | None] = relationship()
    case_reference: Mapped[CaseReference | None] = relationship()


class InternalNote(db.Model):  # type: ignore[name-defined]
    """A note of the team about a request: it stays on this node and is never queued abroad.

    Unlike a ``Message`` it has no envelope id, no counterpart and no conversation, so nothing
    can make an envelope of it. Its body may name people: encrypted at rest, bound to its row.
    """

    __tablename__ = "mla_internal_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("mla_requests.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")
    request: Mapped[MlaRequest] = relationship()


class OutboxMessage(db.Model):  # type: ignore[name-defined]
    """A message waiting to be sealed and delivered by the federation layer (transactional outbox)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_state", "state", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    msg_type: Mapped[str] = mapped_column(String(40))
    sender_code: Mapped[str] = mapped_column(String(40))
    recipient_code: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[str] = mapped_column(String(36), index=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(36))
    payload_enc: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="queued")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
