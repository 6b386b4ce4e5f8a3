"""Seal and open envelopes (wire format v1), receipts, and generic signed tokens.

Wire format v1 (schemas/README.md describes it for other implementers):

* inner: compact JWS, ``EdDSA`` over Ed25519 (RFC 7515, RFC 8037), header ``{alg, kid, typ:
  "exchange-message+jwt"}``, claims ``iss, aud, enc_kid, msg_id, typ, conversation,
  in_reply_to, iat, body, attachments``;
* outer: compact JWE ``ECDH-ES+A256KW`` / ``A256GCM`` to the recipient's X25519 key (RFC 7516,
  RFC 7518 §4.6), or the HPKE suite (RFC 9180) where the recipient publishes a hybrid key; its
  protected header repeats ``msg_id, iss, aud, typ`` for routing, checked against the claims.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import uuid
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import x25519

from . import _jose
from .errors import (
    AlgorithmNotAllowed,
    AttachmentError,
    EnvelopeError,
    HeaderClaimsMismatch,
    MalformedEnvelope,
    NotAddressedToUs,
    OversizedEnvelope,
    ReceiptMismatch,
    ReplayedMessage,
    UnknownKey,
    UnknownRecipientKey,
    UnknownSenderKey,
    WrongSenderKey,
)
from .jwk import key_from_jwk
from .keys import KeyStore, check_authority, utcnow
from .streaming import DEFAULT_SEGMENT_SIZE, copy_to_path, decrypt_stream, encrypt_stream
from .trust import SeenMessages, TrustEntry, TrustStore, import_jwks

MESSAGE_JWS_TYP = "exchange-message+jwt"  # explicit typing, RFC 8725 §3.11
RECEIPT_JWS_TYP = "exchange-receipt+jwt"
STREAMING_ALG = "AES256_GCM_HKDF_STREAMING"
MSG_TYPE = re.compile(r"^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MEDIA_TYPE = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$")
MAX_ENVELOPE_BYTES = 8 << 20
MAX_ATTACHMENT_BYTES = 8 << 30
MAX_ATTACHMENTS = 256
CLOCK_SKEW = dt.timedelta(minutes=5)
# ETSI EN 319 522-2 evidence names for each receipt status (DESIGN.md, reference/evidence.md).
EVIDENCE = {"delivered": "DELIVERY", "rejected": "NON_DELIVERY", "retrieved": "RETRIEVAL"}
_ROUTING = ("msg_id", "iss", "aud", "typ")
_CLAIM_TYPES: dict[str, type | tuple[type, ...]] = {
    "iss": str,
    "aud": str,
    "enc_kid": str,
    "msg_id": str,
    "typ": str,
    "conversation": str,
    "in_reply_to": (str, type(None)),
    "iat": int,
    "body": dict,
    "attachments": list,
}


@dataclass(frozen=True)
class AttachmentIn:
    """A file to send with an envelope."""

    name: str
    media_type: str
    source: Path | IO[bytes]


@dataclass(frozen=True)
class ManifestEntry:
    """One attachment as the signed manifest describes it."""

    id: str
    name: str
    media_type: str
    size: int
    sha256: str
    key: bytes
    segment_size: int

    def to_claim(self) -> dict[str, Any]:
        """Return the manifest entry as it appears in the signed claims."""
        return {
            "id": self.id,
            "name": self.name,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "alg": STREAMING_ALG,
            "key": _jose.b64e(self.key),
            "segment_size": self.segment_size,
        }

    @classmethod
    def from_claim(cls, claim: Any) -> ManifestEntry:
        """Read a manifest entry from the signed claims."""
        try:
            entry = cls(
                id=claim["id"],
                name=claim["name"],
                media_type=claim["media_type"],
                size=claim["size"],
                sha256=claim["sha256"],
                key=_jose.b64d(claim["key"]),
                segment_size=claim["segment_size"],
            )
        except (KeyError, TypeError) as exc:
            raise MalformedEnvelope("attachment manifest entry is incomplete") from exc
        if claim.get("alg") != STREAMING_ALG:
            raise AlgorithmNotAllowed(f"attachment alg {claim.get('alg')!r} is not allowed")
        if not (
            all(isinstance(v, str) for v in (entry.id, entry.name, entry.media_type, entry.sha256))
            and re.fullmatch(r"a[0-9]{1,3}", entry.id)
            and 0 < len(entry.name) <= 255
            and MEDIA_TYPE.match(entry.media_type)
            and isinstance(entry.size, int)
            and entry.size >= 0
            and isinstance(entry.segment_size, int)
            and len(entry.key) == 32
            and re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
        ):
            raise MalformedEnvelope("attachment manifest entry is invalid")
        return entry


@dataclass(frozen=True)
class SealedEnvelope:
    """A sealed envelope: the compact token, and the encrypted blob of each attachment."""

    token: bytes
    msg_id: str
    sha256: str
    blobs: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class OpenedEnvelope:
    """An envelope that passed every check: who sent what to whom, and its attachment manifest."""

    msg_id: str
    sender: str
    recipient: str
    msg_type: str
    conversation: str
    in_reply_to: str | None
    issued_at: dt.datetime
    body: dict[str, Any]
    attachments: tuple[ManifestEntry, ...]
    claims: dict[str, Any]
    header: dict[str, Any]
    envelope_sha256: str
    suite: str  # "x25519" | "mlkem768-x25519"
    sender_kid: str

    def attachment(self, att_id: str) -> ManifestEntry:
        """Return one manifest entry by id."""
        for entry in self.attachments:
            if entry.id == att_id:
                return entry
        raise AttachmentError(f"no attachment {att_id} in message {self.msg_id}")


@dataclass(frozen=True)
class Delivery:
    """The outcome of receiving an envelope: the opened envelope and our signed receipt."""

    envelope: OpenedEnvelope
    receipt: bytes


@dataclass(frozen=True)
class ReceiptInfo:
    """A verified receipt."""

    issuer: str
    in_reply_to: str | None
    status: str
    evidence: str
    envelope_sha256: str
    issued_at: dt.datetime
    claims: dict[str, Any]


def envelope_sha256(envelope: bytes | str) -> str:
    """Return the SHA-256 (hex) of the exact envelope bytes, as receipts quote it."""
    data = envelope.encode("utf-8") if isinstance(envelope, str) else envelope
    return hashlib.sha256(data).hexdigest()


def routing_header(envelope: bytes | str) -> dict[str, Any]:
    """Read the (unauthenticated) routing header of an envelope without decrypting it."""
    parts = _jose.split_compact(envelope, 5, "JWE")
    return _jose.read_protected(parts[0], "JWE")


def _source(source: Path | IO[bytes]) -> AbstractContextManager[IO[bytes]]:
    """Open a path for reading, or pass a stream through (the caller closes it)."""
    return open(source, "rb") if isinstance(source, Path) else nullcontext(source)


def _attachment_ad(msg_id: str, att_id: str) -> bytes:
    # The blob's associated data ties it to its message and slot (Tink uses it as HKDF info).
    return f"{msg_id}/{att_id}".encode()


def _check_claims(claims: dict[str, Any]) -> None:
    for name, kind in _CLAIM_TYPES.items():
        if name not in claims:
            raise MalformedEnvelope(f"claim {name!r} is missing")
        value = claims[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise MalformedEnvelope(f"claim {name!r} has the wrong type")
    _check_ids(claims["msg_id"], claims["conversation"], claims["in_reply_to"], claims["typ"])


def _check_ids(msg_id: str, conversation: str, in_reply_to: str | None, msg_type: str) -> None:
    # The formats of v1/claims.json; ids also key the seen-message register.
    if not (UUID.match(msg_id) and UUID.match(conversation)):
        raise MalformedEnvelope("msg_id and conversation must be lower-case UUIDs")
    if in_reply_to is not None and not UUID.match(in_reply_to):
        raise MalformedEnvelope("in_reply_to must be a lower-case UUID or null")
    if len(msg_type) > 64 or not MSG_TYPE.match(msg_type):
        raise MalformedEnvelope(f"invalid message type {msg_type!r}")


class Envelopes:
    """The envelope façade of one node: seal, open, receive, receipts, signed tokens."""

    def __init__(
        self,
        keys: KeyStore,
        trust: TrustStore,
        seen: SeenMessages | None = None,
        *,
        max_envelope_bytes: int = MAX_ENVELOPE_BYTES,
        max_attachment_bytes: int = MAX_ATTACHMENT_BYTES,
        prefer_pq: bool = True,
    ) -> None:
        self.keys = keys
        self.trust = trust
        self.seen = seen
        self.max_envelope_bytes = max_envelope_bytes
        self.max_attachment_bytes = max_attachment_bytes
        self.prefer_pq = prefer_pq
        self._public: dict[str, tuple[str, Any]] = {}

    # -- key resolution (our trust store only, by kid) --------------------------------------

    def _public_key(self, trusted: TrustEntry) -> Any:
        cached = self._public.get(trusted.kid)
        if cached is None or cached[0] != trusted.authority:
            cached = (trusted.authority, key_from_jwk(trusted.jwk))
            self._public[trusted.kid] = cached
        return cached[1]

    def _sender_key(
        self, kid: str, allowed_issuers: Collection[str] | None, now: dt.datetime
    ) -> TrustEntry:
        trusted = self.trust.get(kid)
        if trusted is None:
            raise UnknownSenderKey(f"signing key {kid} is not in our trust store")
        if trusted.use != "sig" or trusted.jwk.get("crv") != "Ed25519":
            raise AlgorithmNotAllowed(f"key {kid} is not an Ed25519 signing key")
        trusted.check_usable(now)
        if allowed_issuers is not None and trusted.authority not in allowed_issuers:
            raise WrongSenderKey(f"key {kid} belongs to {trusted.authority}, not an allowed issuer")
        return trusted

    def recipient_key(self, recipient: str, now: dt.datetime | None = None) -> TrustEntry:
        """Choose the key to encrypt to: the newest usable hybrid key if preferred, else X25519."""
        now = now or utcnow()
        usable = [
            k
            for k in self.trust.for_authority(check_authority(recipient))
            if k.use == "enc" and (k.revoked_at is None or k.revoked_at > now)
        ]
        pq = [k for k in usable if k.jwk.get("kty") == "AKP"]
        classic = [k for k in usable if k.jwk.get("crv") == "X25519"]
        chosen = (pq if self.prefer_pq and pq else classic) or pq
        if not chosen:
            raise UnknownKey(f"no trusted encryption key for {recipient}")
        return chosen[-1]

    # -- seal -------------------------------------------------------------------------------

    def seal(
        self,
        body: Mapping[str, Any],
        *,
        sender: str,
        recipient: str,
        msg_type: str,
        conversation: str | None = None,
        in_reply_to: str | None = None,
        attachments: Sequence[AttachmentIn] = (),
        blob_dir: Path | None = None,
        msg_id: str | None = None,
        segment_size: int = DEFAULT_SEGMENT_SIZE,
        now: dt.datetime | None = None,
    ) -> SealedEnvelope:
        """Sign ``body`` as ``sender``, encrypt it to ``recipient``; blobs go to ``blob_dir``."""
        now = now or utcnow()
        msg_id = msg_id or str(uuid.uuid4())
        _check_ids(msg_id, conversation or msg_id, in_reply_to, msg_type)
        for item in attachments:
            if not 0 < len(item.name) <= 255 or not MEDIA_TYPE.match(item.media_type):
                raise MalformedEnvelope(f"attachment name or media type is invalid: {item.name!r}")
        if len(attachments) > MAX_ATTACHMENTS:
            raise OversizedEnvelope(f"more than {MAX_ATTACHMENTS} attachments")
        if attachments and blob_dir is None:
            raise AttachmentError("attachments need a blob_dir to write their encrypted blobs")
        sig_kid, sig_key = self.keys.signing_key(check_authority(sender), now)
        target = self.recipient_key(recipient, now)
        manifest: list[ManifestEntry] = []
        blobs: dict[str, Path] = {}
        try:
            for index, item in enumerate(attachments, start=1):
                att_id, ikm = f"a{index}", os.urandom(32)
                blobs[att_id] = Path(blob_dir or ".") / f"{msg_id}.{att_id}.blob"
                with open(blobs[att_id], "wb") as dst, _source(item.source) as src:
                    size, sha = encrypt_stream(
                        ikm,
                        src,
                        dst,
                        _attachment_ad(msg_id, att_id),
                        segment_size,
                        self.max_attachment_bytes,
                    )
                manifest.append(
                    ManifestEntry(att_id, item.name, item.media_type, size, sha, ikm, segment_size)
                )
        except BaseException:
            for path in blobs.values():  # no half-written blob stays behind
                path.unlink(missing_ok=True)
            raise
        claims = {
            "iss": sender,
            "aud": recipient,
            "enc_kid": target.kid,
            "msg_id": msg_id,
            "typ": msg_type,
            "conversation": conversation or msg_id,
            "in_reply_to": in_reply_to,
            "iat": int(now.timestamp()),
            "body": dict(body),
            "attachments": [m.to_claim() for m in manifest],
        }
        jws = _jose.jws_sign(
            {"alg": "EdDSA", "kid": sig_kid, "typ": MESSAGE_JWS_TYP},
            _jose.json_bytes(claims),
            sig_key,
        )
        header = {
            "kid": target.kid,
            "cty": "JWT",
            "msg_id": msg_id,
            "iss": sender,
            "aud": recipient,
            "typ": msg_type,
        }
        public = self._public_key(target)
        if isinstance(public, x25519.X25519PublicKey):
            token = _jose.jwe_encrypt(header, jws.encode("ascii"), public)
        else:
            token = _jose.hpke_encrypt(header, jws.encode("ascii"), public)
        data = token.encode("ascii")
        if len(data) > self.max_envelope_bytes:
            raise OversizedEnvelope(f"envelope is larger than {self.max_envelope_bytes} bytes")
        return SealedEnvelope(data, msg_id, envelope_sha256(data), blobs)

    # -- open -------------------------------------------------------------------------------

    def open(self, envelope: bytes | str, *, now: dt.datetime | None = None) -> OpenedEnvelope:
        """Decrypt and verify an envelope addressed to one of our authorities (no replay check)."""
        now = now or utcnow()
        data = envelope.encode("utf-8") if isinstance(envelope, str) else bytes(envelope)
        if len(data) > self.max_envelope_bytes:
            raise OversizedEnvelope(f"envelope is larger than {self.max_envelope_bytes} bytes")
        header, parts = _jose.jwe_parse(data, (_jose.JWE_ALG, _jose.HPKE_ALG))
        if not all(isinstance(header.get(name), str) for name in _ROUTING):
            raise MalformedEnvelope("JWE header lacks the routing copies msg_id, iss, aud, typ")
        if not self.keys.hosts(header["aud"]):
            raise NotAddressedToUs(f"envelope is addressed to {header['aud']}, not hosted here")
        try:
            info, private = self.keys.decryption_key(header["kid"], now)
        except UnknownKey as exc:
            raise UnknownRecipientKey(
                f"envelope is encrypted to key {header['kid']}, which we do not hold"
            ) from exc
        if info.authority != header["aud"]:
            raise NotAddressedToUs(
                f"key {info.kid} belongs to {info.authority}, not to {header['aud']}"
            )
        if header["alg"] == _jose.JWE_ALG and isinstance(private, x25519.X25519PrivateKey):
            inner, suite = _jose.jwe_decrypt(header, parts, private), "x25519"
        elif header["alg"] == _jose.HPKE_ALG and isinstance(private, hpke.MLKEM768X25519PrivateKey):
            inner, suite = _jose.hpke_decrypt(parts, private), "mlkem768-x25519"
        else:
            raise AlgorithmNotAllowed(f"alg {header['alg']} does not match key {info.kid}")
        claims, sig_kid = self._verify_inner(inner, now)
        # A signed payload names its recipient and recipient key, so it cannot be re-encrypted
        # to a third party (DESIGN.md, "inner").
        if claims["aud"] != header["aud"] or claims["enc_kid"] != header["kid"]:
            raise NotAddressedToUs(
                f"signed claims address {claims['aud']} / key {claims['enc_kid']}"
            )
        for name in _ROUTING:
            if header[name] != claims[name]:
                raise HeaderClaimsMismatch(f"header {name!r} differs from the signed claim")
        issued = dt.datetime.fromtimestamp(claims["iat"], dt.UTC)
        if issued > now + CLOCK_SKEW:
            raise MalformedEnvelope("envelope is dated in the future")
        manifest = tuple(ManifestEntry.from_claim(c) for c in claims["attachments"])
        if len({m.id for m in manifest}) != len(manifest) or len(manifest) > MAX_ATTACHMENTS:
            raise MalformedEnvelope("attachment manifest has duplicate ids or too many entries")
        if any(m.size > self.max_attachment_bytes for m in manifest):
            raise OversizedEnvelope("an attachment is larger than the configured limit")
        return OpenedEnvelope(
            msg_id=claims["msg_id"],
            sender=claims["iss"],
            recipient=claims["aud"],
            msg_type=claims["typ"],
            conversation=claims["conversation"],
            in_reply_to=claims["in_reply_to"],
            issued_at=issued,
            body=claims["body"],
            attachments=manifest,
            claims=claims,
            header=header,
            envelope_sha256=envelope_sha256(data),
            suite=suite,
            sender_kid=sig_kid,
        )

    def _verify_inner(self, inner: bytes, now: dt.datetime) -> tuple[dict[str, Any], str]:
        try:
            text = inner.decode("ascii")
        except UnicodeDecodeError as exc:
            raise MalformedEnvelope("inner JWS is not ASCII") from exc
        jws_header, jws_parts = _jose.jws_parse(text)
        if jws_header.get("typ") != MESSAGE_JWS_TYP:
            raise MalformedEnvelope("inner JWS is not an exchange message")
        trusted = self._sender_key(jws_header["kid"], None, now)
        payload = _jose.jws_verify(jws_parts, self._public_key(trusted))
        claims = _jose.json_object(payload, "signed claims", unique=False)
        _check_claims(claims)
        if claims["iss"] != trusted.authority:
            raise WrongSenderKey(
                f"claims say {claims['iss']} but key {trusted.kid} belongs to {trusted.authority}"
            )
        return claims, trusted.kid

    def receive(self, envelope: bytes | str, *, now: dt.datetime | None = None) -> Delivery:
        """Open an envelope once: answer with a ``delivered`` receipt and remember its message id.

        Raises ReplayedMessage (carrying the original receipt) when the id was already accepted.
        """
        if self.seen is None:
            raise EnvelopeError("receive() needs a seen-message register")
        now = now or utcnow()
        opened = self.open(envelope, now=now)
        original = self.seen.receipt_for(opened.msg_id)
        if original is not None:
            raise ReplayedMessage(opened.msg_id, original)
        receipt = self.make_receipt(
            opened.recipient,
            opened.envelope_sha256,
            "delivered",
            in_reply_to=opened.msg_id,
            to=opened.sender,
            now=now,
        )
        kept = self.seen.remember(opened.msg_id, receipt, now)
        if kept != receipt:  # another worker accepted the same message a moment ago
            raise ReplayedMessage(opened.msg_id, kept)
        return Delivery(opened, receipt)

    # -- attachments ------------------------------------------------------------------------

    def open_attachment(
        self, opened: OpenedEnvelope, att_id: str, src: IO[bytes], dst: IO[bytes]
    ) -> ManifestEntry:
        """Stream-decrypt one attachment blob into ``dst``; check its size and SHA-256.

        Each segment is authenticated before it is written; a final size or hash mismatch
        raises after the last segment, so write to a temporary place (see save_attachment).
        """
        entry = opened.attachment(att_id)
        decrypt_stream(
            entry.key,
            src,
            dst,
            _attachment_ad(opened.msg_id, entry.id),
            entry.segment_size,
            entry.size,
            entry.sha256,
        )
        return entry

    def save_attachment(
        self, opened: OpenedEnvelope, att_id: str, src: IO[bytes], dest: Path
    ) -> ManifestEntry:
        """Decrypt one attachment to ``dest``, which appears only if every check passed."""
        result: list[ManifestEntry] = []
        copy_to_path(lambda fh: result.append(self.open_attachment(opened, att_id, src, fh)), dest)
        return result[0]

    # -- receipts (delivery evidence) -------------------------------------------------------

    def make_receipt(
        self,
        authority: str,
        envelope_digest: str,
        status: str,
        *,
        in_reply_to: str | None,
        to: str | None,
        now: dt.datetime | None = None,
    ) -> bytes:
        """Sign a ``delivered``, ``rejected:<reason>`` or ``retrieved`` receipt."""
        kind = status.split(":", 1)[0]
        if kind not in EVIDENCE or (kind == "rejected") != (":" in status):
            raise MalformedEnvelope(f"invalid receipt status {status!r}")
        now = now or utcnow()
        claims = {
            "iss": authority,
            "aud": to,
            "receipt_id": str(uuid.uuid4()),
            "in_reply_to": in_reply_to,
            "envelope_sha256": envelope_digest,
            "status": status,
            "evidence": EVIDENCE[kind],
            "iat": int(now.timestamp()),
        }
        kid, key = self.keys.signing_key(authority, now)
        return _jose.jws_sign(
            {"alg": "EdDSA", "kid": kid, "typ": RECEIPT_JWS_TYP}, _jose.json_bytes(claims), key
        ).encode("ascii")

    def reject(
        self,
        envelope: bytes | str,
        error: EnvelopeError,
        *,
        authority: str,
        now: dt.datetime | None = None,
    ) -> bytes:
        """Sign a ``rejected:<reason>`` receipt for an envelope we refused."""
        msg_id: str | None = None
        sender: str | None = None
        try:
            header = routing_header(envelope)
            msg_id = header["msg_id"] if isinstance(header.get("msg_id"), str) else None
            sender = header["iss"] if isinstance(header.get("iss"), str) else None
        except EnvelopeError:
            pass
        data = envelope.encode("utf-8") if isinstance(envelope, str) else envelope
        return self.make_receipt(
            authority,
            envelope_sha256(data),
            f"rejected:{error.reason}",
            in_reply_to=msg_id,
            to=sender,
            now=now,
        )

    def retrieved(self, opened: OpenedEnvelope, *, now: dt.datetime | None = None) -> bytes:
        """Sign the ``retrieved`` evidence when a person first opens a delivered message."""
        return self.make_receipt(
            opened.recipient,
            opened.envelope_sha256,
            "retrieved",
            in_reply_to=opened.msg_id,
            to=opened.sender,
            now=now,
        )

    def check_receipt(
        self, receipt: bytes | str, envelope: bytes | str, *, now: dt.datetime | None = None
    ) -> ReceiptInfo:
        """Verify a receipt and check that it answers exactly this envelope (which we sent)."""
        header = routing_header(envelope)
        claims, _ = self._verify_token(receipt, [header["aud"]], RECEIPT_JWS_TYP, now or utcnow())
        if claims.get("envelope_sha256") != envelope_sha256(envelope):
            raise ReceiptMismatch("receipt quotes another envelope's SHA-256")
        if claims.get("in_reply_to") not in (header["msg_id"], None):
            raise ReceiptMismatch("receipt answers another message id")
        if claims.get("aud") not in (header["iss"], None):
            raise ReceiptMismatch("receipt is addressed to another authority")
        status = claims.get("status")
        if not isinstance(status, str) or status.split(":", 1)[0] not in EVIDENCE:
            raise MalformedEnvelope("receipt status is invalid")
        if claims.get("evidence") != EVIDENCE[status.split(":", 1)[0]]:
            raise MalformedEnvelope("receipt evidence does not match its status")
        return ReceiptInfo(
            issuer=claims["iss"],
            in_reply_to=claims.get("in_reply_to"),
            status=status,
            evidence=claims["evidence"],
            envelope_sha256=claims["envelope_sha256"],
            issued_at=dt.datetime.fromtimestamp(claims["iat"], dt.UTC),
            claims=claims,
        )

    # -- generic signed tokens (node descriptor, ...) ---------------------------------------

    def sign_jws(self, authority: str, claims: Mapping[str, Any], *, typ: str = "JWT") -> str:
        """Sign claims as a compact JWS with the authority's Ed25519 key (adds iss and iat)."""
        now = utcnow()
        body = {"iss": authority, "iat": int(now.timestamp()), **claims}
        if body["iss"] != authority:
            raise MalformedEnvelope("claims 'iss' must be the signing authority")
        kid, key = self.keys.signing_key(authority, now)
        return _jose.jws_sign({"alg": "EdDSA", "kid": kid, "typ": typ}, _jose.json_bytes(body), key)

    def verify_jws(
        self, token: bytes | str, allowed_issuers: Collection[str], *, typ: str | None = None
    ) -> dict[str, Any]:
        """Verify a compact JWS signed by one of ``allowed_issuers``; return its claims."""
        return self._verify_token(token, allowed_issuers, typ, utcnow())[0]

    def _verify_token(
        self,
        token: bytes | str,
        allowed_issuers: Collection[str],
        typ: str | None,
        now: dt.datetime,
    ) -> tuple[dict[str, Any], TrustEntry]:
        header, parts = _jose.jws_parse(token)
        if typ is not None and header.get("typ") != typ:
            raise MalformedEnvelope(f"token typ is not {typ}")
        trusted = self._sender_key(header["kid"], allowed_issuers, now)
        claims = _jose.json_object(_jose.jws_verify(parts, self._public_key(trusted)), "claims")
        if claims.get("iss") != trusted.authority:
            raise WrongSenderKey(f"claims 'iss' is not {trusted.authority}, the key's authority")
        if not isinstance(claims.get("iat"), int):
            raise MalformedEnvelope("claims lack an integer 'iat'")
        return claims, trusted


def local_trust(keys: KeyStore, trust: TrustStore, authority: str) -> list[TrustEntry]:
    """Add our own authority's public keys to the trust store (hosted authorities talk too)."""
    return import_jwks(trust, keys.public_jwks(authority), source="local")
