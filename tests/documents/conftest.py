"""Fixtures of the bundle tests: the node's signing identity, a second node's, a built bundle."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from exchange.documents.signing import SigningIdentity, load_identity
from exchange.envelopes import KeyStore
from exchange.envelopes.stores import key_store


@pytest.fixture
def identity(app: Flask) -> SigningIdentity:
    """Return SN-CA's PDF signing identity from the app's key store (issued by the node CA)."""
    keys = key_store()
    keys.generate("SN-CA")
    return load_identity(keys, "SN-CA")


@pytest.fixture
def foreign_identity(tmp_path: Path) -> SigningIdentity:
    """Return a signer whose certificate another node's CA issued (not trusted here)."""
    keys = KeyStore(tmp_path / "other-node-keys", "other passphrase", kdf_rounds=1000)
    keys.generate("SN-CA")
    return load_identity(keys, "SN-CA")
