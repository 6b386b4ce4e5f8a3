"""Trust store of public keys (foreign authorities' and our own) and the seen-message register."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ._jose import HPKE_ALG
from .errors import AlgorithmNotAllowed, KeyStoreError, MalformedEnvelope, RevokedKey, UnknownKey
from .jwk import fingerprint, key_from_jwk, thumbprint
from .keys import KeyStore, check_authority, utcnow

_PUBLIC_MEMBERS = ("kty", "crv", "x", "y", "alg", "pub", "use", "kid")


@dataclass(frozen=True)
class TrustEntry:
    """A public key we trust for one authority, from a date, until an optional revocation."""

    authority: str
    kid: str
    use: str  # sig | enc
    jwk: dict[str, Any]
    fingerprint: str
    added_at: dt.datetime
    revoked_at: dt.datetime | None = None
    source: str = "import"

    def check_usable(self, now: dt.datetime) -> None:
        """Raise RevokedKey if the key is revoked at ``now``."""
        if self.revoked_at is not None and self.revoked_at <= now:
            raise RevokedKey(
                f"key {self.kid} of {self.authority} is revoked since {self.revoked_at.isoformat()}"
            )


class TrustStore(Protocol):
    """Where keys are resolved by kid: the only source of keys we verify with or encrypt to."""

    def get(self, kid: str) -> TrustEntry | None:
        """Return the trusted key with this kid, if any."""

    def for_authority(self, authority: str) -> list[TrustEntry]:
        """Return an authority's trusted keys, oldest first."""

    def put(self, key: TrustEntry) -> None:
        """Add a key, or update its revocation date."""


class SeenMessages(Protocol):
    """The register of accepted message ids and the receipts we answered with, kept for good."""

    def receipt_for(self, msg_id: str) -> bytes | None:
        """Return the receipt we gave for this message id, or None if never seen."""

    def remember(self, msg_id: str, receipt: bytes, at: dt.datetime) -> bytes:
        """Record an accepted message id and receipt; return the receipt kept (the first one)."""


class MemoryTrustStore:
    """A trust store in a dict (unit tests, command-line use without a database)."""

    def __init__(self) -> None:
        self._keys: dict[str, TrustEntry] = {}

    def get(self, kid: str) -> TrustEntry | None:
        """Return the trusted key with this kid, if any."""
        return self._keys.get(kid)

    def for_authority(self, authority: str) -> list[TrustEntry]:
        """Return an authority's trusted keys, oldest first."""
        return sorted(
            (k for k in self._keys.values() if k.authority == authority),
            key=lambda k: (k.added_at, k.kid),
        )

    def put(self, key: TrustEntry) -> None:
        """Add a key, or update its revocation date."""
        self._keys[key.kid] = key


class MemorySeenMessages:
    """A seen-message register in a dict (unit tests)."""

    def __init__(self) -> None:
        self._seen: dict[str, bytes] = {}

    def receipt_for(self, msg_id: str) -> bytes | None:
        """Return the receipt we gave for this message id, or None if never seen."""
        return self._seen.get(msg_id)

    def remember(self, msg_id: str, receipt: bytes, at: dt.datetime) -> bytes:
        """Record an accepted message id and receipt; return the receipt kept (the first one)."""
        return self._seen.setdefault(msg_id, receipt)


def parse_instant(text: Any, what: str) -> dt.datetime:
    """Read an ISO 8601 date-time that names its time zone; refuse anything else."""
    try:
        when = (
            dt.datetime.fromisoformat(text) if isinstance(text, str) and len(text) <= 64 else None
        )
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise MalformedEnvelope(f"{what} must be an ISO 8601 date-time with a time zone")
    return when


def _check_use(jwk: dict[str, Any], use: str) -> None:
    # Wire format v1: Ed25519 signs (RFC 8037 §3.1); X25519 (RFC 8037 §3.2) and the ML-KEM-768 +
    # X25519 hybrid (RFC 9180) encrypt. A key trusted for the other use is refused (finding 9).
    kty, crv, alg = jwk.get("kty"), jwk.get("crv"), jwk.get("alg")
    if use == "sig":
        fits = kty == "OKP" and crv == "Ed25519" and alg in (None, "EdDSA", "Ed25519")
    else:
        fits = (kty == "OKP" and crv == "X25519" and alg in (None, "ECDH-ES+A256KW")) or (
            kty == "AKP" and alg == HPKE_ALG
        )
    if not fits:
        raise AlgorithmNotAllowed(f"a {kty} {crv or alg} key cannot be trusted for use {use!r}")


def trusted_key(
    authority: str, jwk: dict[str, Any], *, source: str, now: dt.datetime | None = None
) -> TrustEntry:
    """Check a public JWK (type fits its use, kid = RFC 7638 thumbprint) and wrap it."""
    check_authority(authority)
    if "d" in jwk:
        raise KeyStoreError("refusing a JWK that contains private key material")
    use = jwk.get("use")
    if use not in ("sig", "enc"):
        raise MalformedEnvelope("JWK use must be 'sig' or 'enc'")
    key_from_jwk(jwk)  # refuses key types outside wire format v1, and bad key material
    _check_use(jwk, use)
    kid = thumbprint(jwk)
    if jwk.get("kid", kid) != kid:
        raise MalformedEnvelope(f"JWK kid {jwk.get('kid')!r} is not its RFC 7638 thumbprint {kid}")
    revoked = jwk.get("revoked_at")
    clean = {m: jwk[m] for m in _PUBLIC_MEMBERS if m in jwk} | {"kid": kid}
    return TrustEntry(
        authority=authority,
        kid=kid,
        use=use,
        jwk=clean,
        fingerprint=fingerprint(jwk),
        added_at=now or dt.datetime.now(dt.UTC),
        revoked_at=None if revoked is None else parse_instant(revoked, f"revoked_at of {kid}"),
        source=source,
    )


def import_jwks(
    store: TrustStore,
    jwks: dict[str, Any],
    *,
    hosted: Collection[str],
    authority: str | None = None,
    source: str = "import",
    now: dt.datetime | None = None,
) -> list[TrustEntry]:
    """Import a peer authority's public JWK Set (RFC 7517 §5); re-imports add revocations.

    ``hosted`` are the authorities of this node: their keys come from our key store only
    (:func:`local_trust`), never from a file, or anyone could sign as them (finding 9).
    """
    named = jwks.get("authority")
    code = authority or named
    if not isinstance(code, str) or not isinstance(jwks.get("keys"), list):
        raise MalformedEnvelope("a JWK Set needs 'keys' and an 'authority' (or pass the authority)")
    if authority is not None and named is not None and named != authority:
        raise MalformedEnvelope(f"the JWK Set is for {named!r}, not for {authority}")
    if check_authority(code) in hosted:
        raise KeyStoreError(
            f"{code} is hosted on this node: its keys come from our key store, never an import"
        )
    return _put_keys(store, code, jwks["keys"], source, now)


def local_trust(keys: KeyStore, trust: TrustStore, authority: str) -> list[TrustEntry]:
    """Add our own authority's public keys to the trust store (hosted authorities talk too)."""
    return _put_keys(trust, authority, keys.public_jwks(authority)["keys"], "local", None)


def _put_keys(
    store: TrustStore, code: str, jwks: list[Any], source: str, now: dt.datetime | None
) -> list[TrustEntry]:
    imported = []
    for jwk in jwks:
        if not isinstance(jwk, dict):
            raise MalformedEnvelope("a JWK Set member is not an object")
        new = trusted_key(code, jwk, source=source, now=now)
        old = store.get(new.kid)
        if old is not None:
            if old.authority != code:
                raise KeyStoreError(f"key {new.kid} is already trusted for {old.authority}")
            if new.revoked_at is None or old.revoked_at is not None:
                continue
            new = replace(old, revoked_at=new.revoked_at)
        store.put(new)
        imported.append(new)
    return imported


def revoke(store: TrustStore, kid: str, at: dt.datetime | None = None) -> TrustEntry:
    """Mark a trusted key as no longer trusted from a date."""
    key = store.get(kid)
    if key is None:
        raise UnknownKey(f"no trusted key {kid}")
    key = replace(key, revoked_at=at or utcnow())
    store.put(key)
    return key
