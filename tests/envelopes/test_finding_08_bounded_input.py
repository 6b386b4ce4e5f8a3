"""Finding 8: whatever an envelope holds, the opener refuses it with a domain error, cheaply.

The envelopes here are built as a stranger would, with only the recipient's published public key
(and, for the signed-claims cases, a trusted sender's signing key). Every refusal must be an
``EnvelopeError``: never MemoryError, ValueError, OverflowError, RecursionError or TypeError.
"""

from __future__ import annotations

import json
import os
import re
import tracemalloc
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.envelopes import (
    EnvelopeError,
    MalformedEnvelope,
    OversizedEnvelope,
    _jose,
    routing_header,
)
from exchange.envelopes.json_input import nesting_within, parse_object
from exchange.envelopes.jwk import key_from_jwk

from .conftest import RECIPIENT, SENDER, Node

PROFILE = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def published_enc_key(node: Node, code: str) -> dict[str, Any]:
    """Return the X25519 JWK a stranger downloads from the node's published JWK Set."""
    return next(k for k in node.keys.public_jwks(code)["keys"] if k.get("crv") == "X25519")


def stranger_envelope(node: Node, header: dict[str, Any] | bytes, plaintext: bytes = b"x") -> bytes:
    """Encrypt to the recipient's public key under a header (members, or raw JSON text)."""
    public = key_from_jwk(published_enc_key(node, RECIPIENT))
    assert isinstance(public, x25519.X25519PublicKey)
    ephemeral = x25519.X25519PrivateKey.generate()
    if isinstance(header, dict):  # the real ephemeral key, unless the test sets another
        x = _jose.b64e(ephemeral.public_key().public_bytes_raw())
        header_text = json.dumps({"epk": {"kty": "OKP", "crv": "X25519", "x": x}, **header})
    else:
        header_text = header.decode()
    wrap_key = _jose.concat_kdf(ephemeral.exchange(public), _jose.JWE_ALG)
    cek, iv = os.urandom(32), os.urandom(12)
    b64_header = _jose.b64e(header_text.encode())
    sealed = AESGCM(cek).encrypt(iv, plaintext, b64_header.encode("ascii"))
    parts = (aes_key_wrap(wrap_key, cek), iv, sealed[:-16], sealed[-16:])
    return ".".join([b64_header, *(_jose.b64e(p) for p in parts)]).encode()


def routing(node: Node, **extra: Any) -> dict[str, Any]:
    """Return a well-formed outer header for an envelope to the recipient, plus ``extra``."""
    enc = published_enc_key(node, RECIPIENT)
    return {
        "alg": _jose.JWE_ALG,
        "enc": _jose.JWE_ENC,
        "kid": enc["kid"],
        "cty": "JWT",
        "msg_id": str(uuid.uuid4()),
        "iss": SENDER,
        "aud": RECIPIENT,
        "typ": "message",
        **extra,
    }


def signed_envelope(dakar: Node, abuja: Node, claims_text: bytes) -> bytes:
    """A trusted sender signs raw claims text; the JWS is encrypted to the recipient."""
    kid, key = dakar.keys.signing_key(SENDER)
    jws = _jose.jws_sign(
        {"alg": "EdDSA", "kid": kid, "typ": "exchange-message+jwt"}, claims_text, key
    )
    public = key_from_jwk(published_enc_key(abuja, RECIPIENT))
    assert isinstance(public, x25519.X25519PublicKey)
    header = {k: v for k, v in routing(abuja).items() if k not in ("alg", "enc")}
    found = re.search(rb'"msg_id": "([0-9a-f-]{36})"', claims_text)
    header["msg_id"] = found.group(1).decode() if found else header["msg_id"]
    return _jose.jwe_encrypt(header, jws.encode("ascii"), public).encode()


def claims(abuja: Node, **changes: Any) -> dict[str, Any]:
    """Return well-formed claims from Dakar to Abuja, with ``changes``."""
    msg_id = str(uuid.uuid4())
    return {
        "iss": SENDER,
        "aud": RECIPIENT,
        "enc_kid": published_enc_key(abuja, RECIPIENT)["kid"],
        "msg_id": msg_id,
        "typ": "message",
        "conversation": msg_id,
        "in_reply_to": None,
        "iat": 1_760_000_000,
        "body": {},
        "attachments": [],
        **changes,
    }


@pytest.mark.parametrize("apu", [1073741824, 2**40, -1, 2**70])
def test_finding_08_header_apu_integer_is_refused_without_allocating(
    federation: tuple[Node, Node, Node], apu: int
) -> None:
    _, abuja, _ = federation
    envelope = stranger_envelope(abuja, routing(abuja, apu=apu))
    tracemalloc.start()
    try:
        with pytest.raises(MalformedEnvelope, match="apu"):
            abuja.envelopes.open(envelope)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 << 20  # the review's 1 GiB apu made the parser allocate 1 GiB


@pytest.mark.parametrize("member", ["apu", "apv"])
@pytest.mark.parametrize("value", [["AAAA"], {"a": 1}, True, "A" * 600, "AB=", "A"])
def test_finding_08_header_apu_apv_must_be_short_canonical_base64url(
    federation: tuple[Node, Node, Node], member: str, value: Any
) -> None:
    _, abuja, _ = federation
    envelope = stranger_envelope(abuja, routing(abuja, **{member: value}))
    with pytest.raises(MalformedEnvelope):
        abuja.envelopes.open(envelope)


def test_finding_08_header_nested_100000_levels_is_refused(
    federation: tuple[Node, Node, Node],
) -> None:
    _, abuja, _ = federation
    depth = 100_000
    text = json.dumps(routing(abuja))[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(MalformedEnvelope):
        abuja.envelopes.open(stranger_envelope(abuja, text.encode()))
    with pytest.raises(MalformedEnvelope):  # the same refusal for the unauthenticated reader
        routing_header(stranger_envelope(abuja, text.encode()))


def test_finding_08_header_nesting_is_refused_within_the_length_limit(
    federation: tuple[Node, Node, Node],
) -> None:
    """1,200 levels fit in the 4,096-character header; the depth check refuses them, unparsed."""
    _, abuja, _ = federation
    text = '{"x":' + "[" * 1200 + "]" * 1200 + "}"
    assert len(_jose.b64e(text.encode())) <= _jose.MAX_HEADER_CHARS
    with pytest.raises(MalformedEnvelope, match="nests deeper"):
        abuja.envelopes.open(stranger_envelope(abuja, text.encode()))
    with pytest.raises(MalformedEnvelope, match="nests deeper"):
        routing_header(stranger_envelope(abuja, text.encode()))


def test_finding_08_header_length_is_bounded_before_decoding(
    federation: tuple[Node, Node, Node],
) -> None:
    _, abuja, _ = federation
    header = routing(abuja, note="n" * 5000)
    with pytest.raises(MalformedEnvelope, match="longer than 4096"):
        abuja.envelopes.open(stranger_envelope(abuja, header))


@pytest.mark.parametrize(
    "changes",
    [
        {"kid": 7},
        {"kid": "k" * 200},
        {"alg": ["ECDH-ES+A256KW"]},
        {"enc": {"a": "b"}},
        {"aud": 1},
        {"epk": "x"},
        {"epk": {"kty": "OKP", "crv": "X25519", "x": 2**40}},
        {"epk": {"kty": "OKP", "crv": "X25519"}},
        {"epk": {"kty": "OKP", "crv": "X25519", "x": "A" * 100}},
    ],
)
def test_finding_08_header_members_are_type_checked(
    federation: tuple[Node, Node, Node], changes: dict[str, Any]
) -> None:
    _, abuja, _ = federation
    envelope = stranger_envelope(abuja, routing(abuja, **changes))
    with pytest.raises(MalformedEnvelope):
        abuja.envelopes.open(envelope)


@pytest.mark.parametrize("value", [7, 2**70, None, ["AA"], {"x": "AA"}, 1.5])
def test_finding_08_b64d_accepts_only_text_or_bytes(value: Any) -> None:
    with pytest.raises(MalformedEnvelope):
        _jose.b64d(value)


def test_finding_08_jws_header_with_unhashable_alg_is_refused() -> None:
    header = _jose.b64e(json.dumps({"alg": ["EdDSA"], "kid": "k"}).encode())
    with pytest.raises(EnvelopeError):
        _jose.jws_parse(f"{header}.e30.AAAA")


@pytest.mark.parametrize("iat", [10**20, -(10**15), -1, True, 2**64])
def test_finding_08_iat_out_of_range_is_malformed_not_overflow(
    federation: tuple[Node, Node, Node], iat: int
) -> None:
    dakar, abuja, _ = federation
    text = json.dumps(claims(abuja, iat=iat)).encode()
    with pytest.raises(MalformedEnvelope):
        abuja.envelopes.open(signed_envelope(dakar, abuja, text))


def test_finding_08_signed_claims_nested_deep_are_refused(
    federation: tuple[Node, Node, Node],
) -> None:
    dakar, abuja, _ = federation
    good = json.dumps(claims(abuja, body={"ok": "yes"})).encode()
    assert abuja.envelopes.open(signed_envelope(dakar, abuja, good)).body == {"ok": "yes"}
    depth = 100_000
    deep = good.replace(b'{"ok": "yes"}', b'{"x": ' + b"[" * depth + b"]" * depth + b"}")
    with pytest.raises(MalformedEnvelope, match="nests deeper"):
        abuja.envelopes.open(signed_envelope(dakar, abuja, deep))


def test_finding_08_sealing_refuses_a_body_no_peer_would_open(
    federation: tuple[Node, Node, Node],
) -> None:
    dakar = federation[0]
    body: dict[str, Any] = {}
    inner = body
    for _ in range(5000):  # deeper than the JSON encoder's recursion would survive
        inner["x"] = {}
        inner = inner["x"]
    with pytest.raises(MalformedEnvelope, match="nests deeper"):
        dakar.envelopes.seal(body, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    with pytest.raises(MalformedEnvelope):
        dakar.envelopes.seal(
            {"when": object()}, sender=SENDER, recipient=RECIPIENT, msg_type="message"
        )


def test_finding_08_receipts_and_tokens_are_bounded(federation: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = federation
    sealed = dakar.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    receipt = abuja.envelopes.receive(sealed.token).receipt
    with pytest.raises(OversizedEnvelope):
        dakar.envelopes.check_receipt(receipt + b"A" * (16 << 10), sealed.token)
    # A receipt signed by the recipient's real key, its claims nested 3,000 deep (in 16 KiB).
    kid, key = abuja.keys.signing_key(RECIPIENT)
    depth = 3000
    deep = b'{"iss":"NG-NAPTIP","a":' + b"[" * depth + b"]" * depth + b"}"
    forged = _jose.jws_sign({"alg": "EdDSA", "kid": kid, "typ": "exchange-receipt+jwt"}, deep, key)
    assert len(forged) < 16 << 10
    with pytest.raises(MalformedEnvelope, match="nests deeper"):
        dakar.envelopes.check_receipt(forged, sealed.token)


@pytest.mark.parametrize("spacing", [b" ", b"\n", b"\r\n", b"\t"])
def test_finding_08_whitespace_around_an_envelope_is_refused(
    federation: tuple[Node, Node, Node], spacing: bytes
) -> None:
    """One envelope, one spelling, one SHA-256 in its receipts."""
    dakar, abuja, _ = federation
    token = dakar.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="message").token
    for variant in (spacing + token, token + spacing):
        with pytest.raises(MalformedEnvelope, match="whitespace"):
            abuja.envelopes.open(variant)


def test_finding_08_many_dots_are_refused_without_splitting_them_all(
    federation: tuple[Node, Node, Node],
) -> None:
    _, abuja, _ = federation
    tracemalloc.start()
    try:
        with pytest.raises(MalformedEnvelope):
            abuja.envelopes.open(b"." * 4_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 << 20  # the latin-1 copy of 4 MB, not a list of four million strings


def test_finding_08_nesting_scan_skips_strings_and_refuses_what_is_not_json() -> None:
    assert nesting_within(b'{"a": "[[[[[[[[", "b": "\\"[["}', 1)
    assert nesting_within(b"[[], [[]]]", 3) and not nesting_within(b"[[], [[]]]", 2)
    assert not nesting_within(b'{"a": "unterminated', 5)
    assert not nesting_within(b'"\\"' * 1000, 5)
    for text in (b"NaN", b'{"a": Infinity}', b'{"a": 1' + b"0" * 5000 + b"}", b"\xff"):
        with pytest.raises(MalformedEnvelope):
            parse_object(text, "test", max_bytes=10_000)
    with pytest.raises(OversizedEnvelope):
        parse_object(b"{}" + b" " * 100, "test", max_bytes=100)


# -- property: whatever comes in, only the envelope layer's own errors come out --------------

_MEMBERS = ["alg", "enc", "epk", "kid", "apu", "apv", "cty", "msg_id", "iss", "aud", "typ", "x"]
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)
_parts = st.lists(
    st.one_of(st.binary(max_size=80).map(_jose.b64e), st.text(max_size=20)), min_size=0, max_size=6
)


@PROFILE
@given(data=st.binary(max_size=3000))
def test_finding_08_random_bytes_raise_only_envelope_errors(
    federation: tuple[Node, Node, Node], data: bytes
) -> None:
    with pytest.raises(EnvelopeError):
        federation[1].envelopes.open(data)


@PROFILE
@given(
    changes=st.dictionaries(st.sampled_from(_MEMBERS) | st.text(max_size=6), _json, max_size=6),
    parts=_parts,
    raw=st.booleans(),
)
def test_finding_08_random_json_headers_raise_only_envelope_errors(
    federation: tuple[Node, Node, Node], changes: dict[str, Any], parts: list[str], raw: bool
) -> None:
    """Random members over a well-formed header (to reach the deeper checks), or alone."""
    _, abuja, _ = federation
    header = changes if raw else {**routing(abuja), **changes}
    try:
        envelopes = (
            stranger_envelope(abuja, header),
            ".".join([_jose.b64e(json.dumps(header).encode()), *parts]).encode(),
        )
    except ValueError:  # an integer past Python's 4,300-digit limit: no JSON to send
        return
    for envelope in envelopes:
        with pytest.raises(EnvelopeError):
            abuja.envelopes.open(envelope)
