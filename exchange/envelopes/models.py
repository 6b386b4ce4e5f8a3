"""Tables of the envelope layer: the trust store and the register of seen message ids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.db import utcnow
from exchange.extensions import db


class TrustedKey(db.Model):  # type: ignore[name-defined]
    """A public key we trust for an authority (a peer's, or one of our own), by its RFC 7638 kid."""

    __tablename__ = "trusted_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Not a foreign key: a peer's JWK Set may name an authority before the directory lists it.
    authority_code: Mapped[str] = mapped_column(String(40), index=True)
    key_use: Mapped[str] = mapped_column(String(8))  # sig | enc
    jwk_json: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    source: Mapped[str] = mapped_column(String(40))  # local | import | peer:<url>


class SeenMessage(db.Model):  # type: ignore[name-defined]
    """A message id we accepted, kept for good, with our receipt (AS4 duplicate detection)."""

    __tablename__ = "seen_messages"

    msg_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    receipt: Mapped[bytes] = mapped_column(LargeBinary)
