"""The node's key store: one folder per hosted authority under ``EXCHANGE_KEYS_DIR``.

Layout (all private keys PKCS#8, encrypted under the node passphrase, see pkcs8.py)::

    keys/node-ca/ca.key.pem, ca.cert.pem     per-node CA for the PDF signing certificates
    keys/<AUTHORITY>/keys.json               public index: kid, use, alg, status, dates, public JWK
    keys/<AUTHORITY>/<kid>.key.pem           Ed25519, X25519, ML-KEM-768 or ECDSA P-256 private key
    keys/<AUTHORITY>/<kid>.x25519.key.pem    X25519 half of a hybrid key
    keys/<AUTHORITY>/<kid>.cert.pem          X.509 certificate (then chain) of a PDF signing key
    keys/data-keys.json                      the node's data keys (see at_rest.py)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, hpke, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mlkem, x25519
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from .errors import KeyStoreError, RevokedKey, UnknownKey
from .jwk import hybrid_public_bytes, public_jwk
from .pkcs8 import KDF_ROUNDS, encrypt_private_key

AUTHORITY_CODE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,20}){0,4}$")
USES = ("sig", "enc", "enc-pq", "pdf")


def utcnow() -> dt.datetime:
    """Return the current UTC time, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def check_authority(code: str) -> str:
    """Return an authority code if well-formed (it names a folder: no path tricks)."""
    if not AUTHORITY_CODE.match(code):
        raise KeyStoreError(f"invalid authority code {code!r}")
    return code


@dataclass(frozen=True)
class KeyInfo:
    """Public facts about one key of an authority."""

    authority: str
    kid: str
    use: str  # sig | enc | enc-pq | pdf
    alg: str
    created_at: str
    status: str  # active | retired
    revoked_at: str | None
    jwk: dict[str, Any]

    def revoked(self, now: dt.datetime) -> bool:
        """Tell whether the key is revoked at ``now``."""
        return self.revoked_at is not None and dt.datetime.fromisoformat(self.revoked_at) <= now


@dataclass(frozen=True)
class PdfSigningMaterial:
    """What a PAdES signer needs: the encrypted key, its passphrase, certificate and chain (PEM)."""

    key_pem: bytes
    passphrase: bytes
    cert_pem: bytes
    chain_pem: bytes


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class KeyStore:
    """Our authorities' private keys in a directory, encrypted at rest under a passphrase."""

    def __init__(
        self, root: Path | str, passphrase: bytes | str, *, kdf_rounds: int = KDF_ROUNDS
    ) -> None:
        self.root = Path(root)
        self.passphrase = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
        if not self.passphrase:
            raise KeyStoreError("the key passphrase is empty")
        self.kdf_rounds = kdf_rounds  # PBKDF2 rounds of the keys written from now on
        self._private: dict[str, Any] = {}
        self._index_cache: dict[str, list[KeyInfo]] = {}
        self._authorities: list[str] | None = None
        self._by_kid: dict[str, KeyInfo] | None = None
        self._authorities_set: frozenset[str] = frozenset()

    # -- index ------------------------------------------------------------------------------

    def _dir(self, authority: str) -> Path:
        return self.root / check_authority(authority)

    def hosts(self, authority: str) -> bool:
        """Tell whether this store holds keys of an authority."""
        return authority in self.authorities_set()

    def authorities_set(self) -> frozenset[str]:
        """Return the authorities this store holds keys for, as a set."""
        if self._authorities is None:
            self.authorities()
        return self._authorities_set

    def authorities(self) -> list[str]:
        """List the authorities this store holds keys for."""
        if self._authorities is None:
            found = self.root.iterdir() if self.root.is_dir() else iter(())
            self._authorities = sorted(p.name for p in found if (p / "keys.json").is_file())
            self._authorities_set = frozenset(self._authorities)
        return list(self._authorities)

    def list_keys(self, authority: str | None = None) -> list[KeyInfo]:
        """List the keys of one authority, or of all."""
        if authority is None:
            return [k for a in self.authorities() for k in self.list_keys(a)]
        if authority not in self._index_cache:
            path = self._dir(authority) / "keys.json"
            rows = json.loads(path.read_text("utf-8")) if path.is_file() else []
            self._index_cache[authority] = [KeyInfo(**row) for row in rows]
        return list(self._index_cache[authority])

    def _save_index(self, authority: str, infos: list[KeyInfo]) -> None:
        folder = self._dir(authority)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        _atomic_write(
            folder / "keys.json", json.dumps([asdict(i) for i in infos], indent=2).encode()
        )
        self._index_cache[authority] = list(infos)
        self._authorities = None
        self._by_kid = None

    def info(self, kid: str) -> KeyInfo:
        """Return the facts about one of our keys by kid."""
        if self._by_kid is None:
            self._by_kid = {i.kid: i for i in self.list_keys()}
        try:
            return self._by_kid[kid]
        except KeyError:
            raise UnknownKey(f"no key {kid} in our key store") from None

    def active(self, authority: str, use: str, now: dt.datetime | None = None) -> KeyInfo | None:
        """Return the active, unrevoked key of an authority for a use, if any."""
        now = now or utcnow()
        for info in reversed(self.list_keys(authority)):
            if info.use == use and info.status == "active" and not info.revoked(now):
                return info
        return None

    # -- generation, rotation, revocation ---------------------------------------------------

    def _encrypt(self, key: Any) -> bytes:
        return encrypt_private_key(key, self.passphrase, self.kdf_rounds)

    def _new_key(self, authority: str, use: str, now: dt.datetime) -> KeyInfo:
        folder = self._dir(authority)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        files: dict[str, bytes] = {}
        if use == "sig":
            sk = ed25519.Ed25519PrivateKey.generate()
            jwk = public_jwk(sk.public_key(), use="sig")
            files[".key.pem"] = self._encrypt(sk)
        elif use == "enc":
            xk = x25519.X25519PrivateKey.generate()
            jwk = public_jwk(xk.public_key(), use="enc")
            files[".key.pem"] = self._encrypt(xk)
        elif use == "enc-pq":
            mk, xk = mlkem.MLKEM768PrivateKey.generate(), x25519.X25519PrivateKey.generate()
            raw = hybrid_public_bytes(mk.public_key(), xk.public_key())
            jwk = public_jwk(None, use="enc", hybrid_raw=raw)
            files[".key.pem"] = self._encrypt(mk)
            files[".x25519.key.pem"] = self._encrypt(xk)
        elif use == "pdf":
            pk = ec.generate_private_key(ec.SECP256R1())
            jwk = public_jwk(pk.public_key(), use="sig")
            files[".key.pem"] = self._encrypt(pk)
            files[".cert.pem"] = self._issue_certificate(authority, pk.public_key(), now)
        else:
            raise KeyStoreError(f"unknown key use {use!r}")
        kid = jwk["kid"]
        for suffix, data in files.items():
            _write_private(folder / f"{kid}{suffix}", data)
        return KeyInfo(authority, kid, use, jwk["alg"], now.isoformat(), "active", None, jwk)

    def generate(
        self, authority: str, *, pq: bool = False, pdf: bool = True, now: dt.datetime | None = None
    ) -> list[KeyInfo]:
        """Create the authority's missing keys: signing, encryption, hybrid, PDF certificate."""
        now = now or utcnow()
        uses = ["sig", "enc"] + (["enc-pq"] if pq else []) + (["pdf"] if pdf else [])
        infos = self.list_keys(authority)
        created = [
            self._new_key(authority, u, now) for u in uses if self.active(authority, u, now) is None
        ]
        self._save_index(authority, infos + created)
        return created

    def rotate(self, authority: str, use: str, now: dt.datetime | None = None) -> KeyInfo:
        """Replace the active key of a use; the old one stays (retired) to open and verify."""
        now = now or utcnow()
        infos = [
            replace(i, status="retired") if i.use == use else i for i in self.list_keys(authority)
        ]
        new = self._new_key(authority, use, now)
        self._save_index(authority, [*infos, new])
        return new

    def revoke(self, kid: str, at: dt.datetime | None = None) -> KeyInfo:
        """Mark one of our keys as no longer trusted from a date (now by default)."""
        if at is not None and at.tzinfo is None:  # peers read the date back: it names its zone
            raise KeyStoreError("a revocation date must name its time zone")
        info = self.info(kid)
        revoked = replace(info, status="retired", revoked_at=(at or utcnow()).isoformat())
        self._save_index(
            info.authority, [revoked if i.kid == kid else i for i in self.list_keys(info.authority)]
        )
        return revoked

    # -- private keys -----------------------------------------------------------------------

    def _load(self, authority: str, name: str) -> Any:
        path = self._dir(authority) / name
        try:
            return serialization.load_pem_private_key(path.read_bytes(), self.passphrase)
        except FileNotFoundError as exc:
            raise KeyStoreError(f"key file {name} is missing for {authority}") from exc
        except (ValueError, TypeError) as exc:
            raise KeyStoreError(
                f"cannot decrypt {authority}/{name}: wrong passphrase or damaged file"
            ) from exc

    def private_key(self, kid: str) -> Any:
        """Load (once) the private key of one of our kids."""
        if kid not in self._private:
            info = self.info(kid)
            key = self._load(info.authority, f"{kid}.key.pem")
            if info.use == "enc-pq":
                key = hpke.MLKEM768X25519PrivateKey(
                    key, self._load(info.authority, f"{kid}.x25519.key.pem")
                )
            self._private[kid] = key
        return self._private[kid]

    def signing_key(
        self, authority: str, now: dt.datetime | None = None
    ) -> tuple[str, ed25519.Ed25519PrivateKey]:
        """Return the kid and Ed25519 key an authority signs with."""
        info = self.active(authority, "sig", now)
        if info is None:
            raise KeyStoreError(
                f"{authority} has no active signing key (run: exchange keys generate)"
            )
        return info.kid, self.private_key(info.kid)

    def decryption_key(self, kid: str, now: dt.datetime | None = None) -> tuple[KeyInfo, Any]:
        """Return an encryption key of ours by kid, refusing one that is revoked."""
        info = self.info(kid)
        if info.use not in ("enc", "enc-pq"):
            raise UnknownKey(f"key {kid} is not an encryption key")
        if info.revoked(now or utcnow()):
            raise RevokedKey(f"our key {kid} is revoked since {info.revoked_at}")
        return info, self.private_key(kid)

    def public_jwks(self, authority: str) -> dict[str, Any]:
        """Return the public JWK Set (RFC 7517 §5): signing keys, active encryption keys."""
        keys = []
        for info in self.list_keys(authority):
            jwk = dict(info.jwk)
            if info.use == "pdf":
                continue  # the PDF key travels as a certificate, not as a JWK
            if info.use != "sig" and info.status == "retired" and not info.revoked_at:
                continue  # peers encrypt to active keys only; we keep old ones to open old mail
            if info.revoked_at:
                jwk["revoked_at"] = info.revoked_at
            keys.append(jwk)
        return {"authority": authority, "keys": keys}

    # -- the node CA and PDF signing certificates -------------------------------------------

    def _ca(self, now: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        folder = self.root / "node-ca"
        if not (folder / "ca.key.pem").is_file():
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Exchange node CA")])
            ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(
                    x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                    critical=True,
                )
                .add_extension(ski, critical=False)
                .sign(key, hashes.SHA256())
            )
            _write_private(folder / "ca.key.pem", self._encrypt(key))
            _write_private(folder / "ca.cert.pem", cert.public_bytes(serialization.Encoding.PEM))
        ca_key = serialization.load_pem_private_key(
            (folder / "ca.key.pem").read_bytes(), self.passphrase
        )
        if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
            raise KeyStoreError("the node CA key is not an ECDSA key")
        return ca_key, x509.load_pem_x509_certificate((folder / "ca.cert.pem").read_bytes())

    def ca_certificate_pem(self) -> bytes:
        """Return the node CA certificate (PEM), creating the CA on first use."""
        return self._ca(utcnow())[1].public_bytes(serialization.Encoding.PEM)

    def _issue_certificate(
        self, authority: str, public: ec.EllipticCurvePublicKey, now: dt.datetime
    ) -> bytes:
        ca_key, ca_cert = self._ca(now)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, authority),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "The Exchange"),
                x509.NameAttribute(NameOID.COUNTRY_NAME, authority[:2]),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_cert.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=730))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            # PAdES wants digitalSignature + contentCommitment (non-repudiation), RFC 5280 §4.2.1.3.
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(
            serialization.Encoding.PEM
        )

    def import_pkcs12(self, authority: str, data: bytes, password: bytes | None) -> KeyInfo:
        """Import an ECDSA P-256 PDF signing key and certificate from a national PKI's PKCS#12."""
        try:
            key, cert, chain = pkcs12.load_key_and_certificates(data, password)
        except ValueError as exc:
            raise KeyStoreError("cannot read the PKCS#12 file (wrong password?)") from exc
        if (
            not isinstance(key, ec.EllipticCurvePrivateKey)
            or not isinstance(key.curve, ec.SECP256R1)
            or cert is None
        ):
            raise KeyStoreError("the PKCS#12 file must hold an ECDSA P-256 key and its certificate")
        now = utcnow()
        jwk = public_jwk(key.public_key(), use="sig")
        folder = self._dir(authority)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [cert, *chain])
        _write_private(folder / f"{jwk['kid']}.key.pem", self._encrypt(key))
        _write_private(folder / f"{jwk['kid']}.cert.pem", pem)
        infos = [
            replace(i, status="retired") if i.use == "pdf" else i for i in self.list_keys(authority)
        ]
        info = KeyInfo(authority, jwk["kid"], "pdf", "ES256", now.isoformat(), "active", None, jwk)
        self._save_index(authority, [*infos, info])
        return info

    def pdf_signing(self, authority: str) -> PdfSigningMaterial:
        """Return the authority's active PDF signing key and certificate chain, as PEM."""
        info = self.active(authority, "pdf")
        if info is None:
            raise KeyStoreError(f"{authority} has no PDF signing certificate")
        folder = self._dir(authority)
        certs = (folder / f"{info.kid}.cert.pem").read_bytes()
        first_end = certs.index(b"-----END CERTIFICATE-----") + len(b"-----END CERTIFICATE-----\n")
        return PdfSigningMaterial(
            (folder / f"{info.kid}.key.pem").read_bytes(),
            self.passphrase,
            certs[:first_end],
            certs[first_end:],
        )
