"""The node's own identity: an Ed25519 key that signs the node descriptor, kept in the key store.

Layout, beside the authorities' folders (``keys/node/`` has no ``keys.json``, so it is never
taken for an authority)::

    keys/node/node-keys.json      public index: kid, status, dates, public JWK
    keys/node/<kid>.key.pem       the Ed25519 private key, PKCS#8 encrypted under the passphrase

A peer trusts a node the first time by the fingerprint of its signing key (the RFC 7638
thumbprint as colon-separated hex, read out by telephone), and from then on only descriptors
signed by a node key it already had: a rotated key is announced by a descriptor that the previous
key signs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from . import _jose
from .errors import KeyStoreError, MalformedEnvelope, RevokedKey, UnknownSenderKey
from .jwk import fingerprint, key_from_jwk, public_jwk, thumbprint
from .keys import utcnow

NODE_JWS_TYP = "exchange-node+jwt"  # explicit typing (RFC 8725 §3.11): not a message, not a receipt
INDEX = "node-keys.json"


def normalise_fingerprint(text: str) -> str:
    """Return a fingerprint as upper-case colon-separated hex, however it was typed."""
    digits = "".join(c for c in text.upper() if c in "0123456789ABCDEF")
    if len(digits) != 64:
        raise MalformedEnvelope("a fingerprint is 32 bytes of hexadecimal (SHA-256)")
    return ":".join(digits[i : i + 2] for i in range(0, 64, 2))


class NodeKey:
    """The node's signing keys in ``keys/node/``: the active one signs, retired ones are listed."""

    def __init__(self, root: Path | str, passphrase: bytes | str) -> None:
        self.folder = Path(root) / "node"
        self.passphrase = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
        if not self.passphrase:
            raise KeyStoreError("the key passphrase is empty")

    def index(self) -> list[dict[str, Any]]:
        """Return the index of node keys (kid, status, dates, public JWK), oldest first."""
        path = self.folder / INDEX
        if not path.is_file():
            return []
        rows: list[dict[str, Any]] = json.loads(path.read_text("utf-8"))
        return rows

    def _save(self, rows: list[dict[str, Any]]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.folder / (INDEX + ".tmp")
        tmp.write_text(json.dumps(rows, indent=2), "utf-8")
        os.replace(tmp, self.folder / INDEX)

    def ensure(self, now: dt.datetime | None = None) -> dict[str, Any]:
        """Return the active node key's index entry, creating the first key if there is none."""
        for row in reversed(self.index()):
            if row["status"] == "active":
                return row
        return self.rotate(now)

    def rotate(self, now: dt.datetime | None = None) -> dict[str, Any]:
        """Create a new active node key; the previous one is retired (still listed to peers)."""
        now = now or utcnow()
        key = ed25519.Ed25519PrivateKey.generate()
        jwk = public_jwk(key.public_key(), use="sig")
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self.passphrase),
        )
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(
            self.folder / f"{jwk['kid']}.key.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
        )
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        rows = [dict(r, status="retired") for r in self.index()]
        row = {"kid": jwk["kid"], "status": "active", "created_at": now.isoformat(), "jwk": jwk}
        self._save([*rows, row])
        return row

    def fingerprint(self) -> str:
        """Return the fingerprint of the active node key (what peers compare out of band)."""
        return fingerprint(self.ensure()["jwk"])

    def public_jwks(self) -> dict[str, Any]:
        """Return every node signing key, active and retired, as a JWK Set (RFC 7517 §5)."""
        self.ensure()
        keys = []
        for row in self.index():
            jwk = dict(row["jwk"])
            if row.get("revoked_at"):
                jwk["revoked_at"] = row["revoked_at"]
            keys.append(jwk)
        return {"keys": keys}

    def sign(self, claims: Mapping[str, Any]) -> str:
        """Sign claims as a compact JWS (typ ``exchange-node+jwt``) with the active node key."""
        row = self.ensure()
        path = self.folder / f"{row['kid']}.key.pem"
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), self.passphrase)
        except (ValueError, TypeError, FileNotFoundError) as exc:
            raise KeyStoreError("cannot load the node signing key") from exc
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise KeyStoreError("the node signing key is not Ed25519")
        header = {"alg": "EdDSA", "kid": row["kid"], "typ": NODE_JWS_TYP}
        return _jose.jws_sign(header, _jose.json_bytes(dict(claims)), key)


def node_token_kid(token: str | bytes) -> str:
    """Return the kid that signed a node descriptor, checking its header (alg, typ, no key)."""
    header, _ = _jose.jws_parse(token)
    if header.get("typ") != NODE_JWS_TYP:
        raise MalformedEnvelope("token is not a node descriptor")
    kid: str = header["kid"]
    return kid


def verify_node_token(
    token: str | bytes, trusted: Collection[Mapping[str, Any]], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Verify a node descriptor against the node keys ``trusted`` (public JWKs); return its claims.

    The signing key is looked up by kid among ``trusted`` only (never from the token itself),
    must be an Ed25519 key whose kid is its RFC 7638 thumbprint, and not revoked.
    """
    now = now or utcnow()
    header, parts = _jose.jws_parse(token)
    if header.get("typ") != NODE_JWS_TYP:
        raise MalformedEnvelope("token is not a node descriptor")
    jwk = next((dict(k) for k in trusted if k.get("kid") == header["kid"]), None)
    if jwk is None:
        raise UnknownSenderKey(f"node key {header['kid']} is not one we trust for this peer")
    if jwk.get("crv") != "Ed25519" or thumbprint(jwk) != header["kid"]:
        raise MalformedEnvelope("node key is not an Ed25519 key named by its thumbprint")
    revoked = jwk.get("revoked_at")
    if isinstance(revoked, str) and dt.datetime.fromisoformat(revoked) <= now:
        raise RevokedKey(f"node key {header['kid']} is revoked since {revoked}")
    public = key_from_jwk({k: v for k, v in jwk.items() if k != "revoked_at"})
    if not isinstance(public, ed25519.Ed25519PublicKey):
        raise MalformedEnvelope("node key is not Ed25519")
    claims = _jose.json_object(_jose.jws_verify(parts, public), "node descriptor")
    return claims


def unverified_node_claims(token: str | bytes) -> dict[str, Any]:
    """Read a node descriptor's claims without verifying them, to find the key it announces.

    Only for first contact, where the key that verifies the descriptor is the announced key
    whose fingerprint the administrator typed; nothing read here is trusted otherwise.
    """
    node_token_kid(token)
    parts = _jose.split_compact(token, 3, "JWS")
    return _jose.json_object(_jose.b64d(parts[1]), "node descriptor")
