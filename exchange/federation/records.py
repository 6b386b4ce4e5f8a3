"""Tables of offline carriage and of the federation's record of administrative actions.

``CarriedEnvelope``: each envelope exported to a file, kept with its exact bytes, so that the
receipt that comes back on the same key is checked against the envelope that left, even if the
message was sealed afresh meanwhile (a retry of a parked message seals it again).

``FederationAction``: who did what to peers and to the delivery of messages (a peer added,
refreshed or removed; a parked message put back in the queue; an envelope exported; an envelope
or a receipt imported), never edited or deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange.auth.models import User
from exchange.db import new_uuid, utcnow
from exchange.extensions import db


class CarriedEnvelope(db.Model):  # type: ignore[name-defined]
    """One export of a queued message's envelope to a file, for carriage by hand."""

    __tablename__ = "carried_envelopes"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    msg_id: Mapped[str] = mapped_column(String(36), index=True)
    envelope: Mapped[bytes] = mapped_column(LargeBinary)  # the compact JWE, as exported
    envelope_sha256: Mapped[str] = mapped_column(String(64))
    exported_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class FederationAction(db.Model):  # type: ignore[name-defined]
    """A record of one administrative or carriage action of the federation area."""

    __tablename__ = "federation_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Nobody for the operator's command line, otherwise the signed-in user.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The actor's authority then (a user may move): who may see the record and its receipt.
    authority_code: Mapped[str] = mapped_column(String(40), default="")
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(300))  # a message id or a peer URL
    outcome: Mapped[str] = mapped_column(String(120), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    # The signed receipt an imported envelope was answered with, for carriage back.
    receipt: Mapped[bytes | None] = mapped_column(LargeBinary)

    actor: Mapped[User | None] = relationship()
