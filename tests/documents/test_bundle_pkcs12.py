"""A national PKI's certificate imported as PKCS#12 signs bundles that pyHanko and pdfsig accept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from exchange.documents.signing import load_identity
from exchange.documents.verify import trust_roots, verify_pdf
from exchange.envelopes.stores import key_store
from tests.documents.bundles import annex_pdf, build, nss_database, pdfsig, source


def _national_pkcs12(password: bytes) -> tuple[bytes, bytes]:
    """Return a PKCS#12 (authority key, certificate, root) and the root's PEM."""
    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PKI nationale du Sénégal")])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, "SN-CA"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ministère de la Justice"),
                ]
            )
        )
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(root_key, hashes.SHA256())
    )
    data = pkcs12.serialize_key_and_certificates(
        b"sn-ca", key, cert, [root], serialization.BestAvailableEncryption(password)
    )
    return data, root.public_bytes(serialization.Encoding.PEM)


def test_imported_national_certificate_signs_valid_bundles(app, runner, tmp_path, monkeypatch):
    data, root_pem = _national_pkcs12(b"p12 secret")
    p12 = tmp_path / "sn-ca.p12"
    p12.write_bytes(data)
    monkeypatch.setenv("EXCHANGE_PKCS12_PASSWORD", "p12 secret")
    result = runner.invoke(args=["keys", "certificate", "SN-CA", "--pkcs12", str(p12)])
    assert result.exit_code == 0, result.output
    assert "Ministère de la Justice" in result.output

    identity = load_identity(key_store(), "SN-CA")
    assert identity.certificate.issuer.native["common_name"] == "PKI nationale du Sénégal"
    bundle = tmp_path / "national.pdf"
    build(identity, bundle, [source("statement.pdf", annex_pdf(2))])
    verdict = verify_pdf(bundle.read_bytes(), trust_roots(key_store()))
    assert verdict.valid and verdict.organisation == "Ministère de la Justice"
    report = pdfsig(nss_database(tmp_path / "nss", root_pem), bundle)
    assert "Signature is Valid." in report and "Certificate is Trusted." in report, report
    key_file = next(Path(key_store().root, "SN-CA").glob(f"{identity.kid}.key.pem"))
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()


def test_a_wrong_pkcs12_password_is_one_line_and_exit_1(app, runner, tmp_path, monkeypatch):
    data, _ = _national_pkcs12(b"right")
    p12 = tmp_path / "sn-ca.p12"
    p12.write_bytes(data)
    monkeypatch.setenv("EXCHANGE_PKCS12_PASSWORD", "wrong")
    result = runner.invoke(args=["keys", "certificate", "SN-CA", "--pkcs12", str(p12)])
    assert result.exit_code == 1 and result.output.startswith("error: "), result.output
