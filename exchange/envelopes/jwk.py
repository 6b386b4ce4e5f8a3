"""Public JWKs of our key types and their RFC 7638 thumbprints."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mlkem, x25519

from ._jose import HPKE_ALG, JWE_ALG, b64d, b64e
from .errors import AlgorithmNotAllowed, MalformedEnvelope

PublicKey = (
    ed25519.Ed25519PublicKey
    | x25519.X25519PublicKey
    | ec.EllipticCurvePublicKey
    | hpke.MLKEM768X25519PublicKey
)

MLKEM768_PUBLIC_LEN = 1184

# RFC 7638 §3.2: the required members of each key type, in lexicographic order. AKP (the
# "algorithm key pair" type of draft-ietf-cose-dilithium) carries our hybrid KEM key.
_REQUIRED = {
    "OKP": ("crv", "kty", "x"),
    "EC": ("crv", "kty", "x", "y"),
    "AKP": ("alg", "kty", "pub"),
}


def _thumbprint_digest(jwk: dict[str, Any]) -> bytes:
    required = _REQUIRED.get(jwk.get("kty", ""))
    if required is None or any(not isinstance(jwk.get(m), str) for m in required):
        raise MalformedEnvelope("JWK lacks the members of a supported key type")
    canonical = json.dumps({m: jwk[m] for m in required}, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).digest()


def thumbprint(jwk: dict[str, Any]) -> str:
    """Return the RFC 7638 SHA-256 thumbprint of a JWK, base64url: our key id."""
    return b64e(_thumbprint_digest(jwk))


def fingerprint(jwk: dict[str, Any]) -> str:
    """Return the same digest as colon-separated hex, for reading aloud between officers."""
    return ":".join(f"{b:02X}" for b in _thumbprint_digest(jwk))


def hybrid_public_bytes(mlkem_pub: mlkem.MLKEM768PublicKey, x_pub: x25519.X25519PublicKey) -> bytes:
    """Encode a hybrid public key as ML-KEM-768 public key || X25519 public key (X-Wing order)."""
    return mlkem_pub.public_bytes_raw() + x_pub.public_bytes_raw()


def public_jwk(key: Any, *, use: str, hybrid_raw: bytes | None = None) -> dict[str, Any]:
    """Build the public JWK (with kid, use, alg) of one of our keys."""
    jwk: dict[str, Any]
    if isinstance(key, ed25519.Ed25519PublicKey):  # RFC 8037 §2
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64e(key.public_bytes_raw()), "alg": "EdDSA"}
    elif isinstance(key, x25519.X25519PublicKey):
        jwk = {"kty": "OKP", "crv": "X25519", "x": b64e(key.public_bytes_raw()), "alg": JWE_ALG}
    elif isinstance(key, ec.EllipticCurvePublicKey):  # RFC 7518 §6.2.1
        numbers = key.public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64e(numbers.x.to_bytes(32, "big")),
            "y": b64e(numbers.y.to_bytes(32, "big")),
            "alg": "ES256",
        }
    elif hybrid_raw is not None:
        jwk = {"kty": "AKP", "alg": HPKE_ALG, "pub": b64e(hybrid_raw)}
    else:
        raise AlgorithmNotAllowed(f"no JWK form for {type(key).__name__}")
    jwk["use"] = use
    jwk["kid"] = thumbprint(jwk)
    return jwk


def key_from_jwk(jwk: dict[str, Any]) -> PublicKey:
    """Load the public key of a JWK, refusing any type outside wire format v1."""
    kty, crv = jwk.get("kty"), jwk.get("crv")
    try:
        if kty == "OKP" and crv == "Ed25519":
            return ed25519.Ed25519PublicKey.from_public_bytes(b64d(jwk["x"]))
        if kty == "OKP" and crv == "X25519":
            return x25519.X25519PublicKey.from_public_bytes(b64d(jwk["x"]))
        if kty == "EC" and crv == "P-256":
            return ec.EllipticCurvePublicNumbers(
                int.from_bytes(b64d(jwk["x"]), "big"),
                int.from_bytes(b64d(jwk["y"]), "big"),
                ec.SECP256R1(),
            ).public_key()
        if kty == "AKP" and jwk.get("alg") == HPKE_ALG:
            raw = b64d(jwk["pub"])
            return hpke.MLKEM768X25519PublicKey(
                mlkem.MLKEM768PublicKey.from_public_bytes(raw[:MLKEM768_PUBLIC_LEN]),
                x25519.X25519PublicKey.from_public_bytes(raw[MLKEM768_PUBLIC_LEN:]),
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedEnvelope("JWK key material is invalid") from exc
    raise AlgorithmNotAllowed(f"key type {kty}/{crv or jwk.get('alg')} is not allowed")


def pem_public(key: ec.EllipticCurvePublicKey) -> bytes:
    """Serialize a public key as SubjectPublicKeyInfo PEM."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
