"""Fixtures of the envelope tests: nodes with their own key and trust stores, keys in tmp_path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from exchange.envelopes import (
    Envelopes,
    KeyStore,
    MemorySeenMessages,
    MemoryTrustStore,
    import_jwks,
    local_trust,
)

SENDER = "SN-CA"
RECIPIENT = "NG-NAPTIP"
PQ_RECIPIENT = "GH-MOJ"
PASSPHRASE = "correct horse battery staple"
# Key files written by tests use RFC 8018's minimum count; the production default (600,000) is
# checked by test_finding_13_key_kdf.py.
TEST_KDF_ROUNDS = 1000


@dataclass
class Node:
    """One node of a test federation."""

    keys: KeyStore
    trust: MemoryTrustStore
    seen: MemorySeenMessages
    envelopes: Envelopes


def make_node(root: Path, *authorities: str, pq: bool = False) -> Node:
    """Build a node hosting ``authorities``, its own keys trusted."""
    keys = KeyStore(root, PASSPHRASE, kdf_rounds=TEST_KDF_ROUNDS)
    trust, seen = MemoryTrustStore(), MemorySeenMessages()
    for code in authorities:
        keys.generate(code, pq=pq, pdf=False)
        local_trust(keys, trust, code)
    return Node(keys, trust, seen, Envelopes(keys, trust, seen))


def peer(a: Node, b: Node) -> None:
    """Make two nodes trust each other's public keys."""
    for code in a.keys.authorities():
        import_jwks(b.trust, a.keys.public_jwks(code), hosted=b.keys.authorities_set())
    for code in b.keys.authorities():
        import_jwks(a.trust, b.keys.public_jwks(code), hosted=a.keys.authorities_set())


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Node, Node, Node]:
    """Dakar (SN-CA), Abuja (NG-NAPTIP, X25519) and Accra (GH-MOJ, hybrid PQ key), peered."""
    root = tmp_path_factory.mktemp("federation")
    dakar = make_node(root / "dakar", SENDER)
    abuja = make_node(root / "abuja", RECIPIENT)
    accra = make_node(root / "accra", PQ_RECIPIENT, pq=True)
    peer(dakar, abuja)
    peer(dakar, accra)
    peer(abuja, accra)
    return dakar, abuja, accra


@pytest.fixture
def nodes(tmp_path: Path) -> tuple[Node, Node, Node]:
    """A fresh federation for tests that change keys or the seen register."""
    dakar = make_node(tmp_path / "dakar", SENDER)
    abuja = make_node(tmp_path / "abuja", RECIPIENT)
    accra = make_node(tmp_path / "accra", PQ_RECIPIENT, pq=True)
    peer(dakar, abuja)
    peer(dakar, accra)
    peer(abuja, accra)
    return dakar, abuja, accra
