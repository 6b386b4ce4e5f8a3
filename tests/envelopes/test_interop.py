"""Interop: our envelopes open with jwcrypto and joserfc, and jwcrypto's envelopes open with us."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from joserfc import jwe as rfc_jwe
from joserfc import jws as rfc_jws
from joserfc.jwk import OKPKey
from joserfc.registry import HeaderParameter
from jwcrypto import jwe, jwk, jws

from exchange.envelopes import KeyStore, ReplayedMessage
from exchange.envelopes._jose import b64e

from .conftest import RECIPIENT, SENDER, Node


def private_jwk(keys: KeyStore, kid: str) -> dict[str, Any]:
    """Return one of our private keys as a JWK, for the independent libraries."""
    key = keys.private_key(kid)
    info = keys.info(kid)
    if isinstance(key, ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey):
        return {**info.jwk, "d": b64e(key.private_bytes_raw())}
    raise TypeError(type(key))


def enc_kid(node: Node, code: str) -> str:
    info = node.keys.active(code, "enc")
    assert info is not None
    return info.kid


def sig_kid(node: Node, code: str) -> str:
    info = node.keys.active(code, "sig")
    assert info is not None
    return info.kid


def test_jwcrypto_decrypts_and_verifies_our_envelope(federation: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = federation
    sealed = dakar.envelopes.seal(
        {"note": "bonjour"}, sender=SENDER, recipient=RECIPIENT, msg_type="message"
    )
    token = jwe.JWE()
    token.deserialize(
        sealed.token.decode(), key=jwk.JWK(**private_jwk(abuja.keys, enc_kid(abuja, RECIPIENT)))
    )
    header = json.loads(token.objects["protected"])
    assert header["alg"] == "ECDH-ES+A256KW" and header["enc"] == "A256GCM"
    inner = jws.JWS()
    inner.deserialize(token.payload.decode())
    public = jwk.JWK(**dakar.keys.info(sig_kid(dakar, SENDER)).jwk)
    inner.verify(public, alg="EdDSA")
    claims = json.loads(inner.payload)
    assert claims["body"] == {"note": "bonjour"}
    for name in ("msg_id", "iss", "aud", "typ"):
        assert header[name] == claims[name]
    assert claims["enc_kid"] == header["kid"] == enc_kid(abuja, RECIPIENT)


# joserfc flags "EdDSA" as superseded by RFC 9864's "Ed25519"; wire format v1 names EdDSA.
@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_joserfc_decrypts_and_verifies_our_envelope(federation: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = federation
    sealed = dakar.envelopes.seal(
        {"n": 1}, sender=SENDER, recipient=RECIPIENT, msg_type="mla.request"
    )
    registry = rfc_jwe.JWERegistry(
        algorithms=["ECDH-ES+A256KW", "A256GCM"],
        header_registry={n: HeaderParameter(n, "str") for n in ("msg_id", "iss", "aud")},
    )
    key = OKPKey.import_key(private_jwk(abuja.keys, enc_kid(abuja, RECIPIENT)))
    outer = rfc_jwe.decrypt_compact(sealed.token, key, registry=registry)
    assert outer.plaintext is not None
    public = OKPKey.import_key(dakar.keys.info(sig_kid(dakar, SENDER)).jwk)
    inner = rfc_jws.deserialize_compact(outer.plaintext, public, algorithms=["EdDSA"])
    assert json.loads(inner.payload)["body"] == {"n": 1}


def jwcrypto_envelope(
    sender: Node, recipient: Node, claims_extra: dict[str, Any] | None = None
) -> tuple[str, str]:
    """Build an envelope entirely with jwcrypto: inner JWS, outer JWE."""
    msg_id = str(uuid.uuid4())
    kid = enc_kid(recipient, RECIPIENT)
    claims = {
        "iss": SENDER,
        "aud": RECIPIENT,
        "enc_kid": kid,
        "msg_id": msg_id,
        "typ": "message",
        "conversation": msg_id,
        "in_reply_to": None,
        "iat": int(time.time()),
        "body": {"subject": "from jwcrypto", "text": "é", "lang": "fr"},
        "attachments": [],
        **(claims_extra or {}),
    }
    signer = jws.JWS(json.dumps(claims).encode())
    skid = sig_kid(sender, SENDER)
    signer.add_signature(
        jwk.JWK(**private_jwk(sender.keys, skid)),
        alg="EdDSA",
        protected=json.dumps({"alg": "EdDSA", "kid": skid, "typ": "exchange-message+jwt"}),
    )
    header = {
        "alg": "ECDH-ES+A256KW",
        "enc": "A256GCM",
        "kid": kid,
        "cty": "JWT",
        "msg_id": msg_id,
        "iss": SENDER,
        "aud": RECIPIENT,
        "typ": "message",
    }
    token = jwe.JWE(signer.serialize(compact=True).encode(), protected=json.dumps(header))
    token.add_recipient(jwk.JWK(**recipient.keys.info(kid).jwk))
    return token.serialize(compact=True), msg_id


def test_we_open_an_envelope_made_by_jwcrypto(nodes: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = nodes
    token, msg_id = jwcrypto_envelope(dakar, abuja)
    delivery = abuja.envelopes.receive(token)
    assert delivery.envelope.msg_id == msg_id
    assert delivery.envelope.body["subject"] == "from jwcrypto"
    assert dakar.envelopes.check_receipt(delivery.receipt, token).status == "delivered"
    with pytest.raises(ReplayedMessage) as replay:
        abuja.envelopes.receive(token)
    assert replay.value.receipt == delivery.receipt


def test_jwcrypto_verifies_our_receipt(nodes: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = nodes
    sealed = dakar.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    receipt = abuja.envelopes.receive(sealed.token).receipt
    checker = jws.JWS()
    checker.deserialize(receipt.decode())
    checker.verify(jwk.JWK(**abuja.keys.info(sig_kid(abuja, RECIPIENT)).jwk), alg="EdDSA")
    assert json.loads(checker.payload)["in_reply_to"] == sealed.msg_id


def test_thumbprints_match_jwcrypto(federation: tuple[Node, Node, Node]) -> None:
    dakar, _, _ = federation
    for info in dakar.keys.list_keys(SENDER):
        assert jwk.JWK(**info.jwk).thumbprint() == info.kid  # RFC 7638, SHA-256


def test_claims_with_ids_outside_the_schema_are_refused(nodes: tuple[Node, Node, Node]) -> None:
    from exchange.envelopes import MalformedEnvelope

    dakar, abuja, _ = nodes
    for extra in ({"conversation": "x" * 40}, {"in_reply_to": "not-a-uuid"}, {"typ": "Bad Type"}):
        token, _ = jwcrypto_envelope(dakar, abuja, extra)
        with pytest.raises(MalformedEnvelope):
            abuja.envelopes.open(token)
