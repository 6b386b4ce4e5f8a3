"""Opening envelopes: every outer check before any decryption, then the signed inner message;
receiving once; attachments in constant memory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import x25519

from . import _jose
from .errors import (
    AlgorithmNotAllowed,
    EnvelopeError,
    HeaderClaimsMismatch,
    MalformedEnvelope,
    NotAddressedToUs,
    OversizedEnvelope,
    ReplayedMessage,
    UnknownKey,
    UnknownRecipientKey,
    WrongSenderKey,
)
from .keys import utcnow
from .receipts import Receipts
from .streaming import copy_to_path, decrypt_stream
from .wire import (
    _ROUTING,
    CLOCK_SKEW,
    MAX_ATTACHMENTS,
    MESSAGE_JWS_TYP,
    Delivery,
    ManifestEntry,
    OpenedEnvelope,
    _attachment_ad,
    _check_claims,
    envelope_sha256,
    issued_at,
)


class Opening(Receipts):
    """Open, receive and read the attachments of envelopes addressed to our authorities."""

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
        issued = issued_at(claims["iat"])
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
