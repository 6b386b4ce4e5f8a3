"""Trusting a peer node: by fingerprint first, then only descriptors its known keys sign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from exchange.envelopes import KeyStore
from exchange.envelopes.node import NodeKey
from exchange.envelopes.stores import DbTrustStore, key_store
from exchange.extensions import db
from exchange.federation import services
from exchange.federation.errors import FederationError

URL = "http://abuja.test:5001"


class Remote:
    """A peer node's keys, able to sign descriptors as that node would."""

    def __init__(self, root: Path, *codes: str) -> None:
        self.node = NodeKey(root, "remote passphrase")
        self.keys = KeyStore(root, "remote passphrase")
        self.codes = codes
        for code in codes:
            self.keys.generate(code, pdf=False)
        self.serial = 100

    def descriptor(self, **changes: Any) -> str:
        self.serial += 1
        claims = {
            "version": 1,
            "node_url": URL,
            "name": "Abuja",
            "serial": self.serial,
            "iat": 1_800_000_000,
            "node_keys": self.node.public_jwks()["keys"],
            "authorities": [{"code": c, "jwks": self.keys.public_jwks(c)} for c in self.codes],
        }
        claims.update(changes)
        return self.node.sign(claims)


def _add(remote: Remote, fingerprint: str) -> Any:
    token = remote.descriptor()
    return services.add_peer(db.session, key_store(), URL, fingerprint, fetch=lambda _url: token)


def test_a_peer_is_trusted_only_with_the_fingerprint_of_its_node_key(app, tmp_path):
    remote = Remote(tmp_path, "GH-CA")
    wrong = NodeKey(tmp_path / "other", "x").fingerprint()
    with pytest.raises(FederationError) as refused:
        _add(remote, wrong)
    assert refused.value.code == "fingerprint_mismatch"
    assert DbTrustStore(db.session).for_authority("GH-CA") == []
    peer = _add(remote, remote.node.fingerprint().replace(":", "").lower())
    assert peer.authorities == ["GH-CA"]
    trusted = {k.kid for k in DbTrustStore(db.session).for_authority("GH-CA")}
    assert trusted == {k["kid"] for k in remote.keys.public_jwks("GH-CA")["keys"]}
    assert services.peer_for_authority(db.session, "GH-CA") is peer


def test_rotated_keys_are_taken_only_when_a_known_node_key_signs(app, tmp_path):
    remote = Remote(tmp_path, "GH-CA")
    peer = _add(remote, remote.node.fingerprint())
    remote.node.rotate()  # the new key is announced by a descriptor... signed by the new key
    new_sig = remote.keys.rotate("GH-CA", "sig")
    # An impostor node key never seen before: refused.
    impostor = Remote(tmp_path / "impostor", "GH-CA")
    with pytest.raises(FederationError):
        services.accept_descriptor(db.session, key_store(), impostor.descriptor(), url=URL)
    # Signed by the new node key, which the peer did not announce under the old one: refused.
    with pytest.raises(FederationError):
        services.accept_descriptor(db.session, key_store(), remote.descriptor(), url=URL)
    assert DbTrustStore(db.session).get(new_sig.kid) is None
    # The old key (retired, still held) signs the announcement: accepted, then the new key works.
    old_row = remote.node.index()[0]
    rows = remote.node.index()
    for row in rows:
        row["status"] = "active" if row["kid"] == old_row["kid"] else "retired"
    remote.node._save(rows)
    services.accept_descriptor(db.session, key_store(), remote.descriptor(), url=URL)
    assert DbTrustStore(db.session).get(new_sig.kid) is not None
    for row in rows:
        row["status"] = "retired" if row["kid"] == old_row["kid"] else "active"
    remote.node._save(rows)
    services.accept_descriptor(db.session, key_store(), remote.descriptor(), url=URL)
    # A descriptor older than the one held is refused (no rollback).
    with pytest.raises(FederationError) as stale:
        services.accept_descriptor(db.session, key_store(), remote.descriptor(serial=1), url=URL)
    assert stale.value.code == "stale_descriptor"
    assert peer.serial == remote.serial - 1


def test_revocations_in_a_descriptor_are_honoured(app, tmp_path):
    remote = Remote(tmp_path, "GH-CA")
    _add(remote, remote.node.fingerprint())
    enc = remote.keys.active("GH-CA", "enc")
    assert enc is not None
    remote.keys.revoke(enc.kid)
    services.accept_descriptor(db.session, key_store(), remote.descriptor(), url=URL)
    assert DbTrustStore(db.session).get(enc.kid).revoked_at is not None


def test_keys_of_an_authority_hosted_here_are_never_imported(app, tmp_path):
    remote = Remote(tmp_path, "GH-CA", "SN-CA")  # SN-CA is hosted on this node
    with pytest.raises(FederationError) as refused:
        _add(remote, remote.node.fingerprint())
    assert refused.value.code == "hosted_here"
    assert DbTrustStore(db.session).for_authority("SN-CA") == []


def test_the_node_descriptor_is_public_and_signed_by_the_node_key(client, app):
    from exchange.envelopes.node import verify_node_token

    key_store().generate("SN-CA", pdf=False)
    answer = client.get("/federation/v1/node")
    assert answer.status_code == 200 and answer.mimetype == "application/jose"
    node = services.node_key(app.config["EXCHANGE"])
    claims = verify_node_token(answer.get_data(as_text=True), node.public_jwks()["keys"])
    assert [a["code"] for a in claims["authorities"]] == ["SN-CA"]
    assert claims["serial"] > 0


def test_the_client_refuses_other_schemes_and_redirects(app):
    from exchange.federation.client import base_url

    for bad in (
        "file:///etc/passwd",
        "ftp://x",
        "http://u:p@host",
        "https://h/x?y=1",
        "gopher://h",
    ):
        with pytest.raises(FederationError):
            base_url(bad)
    assert base_url("https://abuja.test/federation/v1/node/") == "https://abuja.test"
