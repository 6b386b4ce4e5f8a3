"""Property tests: open(seal(x)) == x; every tampering is refused, with no plaintext."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.envelopes import (
    AlgorithmNotAllowed,
    AttachmentError,
    AttachmentIn,
    DecryptionFailed,
    EnvelopeError,
    Envelopes,
    ForbiddenHeaderParameter,
    MalformedEnvelope,
    MemorySeenMessages,
    NotAddressedToUs,
    ReplayedMessage,
    UnknownRecipientKey,
    _jose,
)

from .conftest import PQ_RECIPIENT, RECIPIENT, SENDER, Node

MARKER = "PLAINTEXT-MARKER-7f3a"
PROFILE = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.dictionaries(st.text(max_size=10), json_values, max_size=5)
blobs = st.lists(st.binary(max_size=700), max_size=3)
recipients = st.sampled_from([RECIPIENT, PQ_RECIPIENT])


def node_for(federation: tuple[Node, Node, Node], code: str) -> Node:
    return federation[1] if code == RECIPIENT else federation[2]


def assert_no_plaintext(exc: BaseException) -> None:
    assert MARKER not in repr(exc.args) and MARKER not in str(exc)


def sealed_token(
    federation: tuple[Node, Node, Node], code: str, body: dict[str, Any] | None = None
) -> bytes:
    return (
        federation[0]
        .envelopes.seal(
            body or {"secret": MARKER}, sender=SENDER, recipient=code, msg_type="message"
        )
        .token
    )


@PROFILE
@given(body=bodies, files=blobs, code=recipients, segment=st.sampled_from([64, 200, 4096]))
def test_open_seal_is_identity(
    federation: tuple[Node, Node, Node],
    body: dict[str, Any],
    files: list[bytes],
    code: str,
    segment: int,
) -> None:
    dakar = federation[0]
    with tempfile.TemporaryDirectory() as tmp:
        sealed = dakar.envelopes.seal(
            body,
            sender=SENDER,
            recipient=code,
            msg_type="message",
            blob_dir=Path(tmp),
            segment_size=segment,
            attachments=[
                AttachmentIn(f"f{i}", "application/octet-stream", io.BytesIO(b))
                for i, b in enumerate(files)
            ],
        )
        receiver = node_for(federation, code).envelopes
        opened = receiver.open(sealed.token)
        assert opened.body == body
        got = []
        for entry in opened.attachments:
            out = io.BytesIO()
            with open(sealed.blobs[entry.id], "rb") as src:
                receiver.open_attachment(opened, entry.id, src, out)
            got.append(out.getvalue())
        assert got == files


@PROFILE
@given(code=recipients, data=st.data())
def test_any_bit_flip_is_refused(
    federation: tuple[Node, Node, Node], code: str, data: st.DataObject
) -> None:
    token = bytearray(sealed_token(federation, code))
    position = data.draw(st.integers(0, len(token) - 1))
    token[position] ^= 1 << data.draw(st.integers(0, 7))
    header_end = token.index(b".") if b"." in token else len(token)
    with pytest.raises(EnvelopeError) as exc:
        node_for(federation, code).envelopes.open(bytes(token))
    assert_no_plaintext(exc.value)
    if position > header_end:
        # Past the header, only authentication (or the encoding) can fail.
        assert isinstance(exc.value, DecryptionFailed | MalformedEnvelope)


@PROFILE
@given(code=recipients, data=st.data())
def test_any_bit_flip_in_the_decoded_parts_is_refused(
    federation: tuple[Node, Node, Node], code: str, data: st.DataObject
) -> None:
    parts = sealed_token(federation, code).decode().split(".")
    index = data.draw(st.sampled_from([i for i, p in enumerate(parts) if p]))
    raw = bytearray(_jose.b64d(parts[index]))
    bit = data.draw(st.integers(0, len(raw) * 8 - 1))
    raw[bit // 8] ^= 1 << (bit % 8)
    parts[index] = _jose.b64e(bytes(raw))
    with pytest.raises(EnvelopeError) as exc:
        node_for(federation, code).envelopes.open(".".join(parts))
    assert_no_plaintext(exc.value)
    expected: tuple[type[EnvelopeError], ...] = (DecryptionFailed,)
    if index == 0:
        expected = (
            DecryptionFailed,
            MalformedEnvelope,
            AlgorithmNotAllowed,
            ForbiddenHeaderParameter,
            UnknownRecipientKey,
            NotAddressedToUs,
        )
    assert isinstance(exc.value, expected)


@PROFILE
@given(code=recipients, data=st.data())
def test_any_truncation_is_refused(
    federation: tuple[Node, Node, Node], code: str, data: st.DataObject
) -> None:
    token = sealed_token(federation, code)
    cut = data.draw(st.integers(0, len(token) - 1))
    with pytest.raises(EnvelopeError) as exc:
        node_for(federation, code).envelopes.open(token[:cut])
    assert_no_plaintext(exc.value)
    assert isinstance(exc.value, MalformedEnvelope | DecryptionFailed)


@PROFILE
@given(code=recipients)
def test_header_swap_is_refused(federation: tuple[Node, Node, Node], code: str) -> None:
    one, two = (
        sealed_token(federation, code).split(b"."),
        sealed_token(federation, code).split(b"."),
    )
    with pytest.raises(DecryptionFailed) as exc:
        node_for(federation, code).envelopes.open(b".".join([one[0], *two[1:]]))
    assert_no_plaintext(exc.value)


@PROFILE
@given(code=recipients, body=bodies)
def test_replay_is_refused_with_the_original_receipt(
    federation: tuple[Node, Node, Node], code: str, body: dict[str, Any]
) -> None:
    node = node_for(federation, code)
    receiver = Envelopes(node.keys, node.trust, MemorySeenMessages())
    token = sealed_token(federation, code, {**body, "m": MARKER})
    receipt = receiver.receive(token).receipt
    with pytest.raises(ReplayedMessage) as exc:
        receiver.receive(token)
    assert exc.value.receipt == receipt
    assert_no_plaintext(exc.value)


@PROFILE
@given(size=st.integers(0, 3000), data=st.data())
def test_any_blob_bit_flip_or_truncation_is_refused(
    federation: tuple[Node, Node, Node], size: int, data: st.DataObject
) -> None:
    dakar, abuja, _ = federation
    with tempfile.TemporaryDirectory() as tmp:
        sealed = dakar.envelopes.seal(
            {},
            sender=SENDER,
            recipient=RECIPIENT,
            msg_type="message",
            blob_dir=Path(tmp),
            segment_size=512,
            attachments=[
                AttachmentIn("f", "text/plain", io.BytesIO(MARKER.encode() * (size // 20 + 1)))
            ],
        )
        blob = bytearray(Path(sealed.blobs["a1"]).read_bytes())
    opened = abuja.envelopes.open(sealed.token)
    if data.draw(st.booleans()):
        bit = data.draw(st.integers(0, len(blob) * 8 - 1))
        blob[bit // 8] ^= 1 << (bit % 8)
    else:
        blob = blob[: data.draw(st.integers(0, len(blob) - 1))]
    with pytest.raises((AttachmentError, MalformedEnvelope)) as exc:
        abuja.envelopes.open_attachment(opened, "a1", io.BytesIO(bytes(blob)), io.BytesIO())
    assert_no_plaintext(exc.value)
