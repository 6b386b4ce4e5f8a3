"""Sealing envelopes: sign as the sender, encrypt to the recipient, stream the attachments."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import x25519

from . import _jose
from .errors import (
    AttachmentError,
    MalformedEnvelope,
    OversizedEnvelope,
)
from .json_input import MAX_DEPTH, check_value
from .keys import check_authority, utcnow
from .resolution import EnvelopeKeys
from .streaming import DEFAULT_SEGMENT_SIZE, encrypt_stream
from .wire import (
    MAX_ATTACHMENTS,
    MEDIA_TYPE,
    MESSAGE_JWS_TYP,
    AttachmentIn,
    ManifestEntry,
    SealedEnvelope,
    _attachment_ad,
    _check_ids,
    _source,
    envelope_sha256,
)


class Sealing(EnvelopeKeys):
    """Seal messages from our authorities to trusted recipients."""

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
        # The body sits one level inside the claims; what a peer would refuse is never sealed.
        check_value(dict(body), "message body", MAX_DEPTH - 1)
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
