"""Seal and open envelopes (wire format v1), receipts, and generic signed tokens.

Wire format v1 (schemas/README.md describes it for other implementers):

* inner: compact JWS, ``EdDSA`` over Ed25519 (RFC 7515, RFC 8037), header ``{alg, kid, typ:
  "exchange-message+jwt"}``, claims ``iss, aud, enc_kid, msg_id, typ, conversation,
  in_reply_to, iat, body, attachments``;
* outer: compact JWE ``ECDH-ES+A256KW`` / ``A256GCM`` to the recipient's X25519 key (RFC 7516,
  RFC 7518 §4.6), or the HPKE suite (RFC 9180) where the recipient publishes a hybrid key; its
  protected header repeats ``msg_id, iss, aud, typ`` for routing, checked against the claims.

The façade is composed by concern: ``sealing``, ``opening``, ``receipts`` (with generic signed
tokens), over ``resolution`` (keys) and ``wire`` (limits, types, checks).
"""

from __future__ import annotations

from .opening import Opening
from .sealing import Sealing
from .trust import local_trust
from .wire import (
    AttachmentIn,
    Delivery,
    ManifestEntry,
    OpenedEnvelope,
    ReceiptInfo,
    SealedEnvelope,
    envelope_sha256,
    routing_header,
)

__all__ = [
    "AttachmentIn",
    "Delivery",
    "Envelopes",
    "ManifestEntry",
    "OpenedEnvelope",
    "ReceiptInfo",
    "SealedEnvelope",
    "envelope_sha256",
    "local_trust",
    "routing_header",
]


class Envelopes(Sealing, Opening):
    """The envelope façade of one node: seal, open, receive, receipts, signed tokens."""
