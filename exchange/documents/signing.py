"""PAdES signing of bundles with an authority's ECDSA P-256 certificate from the key store.

The key and certificate come from the envelope layer's key store (``keys/<AUTHORITY>/<kid>``,
issued by the node CA or imported from a national PKI as PKCS#12, see envelopes/keys.py); the
private key stays encrypted at rest and is decrypted here only for the signature. Signatures are
PAdES B-B (ETSI EN 319 142-1 §6.3: ``ETSI.CAdES.detached``, signing certificate attribute), or
B-T when a time-stamp authority is configured. PDF readers and poppler refuse Ed25519 in PDF
signatures, hence ECDSA P-256 with SHA-256.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko_certvalidator.registry import SimpleCertificateStore

from exchange.envelopes import KeyStore, KeyStoreError, thumbprint

SIGNATURE_FIELD = "ExchangeBundleSignature"
T = TypeVar("T")


class SigningError(Exception):
    """A bundle could not be signed: no certificate, a key of the wrong kind, a damaged file."""

    code = "no_signing_key"  # what the desk shows (documents/jobs.py failure codes)


def run_coroutine(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one of pyHanko's coroutines to the end, even from a thread whose event loop runs.

    pyHanko's synchronous calls use ``asyncio.run``, which refuses to start inside a running
    loop (a worker or a test driving a browser has one): the coroutine then runs in a thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def key_thumbprint(cert: asn1_x509.Certificate) -> str:
    """Return the RFC 7638 thumbprint of a certificate's P-256 key: its kid in the key store."""
    info: asn1_keys.PublicKeyInfo = cert.public_key
    if info.algorithm != "ec" or info.curve != ("named", "secp256r1"):
        raise SigningError("the signing certificate does not hold an ECDSA P-256 key")
    point = info["public_key"].native  # X9.62 uncompressed: 0x04 || x || y
    if len(point) != 65 or point[0] != 4:
        raise SigningError("the signing certificate's key point is not uncompressed P-256")
    jwk = {"kty": "EC", "crv": "P-256", "x": _b64url(point[1:33]), "y": _b64url(point[33:])}
    return thumbprint(jwk)


def certificate_sha256(cert: asn1_x509.Certificate) -> str:
    """Return the SHA-256 of a certificate's DER, hex."""
    return hashlib.sha256(cert.dump()).hexdigest()


def subject_name(cert: asn1_x509.Certificate) -> str:
    """Return a certificate subject's common name (the authority code for our certificates)."""
    native = cert.subject.native
    return str(native.get("common_name") or cert.subject.human_friendly)


@dataclass(frozen=True)
class SigningIdentity:
    """An authority's PDF signer: its certificate, chain and the pyHanko signer over its key."""

    authority: str
    certificate: asn1_x509.Certificate
    chain: tuple[asn1_x509.Certificate, ...]
    signer: signers.SimpleSigner

    @property
    def kid(self) -> str:
        """Return the signing key's thumbprint (its kid in ``exchange keys list``)."""
        return key_thumbprint(self.certificate)


def load_identity(keys: KeyStore, authority: str) -> SigningIdentity:
    """Load an authority's active PDF signing key and certificate chain from the key store."""
    try:
        material = keys.pdf_signing(authority)
    except KeyStoreError as exc:
        raise SigningError(
            f"{exc} (run: exchange keys certificate {authority}, or exchange keys generate)"
        ) from exc
    try:
        key = load_private_key_from_pemder_data(material.key_pem, material.passphrase)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"cannot decrypt the PDF signing key of {authority}") from exc
    certs = list(load_certs_from_pemder_data(material.cert_pem))
    chain = tuple(load_certs_from_pemder_data(material.chain_pem)) if material.chain_pem else ()
    if len(certs) != 1:
        raise SigningError(f"the PDF certificate file of {authority} is damaged")
    cert = certs[0]
    key_thumbprint(cert)  # refuses anything but P-256
    signer = signers.SimpleSigner(
        signing_cert=cert,
        signing_key=key,
        cert_registry=SimpleCertificateStore.from_certs(chain),
        embed_roots=True,  # a verifier gets the whole chain; trust still comes from its roots
    )
    return SigningIdentity(authority, cert, chain, signer)


def sign_pdf(
    document: IO[bytes],
    identity: SigningIdentity,
    *,
    reason: str,
    location: str = "",
    timestamp_url: str | None = None,
) -> None:
    """Sign the PDF in the read-write stream ``document`` in place: an incremental update
    appended to it (ISO 32000-1 §7.5.6), PAdES B-B, or B-T with a time-stamp authority."""
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location or None,
        name=identity.authority,
        # Certification (DocMDP, ISO 32000-1 §12.8.2.2): no change allowed after signing.
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    stamper = timestamps.HTTPTimeStamper(timestamp_url) if timestamp_url else None
    try:
        document.seek(0)
        writer = IncrementalPdfFileWriter(document, strict=False)
        run_coroutine(
            lambda: signers.async_sign_pdf(
                writer, meta, identity.signer, timestamper=stamper, in_place=True
            )
        )
    except (ValueError, OSError) as exc:
        raise SigningError(f"cannot sign the bundle: {exc}") from exc
