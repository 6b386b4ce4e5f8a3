"""Tables of the federation area: the peer nodes we trust, and the delivery of each outbox row."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.db import new_uuid, utcnow
from exchange.extensions import db


class Peer(db.Model):  # type: ignore[name-defined]
    """Another node of the Exchange, trusted by the fingerprint of its node key (exchanged out of band)."""

    __tablename__ = "peers"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    # The base URL the administrator gave; the only address we ever fetch from or post to.
    url: Mapped[str] = mapped_column(String(300), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    fingerprint: Mapped[str] = mapped_column(String(100))  # of the node key first trusted
    node_keys_json: Mapped[str] = mapped_column(Text)  # every node key the peer has announced
    authorities_json: Mapped[str] = mapped_column(Text, default="[]")  # codes it hosts
    serial: Mapped[int] = mapped_column(Integer, default=0)
    descriptor: Mapped[str] = mapped_column(Text)  # the last descriptor accepted, as signed
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def authorities(self) -> list[str]:
        """Return the codes of the authorities the peer hosts."""
        codes: list[str] = json.loads(self.authorities_json)
        return codes

    @property
    def node_keys(self) -> list[dict[str, Any]]:
        """Return the peer's node signing keys (public JWKs)."""
        keys: list[dict[str, Any]] = json.loads(self.node_keys_json)
        return keys


class Delivery(db.Model):  # type: ignore[name-defined]
    """How the delivery of one outbox message goes: attempts, the sealed envelope, the receipt.

    The envelope is sealed once and the same bytes are sent at every attempt, so that the
    receiver's receipt (which quotes their SHA-256) answers every attempt alike.
    """

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "next_attempt_at"),)

    outbox_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), primary_key=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(String(200), default="")
    envelope: Mapped[bytes | None] = mapped_column(LargeBinary)
    envelope_sha256: Mapped[str] = mapped_column(String(64), default="")
    blob_ids: Mapped[str] = mapped_column(String(2000), default="")  # a1,a2... kept on disk
    receipt: Mapped[bytes | None] = mapped_column(LargeBinary)
    receipt_status: Mapped[str] = mapped_column(String(80), default="")
    delivered_at: Mapped[datetime | None] = mapped_column()


class HeldEnvelope(db.Model):  # type: ignore[name-defined]
    """An envelope that passed every check but arrived before its predecessor (``in_reply_to``).

    It is kept, as received, until the message it follows arrives; then it is applied, in order.
    Its attachment blobs wait beside it, still encrypted, under the instance's ``held`` folder.
    """

    __tablename__ = "held_envelopes"

    msg_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sender: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[str] = mapped_column(String(36))
    waits_for: Mapped[str] = mapped_column(String(36), index=True)
    envelope: Mapped[bytes] = mapped_column(LargeBinary)
    blob_ids: Mapped[str] = mapped_column(String(2000), default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
