"""With a time-stamp authority, a bundle is PAdES B-T: the signature carries an RFC 3161 token."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from exchange.documents.verify import trust_roots, verify_pdf
from exchange.envelopes.stores import key_store
from tests.documents.bundles import annex_pdf, build, source


def _tsa_identity(tmp_path):  # type: ignore[no-untyped-def]
    """Return a self-signed time-stamping certificate and its RSA key, as pyHanko objects."""
    now = dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's test TSA
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = tmp_path / "tsa.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return load_cert_from_pemder(str(pem)), load_private_key_from_pemder_data(key_pem, None)


@pytest.fixture
def tsa_url(tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Serve an RFC 3161 time-stamp authority over HTTP on a loopback port."""
    cert, key = _tsa_identity(tmp_path)
    stamper = DummyTimeStamper(tsa_cert=cert, tsa_key=key)
    served: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = tsp.TimeStampReq.load(body)
            response = stamper.request_tsa_response(request)
            data = response.dump()
            served.append(len(data))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert served, "the time-stamp authority was never asked"


def test_bundle_with_a_time_stamp_authority_carries_a_signature_time_stamp(
    app, identity, tmp_path, tsa_url
):
    bundle = tmp_path / "bt.pdf"
    build(identity, bundle, [source("statement.pdf", annex_pdf(1))], timestamp_url=tsa_url)
    with bundle.open("rb") as fh:
        signature = PdfFileReader(fh, strict=False).embedded_signatures[-1]
        unsigned = signature.signer_info["unsigned_attrs"].native or []
        kinds = [attribute["type"] for attribute in unsigned]
    assert "signature_time_stamp_token" in kinds  # PAdES B-T (ETSI EN 319 142-1 §5.3)
    assert verify_pdf(bundle.read_bytes(), trust_roots(key_store())).valid
