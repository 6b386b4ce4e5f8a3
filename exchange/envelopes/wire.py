"""The pieces of wire format v1 that sealing, opening and receipts share: limits, types, checks.

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
import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from . import _jose
from .errors import (
    AlgorithmNotAllowed,
    AttachmentError,
    MalformedEnvelope,
    OversizedEnvelope,
)
from .streaming import MAX_SEGMENT_SIZE, MIN_SEGMENT_SIZE

MESSAGE_JWS_TYP = "exchange-message+jwt"  # explicit typing, RFC 8725 §3.11
RECEIPT_JWS_TYP = "exchange-receipt+jwt"
STREAMING_ALG = "AES256_GCM_HKDF_STREAMING"
MSG_TYPE = re.compile(r"^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MEDIA_TYPE = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$")
MAX_ENVELOPE_BYTES = 8 << 20
MAX_ATTACHMENT_BYTES = 8 << 30
MAX_ATTACHMENTS = 256
# A receipt is about 600 bytes; a peer's answer is read no further than this.
MAX_RECEIPT_BYTES = 16 << 10
# "iat" is seconds since 1970 (RFC 7519 §2, NumericDate); later than 9999-12-31 is no date.
MAX_IAT = 253402300799
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
        if not isinstance(claim, dict) or not isinstance(claim.get("key"), str):
            raise MalformedEnvelope("attachment manifest entry is incomplete")
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
            and _count(entry.size)
            and _count(entry.segment_size)
            and MIN_SEGMENT_SIZE <= entry.segment_size <= MAX_SEGMENT_SIZE
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


def routing_header(envelope: bytes | str, max_bytes: int = MAX_ENVELOPE_BYTES) -> dict[str, Any]:
    """Read the (unauthenticated) routing header of an envelope without decrypting it."""
    if len(envelope) > max_bytes:
        raise OversizedEnvelope(f"envelope is larger than {max_bytes} bytes")
    parts = _jose.split_compact(envelope, 5, "JWE")
    return _jose.read_protected(parts[0], "JWE")


def issued_at(iat: Any) -> dt.datetime:
    """Return the instant of an ``iat`` claim, refusing what is no date (finding 20)."""
    if not _count(iat) or iat > MAX_IAT:
        raise MalformedEnvelope("claim 'iat' is not a date")
    return dt.datetime.fromtimestamp(iat, dt.UTC)


def _count(value: Any) -> bool:
    # JSON true and false are Python ints: a count is an int that is not a bool, and not negative.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


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
    issued_at(claims["iat"])
    _check_ids(claims["msg_id"], claims["conversation"], claims["in_reply_to"], claims["typ"])


def _check_ids(msg_id: str, conversation: str, in_reply_to: str | None, msg_type: str) -> None:
    # The formats of v1/claims.json; ids also key the seen-message register.
    if not (UUID.match(msg_id) and UUID.match(conversation)):
        raise MalformedEnvelope("msg_id and conversation must be lower-case UUIDs")
    if in_reply_to is not None and not UUID.match(in_reply_to):
        raise MalformedEnvelope("in_reply_to must be a lower-case UUID or null")
    if len(msg_type) > 64 or not MSG_TYPE.match(msg_type):
        raise MalformedEnvelope(f"invalid message type {msg_type!r}")
