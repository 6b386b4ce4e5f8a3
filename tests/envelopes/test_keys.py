"""The key store: encrypted at rest, thumbprint kids, rotation, revocation, PDF certificates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    load_pem_private_key,
    pkcs12,
)
from cryptography.x509.oid import NameOID

from exchange.envelopes import (
    KeyStore,
    KeyStoreError,
    MalformedEnvelope,
    MemoryTrustStore,
    fingerprint,
    import_jwks,
)

from .conftest import TEST_KDF_ROUNDS


def test_private_keys_are_encrypted_pkcs8(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, "pw", kdf_rounds=TEST_KDF_ROUNDS)
    created = store.generate("SN-CA", pq=True)
    assert {k.use for k in created} == {"sig", "enc", "enc-pq", "pdf"}
    for pem in tmp_path.glob("SN-CA/*.key.pem"):
        assert pem.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        assert pem.stat().st_mode & 0o077 == 0
        with pytest.raises(TypeError):
            load_pem_private_key(pem.read_bytes(), None)
    with pytest.raises(KeyStoreError):
        KeyStore(tmp_path, "wrong").signing_key("SN-CA")
    assert store.generate("SN-CA") == []  # idempotent


def test_bad_authority_codes_are_refused(tmp_path: Path) -> None:
    for code in ("../etc", "sn-ca", "SN/CA", ""):
        with pytest.raises(KeyStoreError):
            KeyStore(tmp_path, "pw", kdf_rounds=TEST_KDF_ROUNDS).generate(code)


def test_rotate_and_revoke(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, "pw", kdf_rounds=TEST_KDF_ROUNDS)
    store.generate("SN-CA", pdf=False)
    old = store.signing_key("SN-CA")[0]
    new = store.rotate("SN-CA", "sig")
    assert store.signing_key("SN-CA")[0] == new.kid != old
    assert store.info(old).status == "retired" and store.private_key(old) is not None
    store.revoke(new.kid, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    with pytest.raises(KeyStoreError):
        store.signing_key("SN-CA")
    jwks = store.public_jwks("SN-CA")
    assert {k["kid"] for k in jwks["keys"]} >= {old, new.kid}
    old_enc = store.active("SN-CA", "enc")
    assert old_enc is not None
    store.rotate("SN-CA", "enc")
    exported = {k["kid"] for k in store.public_jwks("SN-CA")["keys"]}
    assert old_enc.kid not in exported and store.private_key(old_enc.kid) is not None
    jwks = store.public_jwks("SN-CA")
    trust = MemoryTrustStore()
    imported = import_jwks(trust, jwks, hosted=())
    revoked = trust.get(new.kid)
    assert revoked is not None and revoked.revoked_at is not None
    assert all(":" in k.fingerprint for k in imported)


def test_trust_import_refuses_bad_jwks(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, "pw", kdf_rounds=TEST_KDF_ROUNDS)
    store.generate("SN-CA", pdf=False)
    jwks = store.public_jwks("SN-CA")
    trust = MemoryTrustStore()
    with pytest.raises(MalformedEnvelope):
        import_jwks(
            trust, {**jwks, "keys": [{**jwks["keys"][0], "kid": "not-the-thumbprint"}]}, hosted=()
        )
    with pytest.raises(KeyStoreError):
        import_jwks(trust, {**jwks, "keys": [{**jwks["keys"][0], "d": "x"}]}, hosted=())
    with pytest.raises(MalformedEnvelope):
        import_jwks(trust, {"keys": jwks["keys"]}, hosted=())  # no authority
    import_jwks(trust, jwks, hosted=())
    with pytest.raises(KeyStoreError):
        import_jwks(
            trust, {**jwks, "authority": "NG-NAPTIP"}, hosted=()
        )  # same key claimed by another authority
    assert fingerprint(jwks["keys"][0]).count(":") == 31


def test_pdf_certificate_from_node_ca(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, "pw", kdf_rounds=TEST_KDF_ROUNDS)
    store.generate("SN-CA")
    material = store.pdf_signing("SN-CA")
    cert = x509.load_pem_x509_certificate(material.cert_pem)
    ca = x509.load_pem_x509_certificate(store.ca_certificate_pem())
    assert cert.issuer == ca.subject and material.chain_pem == store.ca_certificate_pem()
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    cert.verify_directly_issued_by(ca)
    key = load_pem_private_key(material.key_pem, material.passphrase)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.public_key() == cert.public_key()


def test_pdf_certificate_from_pkcs12(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SN-CA national PKI")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    p12 = pkcs12.serialize_key_and_certificates(
        b"sn", key, cert, None, BestAvailableEncryption(b"p12pw")
    )
    store = KeyStore(tmp_path, "pw", kdf_rounds=TEST_KDF_ROUNDS)
    with pytest.raises(KeyStoreError):
        store.import_pkcs12("SN-CA", p12, b"wrong")
    store.import_pkcs12("SN-CA", p12, b"p12pw")
    assert x509.load_pem_x509_certificate(store.pdf_signing("SN-CA").cert_pem) == cert
