"""Finding 13: private key files are protected by PBKDF2-HMAC-SHA256 with 600,000 rounds, not 2,048.

The structure of each file is read with ``openssl asn1parse``, as the review did.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    load_pem_private_key,
)

from exchange.envelopes import KeyStore, KeyStoreError
from exchange.envelopes.pkcs8 import KDF_ROUNDS, encrypt_private_key
from exchange.settings import Settings, SettingsError

OPENSSL = "/usr/bin/openssl"


def asn1parse(pem: Path) -> str:
    """Return ``openssl asn1parse`` of a PEM file."""
    return subprocess.run(
        [OPENSSL, "asn1parse", "-in", str(pem)], check=True, capture_output=True, text=True
    ).stdout


def pbes2_rounds(dump: str) -> int:
    """Return the PBKDF2 iteration count of a dump, checking the whole algorithm chain."""
    assert re.findall(r"OBJECT\s+:(\S+)", dump) == [
        "PBES2",
        "PBKDF2",
        "hmacWithSHA256",
        "aes-256-cbc",
    ], dump
    found = re.search(r"OBJECT\s+:PBKDF2.*?OCTET STRING.*?INTEGER\s+:([0-9A-F]+)", dump, re.S)
    assert found, dump
    return int(found.group(1), 16)


def test_finding_13_private_key_kdf(tmp_path: Path) -> None:
    """A key store built without options, as production builds it, writes 600,000 rounds."""
    assert KDF_ROUNDS == 600_000 and Settings().key_kdf_rounds == KDF_ROUNDS
    store = KeyStore(tmp_path, "node passphrase")
    store.generate("SN-CA", pq=True, pdf=True)
    # Ed25519, X25519, the hybrid's ML-KEM-768 and X25519 halves, the PDF key, the node CA.
    files = sorted([*tmp_path.glob("SN-CA/*.key.pem"), tmp_path / "node-ca" / "ca.key.pem"])
    assert len(files) == 6
    for pem in files:
        assert pbes2_rounds(asn1parse(pem)) == 600_000, pem.name
    reopened = KeyStore(tmp_path, "node passphrase")
    assert all(reopened.private_key(info.kid) for info in reopened.list_keys("SN-CA"))


def test_finding_13_rounds_are_a_setting_with_a_production_floor(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, "pw", kdf_rounds=1000)
    store.generate("SN-CA", pdf=False)
    assert all(pbes2_rounds(asn1parse(p)) == 1000 for p in tmp_path.glob("SN-CA/*.key.pem"))
    base = {"EXCHANGE_INSTANCE_PATH": str(tmp_path)}
    assert (
        Settings.from_env({**base, "EXCHANGE_KEY_KDF_ROUNDS": "900000"}).key_kdf_rounds == 900_000
    )
    with pytest.raises(SettingsError, match="at least 1000"):
        Settings.from_env({**base, "EXCHANGE_KEY_KDF_ROUNDS": "999"})
    production = {
        **base,
        "EXCHANGE_ENV": "production",
        "EXCHANGE_SECRET_KEY": "s" * 40,
        "EXCHANGE_DATABASE_URL": "sqlite:///x.sqlite",
        "EXCHANGE_KEY_PASSPHRASE": "p",
    }
    with pytest.raises(SettingsError, match="600000 in production"):
        Settings.from_env({**production, "EXCHANGE_KEY_KDF_ROUNDS": "2048"})
    with pytest.raises(KeyStoreError):
        encrypt_private_key(ed25519.Ed25519PrivateKey.generate(), b"pw", 999)


def test_finding_13_key_files_of_the_old_format_still_load(tmp_path: Path) -> None:
    """Files written with BestAvailableEncryption (2,048 rounds) open as before."""
    store = KeyStore(tmp_path, "pw", kdf_rounds=1000)
    store.generate("SN-CA", pdf=False)
    kid = store.signing_key("SN-CA")[0]
    old = ed25519.Ed25519PrivateKey.generate()
    path = tmp_path / "SN-CA" / f"{kid}.key.pem"
    path.write_bytes(
        old.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"pw"))
    )
    assert pbes2_rounds(asn1parse(path)) == 2048
    loaded = KeyStore(tmp_path, "pw").private_key(kid)
    assert loaded.public_key() == old.public_key()


def test_finding_13_written_files_load_with_openssl_and_refuse_a_wrong_passphrase(
    tmp_path: Path,
) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = tmp_path / "k.pem"
    pem.write_bytes(encrypt_private_key(key, b"right", 1000))
    subprocess.run(
        [OPENSSL, "pkey", "-in", str(pem), "-passin", "pass:right", "-noout"], check=True
    )
    with pytest.raises(ValueError):
        load_pem_private_key(pem.read_bytes(), b"wrong")
    assert load_pem_private_key(pem.read_bytes(), b"right").public_key() == key.public_key()
