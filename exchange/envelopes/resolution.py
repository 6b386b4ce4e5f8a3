"""The keys of an envelope façade: which of our keys signs, which trusted key opens or
receives. Keys are resolved by ``kid`` from our own trust store only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from .errors import (
    AlgorithmNotAllowed,
    UnknownKey,
    UnknownSenderKey,
    WrongSenderKey,
)
from .jwk import key_from_jwk
from .keys import KeyStore, check_authority, utcnow
from .trust import SeenMessages, TrustEntry, TrustStore
from .wire import (
    MAX_ATTACHMENT_BYTES,
    MAX_ENVELOPE_BYTES,
)


class EnvelopeKeys:
    """The key and trust stores of one node, and how a key is chosen from them."""

    def __init__(
        self,
        keys: KeyStore,
        trust: TrustStore,
        seen: SeenMessages | None = None,
        *,
        max_envelope_bytes: int = MAX_ENVELOPE_BYTES,
        max_attachment_bytes: int = MAX_ATTACHMENT_BYTES,
        prefer_pq: bool = True,
    ) -> None:
        self.keys = keys
        self.trust = trust
        self.seen = seen
        self.max_envelope_bytes = max_envelope_bytes
        self.max_attachment_bytes = max_attachment_bytes
        self.prefer_pq = prefer_pq
        self._public: dict[str, tuple[str, Any]] = {}

    # -- key resolution (our trust store only, by kid) --------------------------------------

    def _public_key(self, trusted: TrustEntry) -> Any:
        cached = self._public.get(trusted.kid)
        if cached is None or cached[0] != trusted.authority:
            cached = (trusted.authority, key_from_jwk(trusted.jwk))
            self._public[trusted.kid] = cached
        return cached[1]

    def _genuine(self, trusted: TrustEntry) -> bool:
        # A trusted key of an authority hosted here must be in our key store: one imported for
        # it (before imports refused that, finding 9) would let its holder sign as our authority,
        # or read what we encrypt to it.
        if not self.keys.hosts(trusted.authority):
            return True
        try:
            return self.keys.info(trusted.kid).authority == trusted.authority
        except UnknownKey:
            return False

    def _sender_key(
        self, kid: str, allowed_issuers: Collection[str] | None, now: dt.datetime
    ) -> TrustEntry:
        trusted = self.trust.get(kid)
        if trusted is None:
            raise UnknownSenderKey(f"signing key {kid} is not in our trust store")
        if not self._genuine(trusted):
            raise WrongSenderKey(
                f"key {kid} claims {trusted.authority}, hosted here, but is not ours"
            )
        if trusted.use != "sig" or trusted.jwk.get("crv") != "Ed25519":
            raise AlgorithmNotAllowed(f"key {kid} is not an Ed25519 signing key")
        trusted.check_usable(now)
        if allowed_issuers is not None and trusted.authority not in allowed_issuers:
            raise WrongSenderKey(f"key {kid} belongs to {trusted.authority}, not an allowed issuer")
        return trusted

    def recipient_key(self, recipient: str, now: dt.datetime | None = None) -> TrustEntry:
        """Choose the key to encrypt to: the newest usable hybrid key if preferred, else X25519."""
        now = now or utcnow()
        usable = [
            k
            for k in self.trust.for_authority(check_authority(recipient))
            if k.use == "enc" and (k.revoked_at is None or k.revoked_at > now) and self._genuine(k)
        ]
        pq = [k for k in usable if k.jwk.get("kty") == "AKP"]
        classic = [k for k in usable if k.jwk.get("crv") == "X25519"]
        chosen = (pq if self.prefer_pq and pq else classic) or pq
        if not chosen:
            raise UnknownKey(f"no trusted encryption key for {recipient}")
        return chosen[-1]
