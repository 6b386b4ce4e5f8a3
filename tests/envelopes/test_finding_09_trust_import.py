"""Finding 9: keys of an authority hosted here come from our key store only, and each key type
serves only its own use."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from flask import Flask

from exchange.envelopes import (
    AlgorithmNotAllowed,
    KeyStoreError,
    MalformedEnvelope,
    MemoryTrustStore,
    WrongSenderKey,
    _jose,
    import_jwks,
)
from exchange.envelopes.jwk import public_jwk
from exchange.envelopes.stores import DbTrustStore
from exchange.envelopes.trust import trusted_key
from exchange.extensions import db

from .conftest import PQ_RECIPIENT, RECIPIENT, SENDER, Node, make_node


def forged_sig_jwk() -> tuple[ed25519.Ed25519PrivateKey, dict[str, Any]]:
    """A new Ed25519 key someone would like us to trust."""
    key = ed25519.Ed25519PrivateKey.generate()
    return key, public_jwk(key.public_key(), use="sig")


def test_finding_09_trust_import_refuses_hosted_authority(
    federation: tuple[Node, Node, Node],
) -> None:
    dakar = federation[0]
    _, jwk = forged_sig_jwk()
    trust = MemoryTrustStore()
    for jwks, authority in (
        ({"authority": SENDER, "keys": [jwk]}, None),
        ({"keys": [jwk]}, SENDER),
    ):
        with pytest.raises(KeyStoreError, match="hosted on this node"):
            import_jwks(trust, jwks, hosted=dakar.keys.authorities_set(), authority=authority)
    assert trust.get(jwk["kid"]) is None
    # The authority named on the command line and in the file must agree.
    with pytest.raises(MalformedEnvelope, match="not for"):
        import_jwks(trust, {"authority": SENDER, "keys": [jwk]}, hosted=(), authority="CI-CA")


def test_finding_09_trust_import_command_refuses_hosted_authority(
    runner: Any, app: Flask, tmp_path: Path
) -> None:
    assert runner.invoke(args=["keys", "generate", "SN-CA", "--no-pdf"]).exit_code == 0
    _, jwk = forged_sig_jwk()
    peer_file = tmp_path / "peer-jwks.json"
    peer_file.write_text(json.dumps({"authority": "SN-CA", "keys": [jwk]}))
    result = runner.invoke(args=["trust", "import", str(peer_file)])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ") and "SN-CA is hosted on this node" in result.stderr
    assert DbTrustStore(db.session).get(jwk["kid"]) is None


def test_finding_09_a_key_trusted_earlier_for_a_hosted_authority_signs_nothing(
    tmp_path: Path,
) -> None:
    """A key imported for a hosted authority before imports refused it is not believed."""
    node = make_node(tmp_path / "node", SENDER, RECIPIENT)
    forger, jwk = forged_sig_jwk()
    node.trust.put(trusted_key(SENDER, jwk, source="import:peer-jwks.json"))
    target = node.envelopes.recipient_key(RECIPIENT)
    msg_id = str(uuid.uuid4())
    claims = {
        "iss": SENDER,
        "aud": RECIPIENT,
        "enc_kid": target.kid,
        "msg_id": msg_id,
        "typ": "message",
        "conversation": msg_id,
        "in_reply_to": None,
        "iat": int(dt.datetime.now(dt.UTC).timestamp()),
        "body": {"order": "forged"},
        "attachments": [],
    }
    jws = _jose.jws_sign(
        {"alg": "EdDSA", "kid": jwk["kid"], "typ": "exchange-message+jwt"},
        _jose.json_bytes(claims),
        forger,
    )
    routing = {"kid": target.kid, "cty": "JWT", "msg_id": msg_id, "iss": SENDER, "aud": RECIPIENT}
    envelope = _jose.jwe_encrypt(
        {**routing, "typ": "message"}, jws.encode(), node.envelopes._public_key(target)
    )
    with pytest.raises(WrongSenderKey, match="hosted here"):
        node.envelopes.open(envelope)


def test_finding_09_we_never_encrypt_to_a_foreign_key_of_a_hosted_authority(
    tmp_path: Path,
) -> None:
    node = make_node(tmp_path / "node", SENDER, RECIPIENT)
    ours = node.envelopes.recipient_key(RECIPIENT)
    planted = public_jwk(x25519.X25519PrivateKey.generate().public_key(), use="enc")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)  # newest: would have been chosen
    node.trust.put(trusted_key(RECIPIENT, planted, source="import", now=later))
    assert node.envelopes.recipient_key(RECIPIENT).kid == ours.kid
    sealed = node.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    assert node.envelopes.open(sealed.token).recipient == RECIPIENT


def _mismatched_keys(accra: Node) -> list[dict[str, Any]]:
    hybrid = next(k for k in accra.keys.public_jwks(PQ_RECIPIENT)["keys"] if k["kty"] == "AKP")
    return [
        public_jwk(x25519.X25519PrivateKey.generate().public_key(), use="sig"),
        public_jwk(ed25519.Ed25519PrivateKey.generate().public_key(), use="enc"),
        {**hybrid, "use": "sig"},
        public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key(), use="sig"),
        {
            **public_jwk(ed25519.Ed25519PrivateKey.generate().public_key(), use="sig"),
            "alg": "ES256",
        },
    ]


def test_finding_09_trust_import_refuses_key_type_not_matching_use(
    federation: tuple[Node, Node, Node],
) -> None:
    accra = federation[2]
    trust = MemoryTrustStore()
    for jwk in _mismatched_keys(accra):
        with pytest.raises(AlgorithmNotAllowed, match="cannot be trusted for use"):
            import_jwks(trust, {"authority": "CI-CA", "keys": [jwk]}, hosted=())
    # The right pairs still import: Ed25519 signs, X25519 and the hybrid key encrypt.
    good = import_jwks(trust, accra.keys.public_jwks(PQ_RECIPIENT), hosted=())
    assert sorted((k.use, k.jwk["kty"], k.jwk.get("crv", "")) for k in good) == [
        ("enc", "AKP", ""),
        ("enc", "OKP", "X25519"),
        ("sig", "OKP", "Ed25519"),
    ]
