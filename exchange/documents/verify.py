"""Verification of a signed bundle: valid, tampered, or signed by someone we do not trust.

pyHanko checks the PAdES signature (the CMS signature over the signed byte ranges, the
signing-certificate attribute) and the certificate path up to our trust roots: the node CA,
the roots of the national PKI certificates imported into the key store, and the CA certificates
an operator placed in ``keys/pdf-trust/`` (a partner node's CA, say). Nothing is fetched (no
AIA, no OCSP): a verdict never depends on the network. The index is read from the bundle's
manifest, which the signature covers; a change after signing makes the bundle "tampered".
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from asn1crypto import x509 as asn1_x509
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.generic import StreamObject
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from exchange.envelopes import KeyStore

from .signing import SIGNATURE_FIELD, key_thumbprint, run_coroutine, subject_name

MANIFEST_KEY = "/ExchangeBundleManifest"
MAX_MANIFEST_BYTES = 1 << 20
# pyHanko logs every failed path validation with its traceback; the verdict already says it.
logging.getLogger("pyhanko.sign.validation").setLevel(logging.CRITICAL)

VERDICTS = ("valid", "tampered", "unknown_signer", "unsigned")


@dataclass(frozen=True)
class Verdict:
    """What a verification found: the verdict, who signed, and the bundle's own index."""

    verdict: str  # valid | tampered | unknown_signer | unsigned
    reason: str = ""
    authority: str = ""  # the signing certificate's subject (authority code)
    organisation: str = ""
    key_thumbprint: str = ""
    signed_at: str = ""
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """Tell whether the bundle is intact and signed by a trusted authority."""
        return self.verdict == "valid"

    @property
    def items(self) -> list[dict[str, Any]]:
        """Return the index entries of the manifest (empty when there is none)."""
        items = self.manifest.get("items", [])
        return items if isinstance(items, list) else []


def trust_roots(keys: KeyStore, extra: list[bytes] | None = None) -> list[asn1_x509.Certificate]:
    """Return the CA certificates whose bundles we call valid."""
    pems = [keys.ca_certificate_pem()]
    for authority in keys.authorities():
        if keys.active(authority, "pdf") is not None:
            chain = keys.pdf_signing(authority).chain_pem
            if chain:
                pems.append(chain)
    folder = keys.root / "pdf-trust"
    if folder.is_dir():
        pems.extend(p.read_bytes() for p in sorted(folder.glob("*.pem")))
    pems.extend(extra or [])
    roots: dict[bytes, asn1_x509.Certificate] = {}
    for pem in pems:
        for cert in load_certs_from_pemder_data(pem):
            if cert.ca:  # self-signed or intermediate CA certificates only: no leaf is a root
                roots[cert.sha256] = cert
    return list(roots.values())


def _manifest(reader: PdfFileReader) -> dict[str, Any]:
    """Return the bundle manifest stored in the catalog, or an empty dict."""
    try:
        ref = reader.root.get(MANIFEST_KEY)
        stream = ref.get_object() if ref is not None else None
        if not isinstance(stream, StreamObject):
            return {}
        data = stream.data
        if len(data) > MAX_MANIFEST_BYTES:
            return {}
        loaded = json.loads(data.decode("utf-8"))
    except (PdfError, ValueError, UnicodeDecodeError, KeyError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def content_digest(items: list[dict[str, Any]]) -> str:
    """Return the digest of a bundle's content: SHA-256 of its index, canonical JSON."""
    canonical = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _signer_facts(cert: asn1_x509.Certificate) -> dict[str, str]:
    native = cert.subject.native
    try:
        kid = key_thumbprint(cert)
    except ValueError:
        kid = ""
    return {
        "authority": subject_name(cert),
        "organisation": str(native.get("organization_name") or ""),
        "key_thumbprint": kid,
    }


def _verdict(
    verdict: str, reason: str, facts: dict[str, str], manifest: dict[str, Any] | None = None
) -> Verdict:
    return Verdict(
        verdict,
        reason,
        authority=facts.get("authority", ""),
        organisation=facts.get("organisation", ""),
        key_thumbprint=facts.get("key_thumbprint", ""),
        signed_at=facts.get("signed_at", ""),
        manifest=manifest or {},
    )


def verify_pdf(source: bytes | IO[bytes], roots: list[asn1_x509.Certificate]) -> Verdict:
    """Verify a signed bundle against ``roots``; never raises on a bad file, says what it is."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    stream.seek(0)
    head = stream.read(1024)
    stream.seek(0)
    if b"%PDF-" not in head:
        return Verdict("unsigned", "not a PDF file")
    try:
        reader = PdfFileReader(stream, strict=False)
        signatures = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as exc:
        # A PDF that names our signature field but no longer parses was damaged after signing.
        stream.seek(0)
        if SIGNATURE_FIELD.encode() in stream.read():
            return Verdict("tampered", f"the signed file is damaged: {exc}")
        return Verdict("unsigned", f"not a readable PDF: {exc}")
    if not signatures:
        return Verdict("unsigned", "the file carries no signature")
    context = ValidationContext(
        trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail"
    )
    last = signatures[-1]
    facts: dict[str, str] = {}
    try:
        facts = _signer_facts(last.signer_cert)
        status = run_coroutine(lambda: async_validate_pdf_signature(last, context))
    except (SignatureValidationError, PdfError, ValueError, KeyError, TypeError) as exc:
        return _verdict("tampered", f"the signature cannot be checked: {exc}", facts)
    signed_at = status.signer_reported_dt.isoformat() if status.signer_reported_dt else ""
    facts["signed_at"] = signed_at
    if not (status.intact and status.valid):
        return _verdict("tampered", "the content does not match the signature", facts)
    # A bundle is final: the signature must cover the whole file. pyHanko lets a later revision
    # that only touches metadata pass as "LTA updates"; we do not add any (a time stamp rides
    # inside the signature, PAdES B-T), so any revision after ours is a change.
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    if not whole or not status.docmdp_ok:
        return _verdict("tampered", "the file was changed after it was signed", facts)
    if not status.trusted:
        return _verdict(
            "unknown_signer", "the signing certificate is not issued by a trusted CA", facts
        )
    # Read only once the signer is trusted: a stranger's manifest is never decoded.
    manifest = _manifest(reader)
    items = manifest.get("items")
    if isinstance(items, list) and manifest.get("content_digest") != content_digest(items):
        return _verdict("tampered", "the index does not match its digest", facts)
    return _verdict("valid", "", facts, manifest)


def verify_file(path: Path, roots: list[asn1_x509.Certificate]) -> Verdict:
    """Verify the bundle in a file."""
    with path.open("rb") as fh:
        return verify_pdf(fh, roots)
