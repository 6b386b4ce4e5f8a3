"""Compact JWS and JWE, written directly on ``cryptography`` (private to the façade).

Only the algorithms of wire format v1 exist here: JWS ``EdDSA`` over Ed25519 (RFC 7515, RFC 8037),
JWE ``ECDH-ES+A256KW`` / ``A256GCM`` over X25519 (RFC 7516, RFC 7518 §4.6, RFC 8037 §3.2), and the
HPKE suite (RFC 9180) in the same five-part compact shape. Conformance is proved by the interop
tests against jwcrypto and joserfc.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import json
import os
import struct
from collections.abc import Collection, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from .errors import (
    AlgorithmNotAllowed,
    BadSignature,
    DecryptionFailed,
    ForbiddenHeaderParameter,
    MalformedEnvelope,
    TruncatedEnvelope,
)
from .json_input import MAX_DEPTH, parse_object

JWS_ALGS = frozenset(
    {"EdDSA", "Ed25519"}
)  # RFC 8037 §3.1; "Ed25519" is RFC 9864's fully-specified name
JWE_ALG = "ECDH-ES+A256KW"
JWE_ENC = "A256GCM"
HPKE_ALG = "HPKE-MLKEM768X25519-SHA256-A256GCM"
HPKE_SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
HPKE_ENC_LEN = hpke.KEM.MLKEM768_X25519.enc_length()

# A key carried in a header is never trusted (DESIGN.md); RFC 7515 §4.1.11 lets us refuse any
# "crit" extension we do not understand (we understand none), and compression ("zip", RFC 7516
# §4.1.3) is refused as an oracle for chosen-plaintext attacks.
FORBIDDEN_HEADER = frozenset({"jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "zip"})

# A protected header is bounded before it is decoded (finding 8): ours are about 500 characters.
MAX_HEADER_CHARS = 4096
# A header is one object; only "epk" nests another inside it (RFC 7518 §4.6.1.1).
MAX_HEADER_DEPTH = 2
# The members we read, each a string of bounded length; others are ignored (RFC 7515 §4).
_HEADER_STRINGS = {
    "alg": 64,
    "enc": 64,
    "kid": 128,
    "typ": 128,
    "cty": 128,
    "msg_id": 64,
    "iss": 128,
    "aud": 128,
    "apu": 512,  # RFC 7518 §4.6.1.2, base64url
    "apv": 512,  # RFC 7518 §4.6.1.3, base64url
}
_EPK_MEMBERS = {"kty": 8, "crv": 16, "x": 64}


_TO_STD = bytes.maketrans(b"-_", b"+/")
_TO_URL = bytes.maketrans(b"+/", b"-_")
_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Unused trailing bits must be zero (RFC 4648 §3.5), or one message has several spellings:
# after 2 characters of a final group 4 bits are unused, after 3 characters 2 bits.
_UNUSED_BITS = {2: 0b1111, 3: 0b11}


def b64e(data: bytes) -> str:
    """Encode base64url without padding (RFC 7515 §2)."""
    return binascii.b2a_base64(data, newline=False).translate(_TO_URL).rstrip(b"=").decode("ascii")


def b64d(text: str | bytes) -> bytes:
    """Decode canonical base64url without padding; refuse any other spelling or type."""
    if isinstance(text, str):
        if not text.isascii():
            raise MalformedEnvelope("base64url contains non-ASCII characters")
        raw = text.encode("ascii")
    elif isinstance(text, bytes | bytearray | memoryview):
        raw = bytes(text)
    else:  # never bytes(n): an integer n would allocate n zero bytes (finding 8)
        raise MalformedEnvelope("base64url value is not a string")
    if raw.translate(None, _B64_ALPHABET):  # anything left is outside the alphabet (or "=")
        raise MalformedEnvelope("base64url with padding or characters outside its alphabet")
    rest = len(raw) % 4
    if rest == 1:
        raise MalformedEnvelope("invalid base64url length")
    if rest and _B64_ALPHABET.find(raw[-1:]) & _UNUSED_BITS[rest]:
        raise MalformedEnvelope("non-canonical base64url")
    try:
        return binascii.a2b_base64(raw.translate(_TO_STD) + b"=" * (-rest % 4), strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedEnvelope("invalid base64url") from exc


_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def json_bytes(obj: Mapping[str, Any]) -> bytes:
    """Serialize compact UTF-8 JSON."""
    return _JSON.encode(obj).encode("utf-8")


def json_object(
    data: bytes, what: str, *, unique: bool = True, max_depth: int = MAX_DEPTH
) -> dict[str, Any]:
    """Parse a JSON object (bounded nesting), refusing non-objects and (if ``unique``) duplicates.

    Headers reject duplicate names (RFC 7515 §4 / RFC 7516 §4); for claims RFC 7519 §4 allows a
    parser that keeps the lexically last one. The size is the caller's bound (envelope, token).
    """
    return parse_object(data, what, max_bytes=len(data), max_depth=max_depth, unique=unique)


def check_header(header: Mapping[str, Any]) -> None:
    """Refuse headers that carry keys, critical extensions or compression, or ill-typed members."""
    bad = FORBIDDEN_HEADER.intersection(header)
    if bad:
        raise ForbiddenHeaderParameter(f"header parameter {sorted(bad)[0]!r} is not accepted")
    for name, limit in _HEADER_STRINGS.items():
        value = header.get(name)
        if value is not None and not (isinstance(value, str) and len(value) <= limit):
            raise MalformedEnvelope(
                f"header {name!r} is not a string of at most {limit} characters"
            )
    for name in ("apu", "apv"):
        if name in header:
            b64d(header[name])  # canonical base64url, checked before any key agreement
    if "epk" in header:
        epk = header["epk"]
        if not isinstance(epk, dict) or any(
            not (isinstance(epk.get(m), str) and len(epk[m]) <= limit)
            for m, limit in _EPK_MEMBERS.items()
        ):
            raise MalformedEnvelope("header 'epk' is not a public key of the expected shape")


def split_compact(token: str | bytes, parts: int, what: str) -> list[str]:
    """Split a compact serialization into its parts; nothing may surround it."""
    text = token.decode("latin-1") if isinstance(token, bytes | bytearray) else token
    if not text.isascii():
        raise MalformedEnvelope(f"{what} contains non-ASCII characters")
    # One envelope has one spelling and one SHA-256, which receipts quote: no whitespace around.
    if text[:1].isspace() or text[-1:].isspace():
        raise MalformedEnvelope(f"{what} has whitespace before or after it")
    pieces = text.split(".", parts)  # at most parts + 1 pieces, however many dots there are
    if len(pieces) == 1:
        raise MalformedEnvelope(f"not a {what} compact serialization")
    if len(pieces) < parts:
        raise TruncatedEnvelope(f"{what} has {len(pieces)} parts, expected {parts}")
    if len(pieces) > parts:
        raise MalformedEnvelope(f"{what} has more than {parts} parts")
    return pieces


def read_protected(b64_header: str, what: str) -> dict[str, Any]:
    """Decode and check a protected header, bounded in length and nesting before decoding."""
    if len(b64_header) > MAX_HEADER_CHARS:
        raise MalformedEnvelope(f"{what} header is longer than {MAX_HEADER_CHARS} characters")
    header = json_object(b64d(b64_header), f"{what} header", max_depth=MAX_HEADER_DEPTH)
    check_header(header)
    return header


# --- JWS (RFC 7515 §7.1 compact serialization) ---------------------------------------------


@functools.lru_cache(maxsize=256)
def _encoded_jws_header(alg: str, kid: str, typ: str) -> str:
    return b64e(json_bytes({"alg": alg, "kid": kid, "typ": typ}))


def jws_sign(header: Mapping[str, Any], payload: bytes, key: ed25519.Ed25519PrivateKey) -> str:
    """Sign a payload as a compact JWS with Ed25519."""
    if header.keys() == {"alg", "kid", "typ"}:  # our own headers: encode once per key and type
        encoded = _encoded_jws_header(header["alg"], header["kid"], header["typ"])
    else:
        encoded = b64e(json_bytes(header))
    signing_input = encoded + "." + b64e(payload)
    return signing_input + "." + b64e(key.sign(signing_input.encode("ascii")))


def jws_parse(token: str | bytes) -> tuple[dict[str, Any], list[str]]:
    """Split a compact JWS and decode its protected header."""
    parts = split_compact(token, 3, "JWS")
    header = read_protected(parts[0], "JWS")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in JWS_ALGS:
        raise AlgorithmNotAllowed(f"JWS alg {alg!r} is not allowed")
    if not isinstance(header.get("kid"), str):
        raise MalformedEnvelope("JWS header has no kid")
    return header, parts


def jws_verify(parts: list[str], key: ed25519.Ed25519PublicKey) -> bytes:
    """Verify a parsed compact JWS and return its payload bytes."""
    signature = b64d(parts[2])
    if len(signature) != 64:  # RFC 8032 §5.1.6
        raise BadSignature("Ed25519 signature has the wrong length")
    try:
        key.verify(signature, (parts[0] + "." + parts[1]).encode("ascii"))
    except InvalidSignature as exc:
        raise BadSignature("signature does not verify") from exc
    return b64d(parts[1])


# --- JWE ECDH-ES+A256KW / A256GCM (RFC 7516 §7.1, RFC 7518 §4.6 and §5.3) -------------------


def _len_prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def concat_kdf(z: bytes, alg: str, apu: bytes = b"", apv: bytes = b"") -> bytes:
    """Derive the 256-bit key-wrapping key with the Concat KDF of RFC 7518 §4.6.2."""
    other_info = (
        _len_prefixed(alg.encode("ascii"))
        + _len_prefixed(apu)
        + _len_prefixed(apv)
        + struct.pack(">I", 256)  # SuppPubInfo: keydatalen in bits
    )
    # One SHA-256 round gives the 256 bits needed (NIST SP 800-56A §5.8.1, counter = 1).
    return hashlib.sha256(b"\x00\x00\x00\x01" + z + other_info).digest()


def jwe_encrypt(header: dict[str, Any], plaintext: bytes, recipient: x25519.X25519PublicKey) -> str:
    """Encrypt to an X25519 key as a compact JWE (ECDH-ES+A256KW, A256GCM)."""
    ephemeral = x25519.X25519PrivateKey.generate()
    z = ephemeral.exchange(recipient)
    epk = b64e(ephemeral.public_key().public_bytes_raw())
    header = {
        **header,
        "alg": JWE_ALG,
        "enc": JWE_ENC,
        "epk": {"kty": "OKP", "crv": "X25519", "x": epk},
    }
    cek = os.urandom(32)
    wrapped = aes_key_wrap(concat_kdf(z, JWE_ALG), cek)
    b64_header = b64e(json_bytes(header))
    iv = os.urandom(12)
    sealed = AESGCM(cek).encrypt(iv, plaintext, b64_header.encode("ascii"))  # RFC 7516 §5.1 step 14
    return ".".join((b64_header, b64e(wrapped), b64e(iv), b64e(sealed[:-16]), b64e(sealed[-16:])))


def jwe_parse(
    token: str | bytes, allowed_algs: Collection[str]
) -> tuple[dict[str, Any], list[str]]:
    """Split a compact JWE, decode its protected header and check its algorithms."""
    parts = split_compact(token, 5, "JWE")
    header = read_protected(parts[0], "JWE")
    alg = header.get("alg")
    if alg not in allowed_algs:
        raise AlgorithmNotAllowed(f"JWE alg {alg!r} is not allowed")
    if alg == JWE_ALG and header.get("enc") != JWE_ENC:
        raise AlgorithmNotAllowed(f"JWE enc {header.get('enc')!r} is not allowed")
    if not isinstance(header.get("kid"), str):
        raise MalformedEnvelope("JWE header has no kid")
    return header, parts


def jwe_decrypt(header: Mapping[str, Any], parts: list[str], key: x25519.X25519PrivateKey) -> bytes:
    """Decrypt a parsed compact JWE (ECDH-ES+A256KW, A256GCM)."""
    epk = header.get("epk")
    if not isinstance(epk, dict) or epk.get("kty") != "OKP" or epk.get("crv") != "X25519":
        raise AlgorithmNotAllowed("JWE epk must be an X25519 OKP key")
    try:
        peer = x25519.X25519PublicKey.from_public_bytes(b64d(epk["x"]))
        z = key.exchange(peer)
    except ValueError as exc:  # wrong length, or an all-zero shared secret (RFC 7748 §6.1)
        raise DecryptionFailed("invalid ephemeral key") from exc
    if len(parts[4]) < 22:  # 16-byte tag = 22 base64url characters
        raise TruncatedEnvelope("JWE authentication tag is truncated")
    apu = b64d(header["apu"]) if "apu" in header else b""
    apv = b64d(header["apv"]) if "apv" in header else b""
    wrapped, iv, ciphertext, tag = (b64d(p) for p in parts[1:])
    if len(iv) != 12 or len(tag) != 16 or len(wrapped) != 40:
        raise MalformedEnvelope("JWE iv, tag or encrypted key has the wrong length")
    try:
        cek = aes_key_unwrap(concat_kdf(z, JWE_ALG, apu, apv), wrapped)
        return AESGCM(cek).decrypt(iv, ciphertext + tag, parts[0].encode("ascii"))
    except (InvalidUnwrap, InvalidTag, ValueError) as exc:
        raise DecryptionFailed("JWE does not decrypt under our key") from exc


# --- HPKE suite (RFC 9180 base mode, one-shot) in the compact JWE shape --------------------


def hpke_encrypt(
    header: dict[str, Any], plaintext: bytes, recipient: hpke.MLKEM768X25519PublicKey
) -> str:
    """Seal with HPKE MLKEM768-X25519 / HKDF-SHA256 / AES-256-GCM, the header bound as info."""
    header = {**header, "alg": HPKE_ALG}
    b64_header = b64e(json_bytes(header))
    sealed = HPKE_SUITE.encrypt(plaintext, recipient, info=b64_header.encode("ascii"))
    # enc goes where a JWE carries its encrypted key; iv and tag stay empty (the AEAD tag is
    # inside the HPKE ciphertext).
    return ".".join((b64_header, b64e(sealed[:HPKE_ENC_LEN]), "", b64e(sealed[HPKE_ENC_LEN:]), ""))


def hpke_decrypt(parts: list[str], key: hpke.MLKEM768X25519PrivateKey) -> bytes:
    """Open a parsed HPKE compact envelope."""
    enc, iv, ciphertext, tag = (b64d(p) for p in parts[1:])
    if iv or tag:
        raise MalformedEnvelope("HPKE envelope must have empty iv and tag parts")
    if len(enc) != HPKE_ENC_LEN:
        raise TruncatedEnvelope("HPKE encapsulated key has the wrong length")
    if len(ciphertext) < 16:
        raise TruncatedEnvelope("HPKE ciphertext is truncated")
    try:
        return HPKE_SUITE.decrypt(enc + ciphertext, key, info=parts[0].encode("ascii"))
    except (InvalidTag, ValueError) as exc:
        raise DecryptionFailed("HPKE ciphertext does not open under our key") from exc
