"""Streaming AEAD blobs: Tink interop both ways, bounded reads, refusals."""

from __future__ import annotations

import io
import os

import pytest
import tink
from tink import secret_key_access, streaming_aead
from tink.proto import aes_gcm_hkdf_streaming_pb2, common_pb2, tink_pb2

from exchange.envelopes import AttachmentError, AttachmentHashMismatch, TruncatedEnvelope
from exchange.envelopes.streaming import ciphertext_size, decrypt_stream, encrypt_stream

streaming_aead.register()
SEGMENT = 4096
SIZES = [0, 1, SEGMENT - 57, SEGMENT - 56, SEGMENT - 55, SEGMENT * 2 - 72, SEGMENT * 3, 50_000]


def tink_primitive(ikm: bytes, segment_size: int) -> streaming_aead.StreamingAead:
    """Wrap our 32-byte key as a Tink AES-GCM-HKDF streaming keyset (RAW output prefix)."""
    key = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingKey(
        version=0,
        key_value=ikm,
        params=aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingParams(
            ciphertext_segment_size=segment_size,
            derived_key_size=32,
            hkdf_hash_type=common_pb2.SHA256,
        ),
    )
    keyset = tink_pb2.Keyset(
        primary_key_id=1,
        key=[
            tink_pb2.Keyset.Key(
                key_data=tink_pb2.KeyData(
                    type_url="type.googleapis.com/google.crypto.tink.AesGcmHkdfStreamingKey",
                    value=key.SerializeToString(),
                    key_material_type=tink_pb2.KeyData.SYMMETRIC,
                ),
                status=tink_pb2.ENABLED,
                key_id=1,
                output_prefix_type=tink_pb2.RAW,
            )
        ],
    )
    handle = tink.proto_keyset_format.parse(keyset.SerializeToString(), secret_key_access.TOKEN)
    return handle.primitive(streaming_aead.StreamingAead)


class KeepOpen(io.BytesIO):
    """A BytesIO that survives Tink closing it."""

    def close(self) -> None:
        """Do not close."""


class BoundedReader(io.RawIOBase):
    """A file wrapper that fails any read() above a bound (constant-memory streaming)."""

    def __init__(self, data: bytes, bound: int) -> None:
        self._src = io.BytesIO(data)
        self.bound = bound
        self.largest = 0

    def read(self, size: int = -1) -> bytes:
        """Read at most ``bound`` bytes."""
        assert 0 <= size <= self.bound, f"read({size}) above the bound {self.bound}"
        self.largest = max(self.largest, size)
        return self._src.read(size)


@pytest.mark.parametrize("size", SIZES)
def test_tink_decrypts_our_blob(size: int) -> None:
    ikm, plain = os.urandom(32), os.urandom(size)
    out = io.BytesIO()
    encrypt_stream(ikm, io.BytesIO(plain), out, b"msg/a1", SEGMENT)
    assert len(out.getvalue()) == ciphertext_size(size, SEGMENT)
    with tink_primitive(ikm, SEGMENT).new_decrypting_stream(
        io.BytesIO(out.getvalue()), b"msg/a1"
    ) as dec:
        assert dec.read() == plain


@pytest.mark.parametrize("size", SIZES)
def test_we_decrypt_tinks_blob(size: int) -> None:
    ikm, plain = os.urandom(32), os.urandom(size)
    blob = KeepOpen()
    with tink_primitive(ikm, SEGMENT).new_encrypting_stream(blob, b"ad") as enc:
        enc.write(plain)
    out = io.BytesIO()
    decrypt_stream(ikm, io.BytesIO(blob.getvalue()), out, b"ad", SEGMENT)
    assert out.getvalue() == plain


def test_streaming_reads_are_bounded_by_the_segment_size() -> None:
    ikm, plain = os.urandom(32), os.urandom(SEGMENT * 5 + 123)
    reader = BoundedReader(plain, SEGMENT)
    blob = io.BytesIO()
    encrypt_stream(ikm, reader, blob, b"", SEGMENT)  # type: ignore[arg-type]
    back = BoundedReader(blob.getvalue(), SEGMENT)
    out = io.BytesIO()
    decrypt_stream(ikm, back, out, b"", SEGMENT)  # type: ignore[arg-type]
    assert out.getvalue() == plain and 0 < back.largest <= SEGMENT and reader.largest <= SEGMENT


def blob_of(plain: bytes) -> tuple[bytes, bytes]:
    ikm, out = os.urandom(32), io.BytesIO()
    encrypt_stream(ikm, io.BytesIO(plain), out, b"ad", SEGMENT)
    return ikm, out.getvalue()


def test_truncation_at_a_segment_boundary_is_detected() -> None:
    plain = os.urandom(SEGMENT * 3)
    ikm, blob = blob_of(plain)
    for cut in (SEGMENT, SEGMENT * 2, len(blob) - 1, 41, 10):
        with pytest.raises((AttachmentError, TruncatedEnvelope)):
            decrypt_stream(ikm, io.BytesIO(blob[:cut]), io.BytesIO(), b"ad", SEGMENT)


def test_wrong_associated_data_size_or_hash() -> None:
    plain = b"evidence" * 100
    ikm, blob = blob_of(plain)
    with pytest.raises(AttachmentError):
        decrypt_stream(ikm, io.BytesIO(blob), io.BytesIO(), b"other", SEGMENT)
    with pytest.raises(AttachmentHashMismatch):
        decrypt_stream(
            ikm, io.BytesIO(blob), io.BytesIO(), b"ad", SEGMENT, expected_size=len(plain) - 1
        )
    with pytest.raises(AttachmentHashMismatch):
        decrypt_stream(
            ikm, io.BytesIO(blob), io.BytesIO(), b"ad", SEGMENT, expected_sha256="0" * 64
        )
