"""Encryption at rest with the node's data key."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from exchange.envelopes import (
    DecryptionFailed,
    KeyStoreError,
    decrypt_field,
    decrypt_file,
    encrypt_field,
    encrypt_file,
    ensure_data_key,
    load_data_keys,
    rotate_data_key,
    sha256_file,
)


def test_fields_round_trip_and_bind_their_context(tmp_path: Path) -> None:
    ring = ensure_data_key(tmp_path, "pw")
    token = encrypt_field("Aïssatou D.", context="victim.name:42")
    assert token.startswith("ef1.1.") and "Aïssatou" not in token
    assert decrypt_field(token, context="victim.name:42") == "Aïssatou D."
    with pytest.raises(DecryptionFailed):
        decrypt_field(token, context="victim.name:43")
    assert json.loads((tmp_path / "data-keys.json").read_text())["keys"][0]["kdf"] == "scrypt"
    assert ensure_data_key(tmp_path, "pw").keys == ring.keys  # created once
    with pytest.raises(KeyStoreError):
        load_data_keys(tmp_path, "wrong")


def test_rotation_keeps_old_fields_readable(tmp_path: Path) -> None:
    ensure_data_key(tmp_path, "pw")
    old = encrypt_field("x", context="c")
    rotate_data_key(tmp_path, "pw")
    new = encrypt_field("y", context="c")
    assert new.startswith("ef1.2.")
    ring = load_data_keys(tmp_path, "pw")
    assert (
        decrypt_field(old, context="c", ring=ring) == "x"
        and decrypt_field(new, context="c", ring=ring) == "y"
    )


def test_files_round_trip(tmp_path: Path) -> None:
    ensure_data_key(tmp_path, "pw")
    plain = os.urandom(3 << 20)
    (tmp_path / "plain").write_bytes(plain)
    blob = io.BytesIO()
    size, sha = encrypt_file(io.BytesIO(plain), blob, context="evidence:7")
    assert size == len(plain) and sha == sha256_file(tmp_path / "plain")
    out = io.BytesIO()
    decrypt_file(io.BytesIO(blob.getvalue()), out, context="evidence:7")
    assert out.getvalue() == plain
    with pytest.raises(Exception, match="altered"):
        decrypt_file(io.BytesIO(blob.getvalue()), io.BytesIO(), context="evidence:8")
