"""Private keys at rest: PKCS#8 encrypted under the node passphrase with a strong PBKDF2 count.

``BestAvailableEncryption`` writes PBES2 with PBKDF2-HMAC-SHA256 at 2,048 iterations (finding 13),
and cryptography lets no caller choose the count for PKCS#8. So the ``EncryptedPrivateKeyInfo``
of RFC 5958 §3 is built here around cryptography's unencrypted PKCS#8 DER, with exactly the
algorithms OpenSSL writes, only with more rounds: PBES2 (RFC 8018 §6.2), PBKDF2 (§5.2) with
HMAC-SHA256 (B.1.2) and a 16-byte salt, AES-256-CBC (B.2.5) with PKCS#7 padding. The default of
600,000 rounds is OWASP's figure for PBKDF2-HMAC-SHA256 (Password Storage Cheat Sheet).

Reading is unchanged (``load_pem_private_key``): keys written before still load, and ``openssl
pkey`` or ``openssl asn1parse`` read ours. It works alike for Ed25519, X25519, ML-KEM-768 and
ECDSA keys, since the encryption wraps the PKCS#8 bytes whatever key they hold.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from .errors import KeyStoreError

KDF_ROUNDS = 600_000
MIN_KDF_ROUNDS = 1_000  # RFC 8018 §4.2: "a minimum of 1000 iterations is recommended"

_PBES2 = "1.2.840.113549.1.5.13"  # RFC 8018 A.4
_PBKDF2 = "1.2.840.113549.1.5.12"  # RFC 8018 A.2
_HMAC_SHA256 = "1.2.840.113549.2.9"  # RFC 8018 B.1.2
_AES256_CBC = "2.16.840.1.101.3.4.1.42"  # RFC 8018 B.2.5 (NIST aes256-CBC-PAD)


def _der(tag: int, body: bytes) -> bytes:
    """Encode one DER element (X.690 §8.1): tag, definite length, contents."""
    size = len(body)
    if size < 0x80:
        length = bytes([size])
    else:
        raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body


def _sequence(*items: bytes) -> bytes:
    return _der(0x30, b"".join(items))


def _integer(value: int) -> bytes:
    # Non-negative: one more byte than the bits need keeps the sign bit clear (X.690 §8.3).
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _octets(data: bytes) -> bytes:
    return _der(0x04, data)


def _oid(dotted: str) -> bytes:
    first, second, *rest = (int(arc) for arc in dotted.split("."))
    body = bytearray([40 * first + second])
    for arc in rest:  # base 128, high bit set on every byte but the last (X.690 §8.19)
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return _der(0x06, bytes(body))


def encrypt_private_key(key: Any, passphrase: bytes, rounds: int = KDF_ROUNDS) -> bytes:
    """Serialize a private key as encrypted PKCS#8 PEM (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC)."""
    if rounds < MIN_KDF_ROUNDS:
        raise KeyStoreError(f"the key derivation needs at least {MIN_KDF_ROUNDS} rounds")
    plain = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    salt, iv = os.urandom(16), os.urandom(16)
    kek = PBKDF2HMAC(hashes.SHA256(), length=32, salt=salt, iterations=rounds).derive(passphrase)
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(kek), modes.CBC(iv)).encryptor()
    sealed = encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()
    algorithm = _sequence(
        _oid(_PBES2),
        _sequence(
            _sequence(
                _oid(_PBKDF2),
                _sequence(
                    _octets(salt),
                    _integer(rounds),
                    _sequence(_oid(_HMAC_SHA256), _der(0x05, b"")),  # prf, NULL parameters
                ),
            ),
            _sequence(_oid(_AES256_CBC), _octets(iv)),
        ),
    )
    der = _sequence(algorithm, _octets(sealed))
    body = base64.b64encode(der)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]  # RFC 7468 §2
    return (
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
        + b"\n".join(lines)
        + b"\n-----END ENCRYPTED PRIVATE KEY-----\n"
    )
