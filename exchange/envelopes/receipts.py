"""Receipts (delivery evidence, ETSI REM vocabulary) and generic signed tokens."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping
from typing import Any

from . import _jose
from .errors import (
    EnvelopeError,
    MalformedEnvelope,
    OversizedEnvelope,
    ReceiptMismatch,
    WrongSenderKey,
)
from .keys import utcnow
from .resolution import EnvelopeKeys
from .trust import TrustEntry
from .wire import (
    EVIDENCE,
    MAX_RECEIPT_BYTES,
    RECEIPT_JWS_TYP,
    OpenedEnvelope,
    ReceiptInfo,
    envelope_sha256,
    issued_at,
    routing_header,
)


class Receipts(EnvelopeKeys):
    """Sign and check receipts and other signed tokens (the node descriptor...)."""

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
            header = routing_header(envelope, self.max_envelope_bytes)
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
        header = routing_header(envelope, self.max_envelope_bytes)
        if not all(isinstance(header.get(name), str) for name in ("msg_id", "iss", "aud")):
            raise MalformedEnvelope("envelope header lacks the routing copies msg_id, iss, aud")
        claims, _ = self._verify_token(
            receipt, [header["aud"]], RECEIPT_JWS_TYP, now or utcnow(), MAX_RECEIPT_BYTES
        )
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
            issued_at=issued_at(claims["iat"]),
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
        return self._verify_token(token, allowed_issuers, typ, utcnow(), self.max_envelope_bytes)[0]

    def _verify_token(
        self,
        token: bytes | str,
        allowed_issuers: Collection[str],
        typ: str | None,
        now: dt.datetime,
        max_bytes: int,
    ) -> tuple[dict[str, Any], TrustEntry]:
        if len(token) > max_bytes:  # bounded before any parsing (finding 8)
            raise OversizedEnvelope(f"signed token is larger than {max_bytes} bytes")
        header, parts = _jose.jws_parse(token)
        if typ is not None and header.get("typ") != typ:
            raise MalformedEnvelope(f"token typ is not {typ}")
        trusted = self._sender_key(header["kid"], allowed_issuers, now)
        claims = _jose.json_object(_jose.jws_verify(parts, self._public_key(trusted)), "claims")
        if claims.get("iss") != trusted.authority:
            raise WrongSenderKey(f"claims 'iss' is not {trusted.authority}, the key's authority")
        issued_at(claims.get("iat"))
        return claims, trusted
