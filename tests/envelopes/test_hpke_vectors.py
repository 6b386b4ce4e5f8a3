"""The HPKE suite against the RFC 9180 test vectors shipped in cryptography-vectors.

The one-shot API (base mode, a single message) can only check the first encryption of each
base-mode vector: decrypt ``enc || ct`` with the recipient key from ``skRm`` and the vector's
``info``. The vectors all use a non-empty aad, which the public one-shot API does not take, so
this uses the binding's aad-capable one-shot entry point; the public API is then exercised on
the same key with ``info`` only.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.bindings._rust import openssl as rust_openssl
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import ec, mlkem, x25519

KEMS = {
    0x0010: hpke.KEM.P256,
    0x0011: hpke.KEM.P384,
    0x0012: hpke.KEM.P521,
    0x0020: hpke.KEM.X25519,
    0x0041: hpke.KEM.MLKEM768,
    0x0042: hpke.KEM.MLKEM1024,
    0x647A: hpke.KEM.MLKEM768_X25519,
}
KDFS = {
    0x0001: hpke.KDF.HKDF_SHA256,
    0x0002: hpke.KDF.HKDF_SHA384,
    0x0003: hpke.KDF.HKDF_SHA512,
    0x0010: hpke.KDF.SHAKE128,
    0x0011: hpke.KDF.SHAKE256,
}
AEADS = {
    0x0001: hpke.AEAD.AES_128_GCM,
    0x0002: hpke.AEAD.AES_256_GCM,
    0x0003: hpke.AEAD.CHACHA20_POLY1305,
}
CURVES = {0x0010: ec.SECP256R1(), 0x0011: ec.SECP384R1(), 0x0012: ec.SECP521R1()}


def private_key(kem_id: int, sk: bytes) -> Any:
    """Load a recipient private key from a vector's skRm."""
    if kem_id == 0x0020:
        return x25519.X25519PrivateKey.from_private_bytes(sk)
    if kem_id in CURVES:
        return ec.derive_private_key(int.from_bytes(sk, "big"), CURVES[kem_id])
    if kem_id == 0x0041:
        return mlkem.MLKEM768PrivateKey.from_seed_bytes(sk)
    if kem_id == 0x0042:
        return mlkem.MLKEM1024PrivateKey.from_seed_bytes(sk)
    # X-Wing (draft-connolly-cfrg-xwing-kem §5.2): the 32-byte seed expands with SHAKE-256 to
    # the ML-KEM-768 seed (64 bytes) then the X25519 private key (32 bytes).
    expanded = hashlib.shake_256(sk).digest(96)
    return hpke.MLKEM768X25519PrivateKey(
        mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64]),
        x25519.X25519PrivateKey.from_private_bytes(expanded[64:]),
    )


def vectors() -> Iterator[dict[str, Any]]:
    """Yield the supported base-mode vectors of both files."""
    root = importlib.resources.files("cryptography_vectors") / "HPKE"
    for name in ("test-vectors.json", "hpke-pq-test-vectors.json"):
        for vector in json.loads((root / name).read_text()):
            if (
                vector["mode"] == 0
                and vector["kem_id"] in KEMS
                and vector["kdf_id"] in KDFS
                and vector["aead_id"] in AEADS
            ):
                yield {**vector, "file": name}


VECTORS = list(vectors())


def test_vectors_cover_the_hybrid_suite() -> None:
    kems = {v["kem_id"] for v in VECTORS}
    assert 0x647A in kems and 0x0020 in kems
    assert len(VECTORS) >= 20


@pytest.mark.parametrize(
    "vector",
    VECTORS,
    ids=lambda v: f"{v['file'][:8]}-{v['kem_id']:#x}-{v['kdf_id']:#x}-{v['aead_id']:#x}",
)
def test_rfc9180_vector_base_mode(vector: dict[str, Any]) -> None:
    suite = hpke.Suite(KEMS[vector["kem_id"]], KDFS[vector["kdf_id"]], AEADS[vector["aead_id"]])
    key = private_key(vector["kem_id"], bytes.fromhex(vector["skRm"]))
    first = vector["encryptions"][0]
    info = bytes.fromhex(vector["info"])
    plaintext = rust_openssl.hpke._decrypt_with_aad(
        suite,
        bytes.fromhex(vector["enc"]) + bytes.fromhex(first["ct"]),
        key,
        info=info,
        aad=bytes.fromhex(first["aad"]),
    )
    assert plaintext == bytes.fromhex(first["pt"])
    # The public one-shot API round-trips on the vector's key and info.
    assert suite.decrypt(suite.encrypt(b"pt", key.public_key(), info=info), key, info=info) == b"pt"
