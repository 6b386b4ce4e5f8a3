"""Database-backed trust store and seen-message register, and the node's Envelopes for the app."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import IO, Any, cast

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from exchange.db import DbSession

from .at_rest import DataKeyRing, ensure_data_key, load_data_keys
from .envelope import Envelopes
from .keys import KeyStore
from .models import SeenMessage, TrustedKey
from .segments import SegmentReader, SegmentWriter
from .trust import TrustEntry

_UPSERT: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}

# Statements built once per process: every envelope opened, sealed or receipted resolves keys by
# kid and looks its id up, and building the same SELECT anew each time cost more than running it.
# Core rows, not ORM objects (nothing here is changed through the session); a statement run
# through the session flushes its pending changes first, as ``session.get`` found them.
_TRUSTED = TrustedKey.__table__
_TRUSTED_BY_KID = sa.select(_TRUSTED).where(_TRUSTED.c.kid == sa.bindparam("kid"))
_TRUSTED_OF = (
    sa.select(_TRUSTED)
    .where(_TRUSTED.c.authority_code == sa.bindparam("authority"))
    .order_by(_TRUSTED.c.added_at, _TRUSTED.c.kid)
)
_SEEN = SeenMessage.__table__
_RECEIPT_OF = sa.select(_SEEN.c.receipt).where(_SEEN.c.msg_id == sa.bindparam("msg_id"))


def _entry(row: Any) -> TrustEntry:
    return TrustEntry(
        authority=row.authority_code,
        kid=row.kid,
        use=row.key_use,
        jwk=json.loads(row.jwk_json),
        fingerprint=row.fingerprint,
        added_at=row.added_at,
        revoked_at=row.revoked_at,
        source=row.source,
    )


class DbTrustStore:
    """The trust store in the ``trusted_keys`` table (flushes, never commits)."""

    def __init__(self, session: DbSession) -> None:
        self.session = session

    def get(self, kid: str) -> TrustEntry | None:
        """Return the trusted key with this kid, if any."""
        row = self.session.execute(_TRUSTED_BY_KID, {"kid": kid}).first()
        return None if row is None else _entry(row)

    def for_authority(self, authority: str) -> list[TrustEntry]:
        """Return an authority's trusted keys, oldest first."""
        rows = self.session.execute(_TRUSTED_OF, {"authority": authority})
        return [_entry(r) for r in rows]

    def all(self) -> list[TrustEntry]:
        """Return every trusted key, by authority."""
        rows = self.session.scalars(
            sa.select(TrustedKey).order_by(TrustedKey.authority_code, TrustedKey.added_at)
        )
        return [_entry(r) for r in rows]

    def put(self, key: TrustEntry) -> None:
        """Add a key, or update its revocation date."""
        row = self.session.get(TrustedKey, key.kid)
        if row is None:
            row = TrustedKey(
                kid=key.kid,
                authority_code=key.authority,
                key_use=key.use,
                jwk_json=json.dumps(key.jwk, sort_keys=True),
                fingerprint=key.fingerprint,
                added_at=key.added_at,
                source=key.source,
            )
            self.session.add(row)
        row.revoked_at = key.revoked_at
        self.session.flush()


class DbSeenMessages:
    """The seen-message register in the ``seen_messages`` table (flushes, never commits)."""

    def __init__(self, session: DbSession) -> None:
        self.session = session

    def receipt_for(self, msg_id: str) -> bytes | None:
        """Return the receipt we gave for this message id, or None if never seen."""
        receipt: bytes | None = self.session.execute(_RECEIPT_OF, {"msg_id": msg_id}).scalar()
        return receipt

    def remember(self, msg_id: str, receipt: bytes, at: dt.datetime) -> bytes:
        """Record an accepted message id; if another worker won the race, return its receipt.

        On PostgreSQL and SQLite one ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (which waits
        for a concurrent insert of the same id to commit or roll back); elsewhere in a savepoint.
        """
        dialect = self.session.get_bind().dialect.name
        if dialect in _UPSERT:
            row = {"msg_id": msg_id, "first_seen_at": at, "receipt": receipt}
            # RETURNING tells whether the row went in (psycopg's rowcount is -1 here).
            inserted = self.session.execute(
                _UPSERT[dialect](SeenMessage.__table__)
                .values(**row)
                .on_conflict_do_nothing()
                .returning(SeenMessage.__table__.c.msg_id)
            )
            if inserted.first() is not None:
                return receipt
            kept = self.receipt_for(msg_id)
            if kept is None:
                raise RuntimeError(f"message {msg_id} neither inserted nor found")
            return kept
        try:
            with self.session.begin_nested():  # a savepoint: losing the race keeps our transaction
                self.session.add(SeenMessage(msg_id=msg_id, first_seen_at=at, receipt=receipt))
        except IntegrityError:
            kept = self.receipt_for(msg_id)
            if kept is None:
                raise
            return kept
        return receipt


def key_store(app: Flask | None = None) -> KeyStore:
    """Return the app's key store (one per app, so loaded keys stay cached)."""
    app = app or current_app
    store = app.extensions.get("exchange.keystore")
    if store is None:
        settings = app.config["EXCHANGE"]
        store = KeyStore(
            Path(settings.keys_dir), settings.passphrase, kdf_rounds=settings.key_kdf_rounds
        )
        app.extensions["exchange.keystore"] = store
    return store


def node_envelopes(session: DbSession) -> Envelopes:
    """Return the node's envelope façade over the app's key store and this session's tables."""
    return Envelopes(key_store(), DbTrustStore(session), DbSeenMessages(session))


def node_data_keys(app: Flask | None = None, *, create: bool = True) -> DataKeyRing:
    """Return the node's data keys, created under keys/ on first use unless ``create`` is off.

    Only encryption creates them: a key made while reading could never decrypt what is stored,
    and would leave a stray ``data-keys.json`` wherever a command ran with the wrong key store.
    """
    app = app or current_app
    ring = app.extensions.get("exchange.data_keys")
    if ring is None:
        settings = app.config["EXCHANGE"]
        keys_dir = Path(settings.keys_dir)
        if create:
            ring = ensure_data_key(keys_dir, settings.passphrase)
        else:
            ring = load_data_keys(keys_dir, settings.passphrase)
        app.extensions["exchange.data_keys"] = ring
    return ring


def sign_jws(authority: str, claims: Mapping[str, Any], *, typ: str = "JWT") -> str:
    """Sign claims as a compact JWS with a hosted authority's key (e.g. the node descriptor)."""
    from exchange.extensions import db

    return node_envelopes(db.session).sign_jws(authority, claims, typ=typ)


def verify_jws(
    token: str | bytes, allowed_issuers: Collection[str], *, typ: str | None = None
) -> dict[str, Any]:
    """Verify a compact JWS from one of ``allowed_issuers`` against the trust store."""
    from exchange.extensions import db

    return node_envelopes(db.session).verify_jws(token, allowed_issuers, typ=typ)


def encrypt_field(plaintext: str, *, context: str) -> str:
    """Encrypt a sensitive text field with this app's data key (``context`` as associated data)."""
    return node_data_keys().encrypt_field(plaintext, context=context)


def decrypt_field(token: str, *, context: str) -> str:
    """Decrypt a field made by :func:`encrypt_field` with the same ``context``."""
    return node_data_keys(create=False).decrypt_field(token, context=context)


def encrypt_file(src: IO[bytes], dst: IO[bytes], *, context: str) -> tuple[int, str]:
    """Stream-encrypt a stored file with this app's data key; return its size and SHA-256."""
    return node_data_keys().encrypt_file(src, dst, context=context)


def decrypt_file(src: IO[bytes], dst: IO[bytes], *, context: str) -> tuple[int, str]:
    """Stream-decrypt a file made by :func:`encrypt_file`; return its size and SHA-256."""
    return node_data_keys(create=False).decrypt_file(src, dst, context=context)


def file_writer(dst: IO[bytes], *, context: str) -> SegmentWriter:
    """Start a file like :func:`encrypt_file` whose plaintext arrives in pieces (``write``)."""
    return node_data_keys().file_writer(dst, context=context)


def open_file(src: IO[bytes], *, context: str) -> IO[bytes]:
    """Return a seekable, decrypting view of a file made by :func:`encrypt_file`."""
    view: SegmentReader = node_data_keys(create=False).open_file(src, context=context)
    return cast(IO[bytes], view)
