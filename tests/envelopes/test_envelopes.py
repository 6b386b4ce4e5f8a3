"""Seal, open, receive and receipt: the happy paths and each refusal."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from exchange.envelopes import (
    AlgorithmNotAllowed,
    AttachmentHashMismatch,
    AttachmentIn,
    DecryptionFailed,
    Envelopes,
    ForbiddenHeaderParameter,
    HeaderClaimsMismatch,
    MalformedEnvelope,
    NotAddressedToUs,
    OversizedEnvelope,
    ReceiptMismatch,
    ReplayedMessage,
    RevokedKey,
    TruncatedEnvelope,
    UnknownRecipientKey,
    UnknownSenderKey,
    WrongSenderKey,
    _jose,
    import_jwks,
    read_container,
    revoke,
    write_container,
)

from .conftest import PQ_RECIPIENT, RECIPIENT, SENDER, Node, make_node


def reseal(token: bytes, **changes: object) -> bytes:
    """Re-encode the protected header with changes, keeping the other parts (breaks the AAD)."""
    parts = token.decode().split(".")
    header = json.loads(_jose.b64d(parts[0]))
    header.update(changes)
    return ".".join([_jose.b64e(json.dumps(header).encode()), *parts[1:]]).encode()


def test_round_trip_x25519_and_pq(federation: tuple[Node, Node, Node]) -> None:
    dakar, abuja, accra = federation
    for node, code, suite in (
        (abuja, RECIPIENT, "x25519"),
        (accra, PQ_RECIPIENT, "mlkem768-x25519"),
    ):
        sealed = dakar.envelopes.seal(
            {"text": "é ü"}, sender=SENDER, recipient=code, msg_type="mla.request", in_reply_to=None
        )
        opened = node.envelopes.open(sealed.token)
        assert (opened.body, opened.sender, opened.recipient, opened.suite) == (
            {"text": "é ü"},
            SENDER,
            code,
            suite,
        )
        assert opened.envelope_sha256 == sealed.sha256
        assert opened.conversation == sealed.msg_id


def test_reply_keeps_conversation(federation: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = federation
    first = dakar.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="mla.request")
    opened = abuja.envelopes.open(first.token)
    reply = abuja.envelopes.seal(
        {"ok": True},
        sender=RECIPIENT,
        recipient=SENDER,
        msg_type="mla.ack",
        conversation=opened.conversation,
        in_reply_to=opened.msg_id,
    )
    back = dakar.envelopes.open(reply.token)
    assert (back.in_reply_to, back.conversation) == (first.msg_id, first.msg_id)


def test_replay_answers_with_the_original_receipt(nodes: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = nodes
    sealed = dakar.envelopes.seal(
        {"a": "PLAINTEXT-MARKER"}, sender=SENDER, recipient=RECIPIENT, msg_type="message"
    )
    delivery = abuja.envelopes.receive(sealed.token)
    with pytest.raises(ReplayedMessage) as exc:
        abuja.envelopes.receive(sealed.token)
    assert exc.value.receipt == delivery.receipt
    assert "PLAINTEXT-MARKER" not in repr(exc.value.args)


def test_receipts_check_against_the_envelope(nodes: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = nodes
    one = dakar.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    two = dakar.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    delivery = abuja.envelopes.receive(one.token)
    info = dakar.envelopes.check_receipt(delivery.receipt, one.token)
    assert (info.status, info.evidence, info.in_reply_to) == ("delivered", "DELIVERY", one.msg_id)
    with pytest.raises(ReceiptMismatch):
        dakar.envelopes.check_receipt(delivery.receipt, two.token)
    retrieved = abuja.envelopes.retrieved(delivery.envelope)
    assert dakar.envelopes.check_receipt(retrieved, one.token).evidence == "RETRIEVAL"
    rejected = abuja.envelopes.reject(two.token, DecryptionFailed(), authority=RECIPIENT)
    info = dakar.envelopes.check_receipt(rejected, two.token)
    assert (info.status, info.evidence) == ("rejected:decryption-failed", "NON_DELIVERY")
    # A receipt signed by another authority than the recipient does not count.
    forged = dakar.envelopes.make_receipt(
        SENDER, one.sha256, "delivered", in_reply_to=one.msg_id, to=SENDER
    )
    with pytest.raises(WrongSenderKey):
        dakar.envelopes.check_receipt(forged, one.token)


def test_not_addressed_to_us(federation: tuple[Node, Node, Node]) -> None:
    dakar, _, accra = federation
    sealed = dakar.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    with pytest.raises(NotAddressedToUs):
        accra.envelopes.open(sealed.token)


def test_re_addressed_inner_jws_is_refused(federation: tuple[Node, Node, Node]) -> None:
    """Abuja decrypts a message from Dakar and re-encrypts the signed JWS to Accra."""
    dakar, abuja, accra = federation
    sealed = dakar.envelopes.seal(
        {"secret": 1}, sender=SENDER, recipient=RECIPIENT, msg_type="message"
    )
    header, parts = _jose.jwe_parse(sealed.token, [_jose.JWE_ALG])
    inner = _jose.jwe_decrypt(header, parts, abuja.keys.decryption_key(header["kid"])[1])
    target = abuja.envelopes.recipient_key(PQ_RECIPIENT)
    public = abuja.envelopes._public_key(target)
    routing = {
        "kid": target.kid,
        "cty": "JWT",
        "msg_id": header["msg_id"],
        "iss": SENDER,
        "typ": "message",
    }
    for aud in (PQ_RECIPIENT, RECIPIENT):
        forwarded = _jose.hpke_encrypt({**routing, "aud": aud}, inner, public).encode()
        with pytest.raises(NotAddressedToUs):
            accra.envelopes.open(forwarded)


def test_header_claims_mismatch(federation: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = federation
    sealed = dakar.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    header, parts = _jose.jwe_parse(sealed.token, [_jose.JWE_ALG])
    inner = _jose.jwe_decrypt(header, parts, abuja.keys.decryption_key(header["kid"])[1])
    target = dakar.envelopes.recipient_key(RECIPIENT)
    routing = {k: header[k] for k in ("kid", "cty", "msg_id", "iss", "aud", "typ")}
    for name, value in (("typ", "mla.request"), ("msg_id", "00000000-0000-4000-8000-000000000000")):
        token = _jose.jwe_encrypt(
            {**routing, name: value}, inner, dakar.envelopes._public_key(target)
        ).encode()
        with pytest.raises(HeaderClaimsMismatch):
            abuja.envelopes.open(token)


def test_header_swap_breaks_authentication(federation: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = federation
    one = dakar.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    two = dakar.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    swapped = b".".join([one.token.split(b".")[0], *two.token.split(b".")[1:]])
    with pytest.raises(DecryptionFailed):
        abuja.envelopes.open(swapped)
    with pytest.raises(DecryptionFailed):
        abuja.envelopes.open(reseal(one.token, typ="mla.request"))


def test_forbidden_header_keys(federation: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = federation
    sealed = dakar.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    for name, value in (
        ("jwk", {"kty": "OKP"}),
        ("jku", "https://evil"),
        ("x5u", "https://evil"),
        ("x5c", ["MII"]),
        ("crit", ["exp"]),
        ("zip", "DEF"),
    ):
        with pytest.raises(ForbiddenHeaderParameter):
            abuja.envelopes.open(reseal(sealed.token, **{name: value}))


def test_algorithm_not_allowed(federation: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = federation
    sealed = dakar.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    for changes in ({"alg": "dir"}, {"alg": "RSA1_5"}, {"enc": "A128CBC-HS256"}, {"alg": "none"}):
        with pytest.raises(AlgorithmNotAllowed):
            abuja.envelopes.open(reseal(sealed.token, **changes))


def test_unknown_keys(federation: tuple[Node, Node, Node], tmp_path: Path) -> None:
    dakar, abuja, _ = federation
    stranger = make_node(tmp_path / "stranger", "CI-CA")
    import_jwks(stranger.trust, abuja.keys.public_jwks(RECIPIENT), hosted=["CI-CA"])
    sealed = stranger.envelopes.seal({}, sender="CI-CA", recipient=RECIPIENT, msg_type="message")
    with pytest.raises(UnknownSenderKey):
        abuja.envelopes.open(sealed.token)
    ours = dakar.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    with pytest.raises(UnknownRecipientKey):
        abuja.envelopes.open(reseal(ours.token, kid="A" * 43))


def test_impersonation_with_own_key_is_refused(nodes: tuple[Node, Node, Node]) -> None:
    """Accra signs with its own (trusted) key but claims to be Dakar."""
    _, abuja, accra = nodes
    kid, key = accra.keys.signing_key(PQ_RECIPIENT)
    target = accra.envelopes.recipient_key(RECIPIENT)
    claims = {
        "iss": SENDER,
        "aud": RECIPIENT,
        "enc_kid": target.kid,
        "msg_id": "00000000-0000-4000-8000-000000000001",
        "typ": "message",
        "conversation": "00000000-0000-4000-8000-000000000001",
        "in_reply_to": None,
        "iat": 1_700_000_000,
        "body": {},
        "attachments": [],
    }
    inner = _jose.jws_sign(
        {"alg": "EdDSA", "kid": kid, "typ": "exchange-message+jwt"}, _jose.json_bytes(claims), key
    )
    routing = {
        "kid": target.kid,
        "cty": "JWT",
        "msg_id": claims["msg_id"],
        "iss": SENDER,
        "aud": RECIPIENT,
        "typ": "message",
    }
    token = _jose.jwe_encrypt(routing, inner.encode(), accra.envelopes._public_key(target))
    with pytest.raises(WrongSenderKey):
        abuja.envelopes.open(token)


def test_revoked_sender_key(nodes: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = nodes
    sealed = dakar.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    kid = dakar.keys.signing_key(SENDER)[0]
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    revoke(abuja.trust, kid, future)
    assert abuja.envelopes.open(sealed.token).msg_id == sealed.msg_id  # not yet
    with pytest.raises(RevokedKey):
        abuja.envelopes.open(sealed.token, now=future + dt.timedelta(seconds=1))


def test_rotation_keeps_old_keys_for_opening(nodes: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = nodes
    before = dakar.envelopes.seal({"n": 1}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    old_sig = dakar.keys.signing_key(SENDER)[0]
    abuja.keys.rotate(RECIPIENT, "enc")
    dakar.keys.rotate(SENDER, "sig")
    import_jwks(abuja.trust, dakar.keys.public_jwks(SENDER), hosted=[RECIPIENT])
    import_jwks(dakar.trust, abuja.keys.public_jwks(RECIPIENT), hosted=[SENDER])
    after = dakar.envelopes.seal({"n": 2}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    assert after.token.split(b".")[0] != before.token.split(b".")[0]
    assert abuja.envelopes.open(before.token).sender_kid == old_sig
    assert abuja.envelopes.open(after.token).sender_kid != old_sig


def test_size_limits(federation: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = federation
    small = Envelopes(abuja.keys, abuja.trust, max_envelope_bytes=2048)
    sealed = dakar.envelopes.seal(
        {"pad": "x" * 4000}, sender=SENDER, recipient=RECIPIENT, msg_type="message"
    )
    with pytest.raises(OversizedEnvelope):
        small.open(sealed.token)
    with pytest.raises(OversizedEnvelope):
        Envelopes(dakar.keys, dakar.trust, max_envelope_bytes=2048).seal(
            {"pad": "x" * 4000}, sender=SENDER, recipient=RECIPIENT, msg_type="message"
        )


def test_malformed_and_truncated(federation: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = federation
    sealed = dakar.envelopes.seal({}, sender=SENDER, recipient=RECIPIENT, msg_type="message")
    with pytest.raises(TruncatedEnvelope):
        abuja.envelopes.open(sealed.token[: len(sealed.token) // 2])
    with pytest.raises(TruncatedEnvelope):
        abuja.envelopes.open(sealed.token[:-4])
    for bad in (b"", b"not an envelope", b"a.b.c.d.e.f", b"\xff\xfe" * 10, sealed.token + b"="):
        with pytest.raises(MalformedEnvelope):
            abuja.envelopes.open(bad)


def test_attachments_round_trip_and_container(
    federation: tuple[Node, Node, Node], tmp_path: Path
) -> None:
    dakar, abuja, _ = federation
    evidence = tmp_path / "evidence.bin"
    evidence.write_bytes(bytes(range(256)) * 50)
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    sealed = dakar.envelopes.seal(
        {"text": "see annex"},
        sender=SENDER,
        recipient=RECIPIENT,
        msg_type="message",
        attachments=[
            AttachmentIn("evidence.bin", "application/octet-stream", evidence),
            AttachmentIn("empty.txt", "text/plain", io.BytesIO(b"")),
        ],
        blob_dir=blobs,
        segment_size=1024,
    )
    container = tmp_path / "envelope.zip"
    write_container(container, sealed.token, sealed.blobs)
    out = tmp_path / "out"
    out.mkdir()
    with read_container(container, 1 << 20) as box:
        opened = abuja.envelopes.open(box.token)
        assert box.blob_ids == ["a1", "a2"]
        for entry in opened.attachments:
            with box.blob(entry.id) as src:
                abuja.envelopes.save_attachment(opened, entry.id, src, out / entry.name)
    assert (out / "evidence.bin").read_bytes() == evidence.read_bytes()
    assert (out / "empty.txt").read_bytes() == b""
    # A blob from another attachment slot fails, and leaves no file behind.
    with open(sealed.blobs["a2"], "rb") as src, pytest.raises(Exception) as exc:
        abuja.envelopes.save_attachment(opened, "a1", src, out / "wrong.bin")
    assert not (out / "wrong.bin").exists()
    assert exc.type.__name__ in {"AttachmentError", "AttachmentHashMismatch"}


def test_attachment_hash_mismatch_with_valid_stream(
    federation: tuple[Node, Node, Node], tmp_path: Path
) -> None:
    """A blob that decrypts but is not the signed plaintext is refused."""
    from dataclasses import replace

    dakar, abuja, _ = federation
    sealed = dakar.envelopes.seal(
        {},
        sender=SENDER,
        recipient=RECIPIENT,
        msg_type="message",
        attachments=[AttachmentIn("a.txt", "text/plain", io.BytesIO(b"hello"))],
        blob_dir=tmp_path,
    )
    opened = abuja.envelopes.open(sealed.token)
    tampered = replace(opened, attachments=(replace(opened.attachments[0], sha256="0" * 64),))
    with open(sealed.blobs["a1"], "rb") as src, pytest.raises(AttachmentHashMismatch):
        abuja.envelopes.open_attachment(tampered, "a1", src, io.BytesIO())


def test_sign_and_verify_jws(federation: tuple[Node, Node, Node]) -> None:
    dakar, abuja, _ = federation
    token = dakar.envelopes.sign_jws(
        SENDER, {"node_url": "https://dakar.example"}, typ="exchange-node+jwt"
    )
    claims = abuja.envelopes.verify_jws(token, [SENDER], typ="exchange-node+jwt")
    assert claims["node_url"] == "https://dakar.example" and claims["iss"] == SENDER
    with pytest.raises(WrongSenderKey):
        abuja.envelopes.verify_jws(token, [RECIPIENT])


def test_seal_refuses_ids_and_names_outside_the_schema(federation: tuple[Node, Node, Node]) -> None:
    dakar = federation[0]
    for kwargs in ({"in_reply_to": "42"}, {"conversation": "conv"}, {"msg_id": "A" * 36}):
        with pytest.raises(MalformedEnvelope):
            dakar.envelopes.seal(
                {}, sender=SENDER, recipient=RECIPIENT, msg_type="message", **kwargs
            )  # type: ignore[arg-type]
    with pytest.raises(MalformedEnvelope):
        dakar.envelopes.seal(
            {},
            sender=SENDER,
            recipient=RECIPIENT,
            msg_type="message",
            attachments=[AttachmentIn("x", "not a media type", io.BytesIO(b""))],
            blob_dir=Path("."),
        )


def test_oversized_attachment_leaves_no_blob(
    federation: tuple[Node, Node, Node], tmp_path: Path
) -> None:
    dakar = federation[0]
    small = Envelopes(dakar.keys, dakar.trust, max_attachment_bytes=1000)
    with pytest.raises(OversizedEnvelope):
        small.seal(
            {},
            sender=SENDER,
            recipient=RECIPIENT,
            msg_type="message",
            blob_dir=tmp_path,
            attachments=[
                AttachmentIn("ok", "text/plain", io.BytesIO(b"x")),
                AttachmentIn("big", "text/plain", io.BytesIO(b"x" * 5000)),
            ],
            segment_size=256,
        )
    assert list(tmp_path.iterdir()) == []
