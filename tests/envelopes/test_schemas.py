"""Everything the envelope layer produces validates against schemas/v1 (Draft 2020-12)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from exchange.envelopes import AttachmentIn, MalformedEnvelope, _jose, routing_header

from .conftest import PQ_RECIPIENT, RECIPIENT, SENDER, Node

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "v1"
BASE = "https://exchange.ecowas.example/schemas/v1/"


def load() -> dict[str, Any]:
    return {p.name: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}


REGISTRY = Registry().with_resources(
    (BASE + name, Resource.from_contents(doc)) for name, doc in load().items()
)


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load()[name], registry=REGISTRY)


@pytest.mark.parametrize("name", sorted(load()))
def test_schemas_are_valid_draft_2020_12(name: str) -> None:
    Draft202012Validator.check_schema(load()[name])


def jws_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return json.loads(_jose.b64d(header)), json.loads(_jose.b64d(payload))


def test_envelopes_and_receipts_validate(nodes: tuple[Node, Node, Node], tmp_path: Path) -> None:
    dakar, abuja, accra = nodes
    body = {"subject": "Demande d'entraide", "text": "Voir pièce jointe.", "lang": "fr"}
    validator("message.json").validate(body)
    (tmp_path / "note.txt").write_text("n")
    for node, code in ((abuja, RECIPIENT), (accra, PQ_RECIPIENT)):
        sealed = dakar.envelopes.seal(
            body,
            sender=SENDER,
            recipient=code,
            msg_type="message",
            attachments=[AttachmentIn("note.txt", "text/plain", tmp_path / "note.txt")],
            blob_dir=tmp_path,
        )
        validator("envelope-header.json").validate(routing_header(sealed.token))
        delivery = node.envelopes.receive(sealed.token)
        validator("claims.json").validate(delivery.envelope.claims)
        for receipt in (
            delivery.receipt,
            node.envelopes.retrieved(delivery.envelope),
            node.envelopes.reject(b"garbage", MalformedEnvelope(), authority=code),
        ):
            header, claims = jws_parts(receipt.decode())
            validator("jws-header.json").validate(header)
            validator("receipt.json").validate(claims)


def test_schemas_refuse_key_headers() -> None:
    header = {
        "alg": "ECDH-ES+A256KW",
        "enc": "A256GCM",
        "kid": "A" * 43,
        "cty": "JWT",
        "epk": {"kty": "OKP", "crv": "X25519", "x": "B" * 43},
        "msg_id": "00000000-0000-4000-8000-000000000000",
        "iss": "SN-CA",
        "aud": "NG-NAPTIP",
        "typ": "message",
    }
    validator("envelope-header.json").validate(header)
    assert not validator("envelope-header.json").is_valid({**header, "jwk": {}})
