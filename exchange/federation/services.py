"""Node identity and peers: the signed node descriptor, and trusting another node's.

A peer is trusted the first time by the fingerprint of its node key, exchanged out of band
(telephone, letter); its authorities' public keys then enter the trust store through the same
checks as ``exchange trust import``. A later descriptor is accepted only when a node key the peer
already had signs it, so a rotated key is announced by the key it replaces; a descriptor older
than the one we hold (a lower serial) is refused, so a peer cannot be rolled back.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from exchange.db import DbSession, utcnow
from exchange.directory import queries as directory
from exchange.envelopes import EnvelopeError, KeyStore, fingerprint, import_jwks, revoke
from exchange.envelopes.node import (
    NodeKey,
    normalise_fingerprint,
    unverified_node_claims,
    verify_node_token,
)
from exchange.envelopes.stores import DbTrustStore
from exchange.federation.client import base_url
from exchange.federation.errors import FederationError
from exchange.federation.models import Peer
from exchange.settings import Settings

DESCRIPTOR_VERSION = 1


def node_key(settings: Settings) -> NodeKey:
    """Return the node's signing key store (under ``EXCHANGE_KEYS_DIR/node``)."""
    return NodeKey(settings.keys_dir, settings.passphrase)


def hosted_codes(session: DbSession, keys: KeyStore) -> list[str]:
    """Return the authorities hosted here that have keys: those the descriptor announces."""
    held = keys.authorities_set()
    return [a.code for a in directory.authorities(session, hosted=True) if a.code in held]


def _stamp(text: str | None) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp()) if text else 0


def descriptor_claims(
    session: DbSession, settings: Settings, keys: KeyStore, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Build the node descriptor: our hosted authorities, their JWK Sets, our node keys.

    ``serial`` is the time of the latest key change (creation or revocation) it lists, so it
    grows whenever the descriptor says something new and a peer can refuse an older one.
    """
    now = now or utcnow()
    node = node_key(settings)
    node_keys = node.public_jwks()["keys"]
    codes = hosted_codes(session, keys)
    authorities = [{"code": code, "jwks": keys.public_jwks(code)} for code in codes]
    listed = [i for i in keys.list_keys() if i.authority in codes]
    changes = [_stamp(i.created_at) for i in listed] + [_stamp(i.revoked_at) for i in listed]
    changes += [_stamp(row.get("revoked_at")) for row in node.index()]
    changes += [_stamp(row["created_at"]) for row in node.index()]
    return {
        "version": DESCRIPTOR_VERSION,
        "node_url": settings.node_url,
        "name": settings.node_name,
        "serial": max(changes, default=0),
        "iat": int(now.timestamp()),
        "node_keys": node_keys,
        "authorities": authorities,
    }


def signed_descriptor(session: DbSession, settings: Settings, keys: KeyStore) -> str:
    """Return the node descriptor signed with the node key (a compact JWS)."""
    return node_key(settings).sign(descriptor_claims(session, settings, keys))


def peers(session: DbSession) -> list[Peer]:
    """Return the peers, by URL."""
    return list(session.scalars(select(Peer).order_by(Peer.url)))


def peer_by_url(session: DbSession, url: str) -> Peer | None:
    """Return the peer with this base URL."""
    return session.scalar(select(Peer).where(Peer.url == base_url(url)))


def peer_by_public_id(session: DbSession, public_id: str) -> Peer | None:
    """Return the peer with this public id."""
    return session.scalar(select(Peer).where(Peer.public_id == public_id[:36]))


def peer_for_authority(session: DbSession, code: str) -> Peer | None:
    """Return the peer that hosts an authority, if any (the route of a message to it)."""
    return next((p for p in peers(session) if code in p.authorities), None)


def _checked_claims(claims: dict[str, Any]) -> dict[str, Any]:
    """Refuse a descriptor whose claims lack the members we read."""
    if claims.get("version") != DESCRIPTOR_VERSION:
        raise FederationError("bad_descriptor", "unknown descriptor version")
    if not isinstance(claims.get("serial"), int) or not isinstance(claims.get("iat"), int):
        raise FederationError("bad_descriptor", "serial and iat must be integers")
    keys, authorities = claims.get("node_keys"), claims.get("authorities")
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        raise FederationError("bad_descriptor", "node_keys must be a list of JWKs")
    if not isinstance(authorities, list) or len(authorities) > 200:
        raise FederationError("bad_descriptor", "authorities must be a list")
    for entry in authorities:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("code"), str)
            or not isinstance(entry.get("jwks"), dict)
        ):
            raise FederationError("bad_descriptor", "each authority has a code and a jwks")
    return claims


def _merge_node_keys(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep every node key we had, add the new ones, and take on announced revocations."""
    merged = {k["kid"]: dict(k) for k in old if isinstance(k.get("kid"), str)}
    for key in new:
        kid = key.get("kid")
        if not isinstance(kid, str) or key.get("crv") != "Ed25519":
            continue
        if kid not in merged:
            merged[kid] = dict(key)
        elif key.get("revoked_at") and not merged[kid].get("revoked_at"):
            merged[kid]["revoked_at"] = key["revoked_at"]
    return list(merged.values())


def accept_descriptor(
    session: DbSession,
    keys: KeyStore,
    token: bytes | str,
    *,
    url: str,
    expected_fingerprint: str | None = None,
) -> Peer:
    """Check a peer's descriptor and take on what it says; create the peer on first contact.

    First contact (no peer at ``url`` yet) needs ``expected_fingerprint``: the descriptor must be
    signed by the node key it announces with that fingerprint. Afterwards, a key the peer already
    had must sign it. Flushes, never commits.
    """
    url = base_url(url)
    peer = peer_by_url(session, url)
    try:
        if peer is None:
            if not expected_fingerprint:
                raise FederationError("fingerprint_required", "a new peer needs its fingerprint")
            wanted = normalise_fingerprint(expected_fingerprint)
            announced = unverified_node_claims(token).get("node_keys")
            candidates = [
                k
                for k in (announced if isinstance(announced, list) else [])
                if isinstance(k, dict) and _safe_fingerprint(k) == wanted
            ]
            if not candidates:
                raise FederationError(
                    "fingerprint_mismatch", "no node key of the peer has this fingerprint"
                )
            claims = verify_node_token(token, candidates)
        else:
            claims = verify_node_token(token, peer.node_keys)
    except EnvelopeError as exc:
        if exc.reason == "unknown-sender-key" and peer is None:
            raise FederationError(
                "fingerprint_mismatch",
                "the descriptor is not signed by the key with this fingerprint",
            ) from exc
        raise FederationError("bad_descriptor", f"{exc.reason}: {exc}") from exc
    claims = _checked_claims(claims)
    if peer is not None and claims["serial"] < peer.serial:
        raise FederationError("stale_descriptor", "the peer sent an older descriptor than ours")
    codes = [entry["code"] for entry in claims["authorities"]]
    for code in codes:
        local = directory.authority_by_code(session, code)
        if keys.hosts(code) or (local is not None and local.hosted):
            raise FederationError("hosted_here", f"{code} is hosted on this node")
        other = peer_for_authority(session, code)
        if other is not None and other is not peer:
            raise FederationError("claimed_by_other_peer", f"{code} is hosted by {other.url}")
    if peer is None:
        peer = Peer(
            url=url,
            fingerprint=normalise_fingerprint(expected_fingerprint or ""),
            node_keys_json="[]",
            descriptor="",
        )
        session.add(peer)
        session.flush()
    trust = DbTrustStore(session)
    try:
        for entry in claims["authorities"]:
            jwks = dict(entry["jwks"])
            if jwks.get("authority", entry["code"]) != entry["code"]:
                raise FederationError("bad_descriptor", "a JWK Set names another authority")
            import_jwks(
                trust,
                jwks,
                hosted=keys.authorities_set(),
                authority=entry["code"],
                source=f"peer:{peer.public_id[:8]}",
            )
    except EnvelopeError as exc:
        raise FederationError("bad_descriptor", f"{exc.reason}: {exc}") from exc
    peer.name = str(claims.get("name", ""))[:200]
    peer.node_keys_json = json.dumps(_merge_node_keys(peer.node_keys, claims["node_keys"]))
    peer.authorities_json = json.dumps(sorted(set(codes)))
    peer.serial = claims["serial"]
    peer.descriptor = token.decode("ascii") if isinstance(token, bytes) else token
    peer.updated_at = utcnow()
    session.flush()
    return peer


def _safe_fingerprint(jwk: dict[str, Any]) -> str | None:
    try:
        return fingerprint(jwk)
    except EnvelopeError:
        return None


def add_peer(
    session: DbSession,
    keys: KeyStore,
    url: str,
    expected_fingerprint: str,
    *,
    fetch: Callable[[str], bytes],
) -> Peer:
    """Fetch a new peer's descriptor from ``url`` and trust it if the fingerprint matches."""
    url = base_url(url)
    normalise_fingerprint(expected_fingerprint)  # refuse a mistyped one before any network
    if peer_by_url(session, url) is not None:
        raise FederationError("peer_exists", f"{url} is a peer already")
    return accept_descriptor(
        session, keys, fetch(url), url=url, expected_fingerprint=expected_fingerprint
    )


def refresh_peer(
    session: DbSession, keys: KeyStore, peer: Peer, *, fetch: Callable[[str], bytes]
) -> Peer:
    """Fetch a known peer's descriptor again (rotated keys, revocations, new authorities)."""
    return accept_descriptor(session, keys, fetch(peer.url), url=peer.url)


def remove_peer(session: DbSession, peer: Peer) -> None:
    """Stop trusting a peer: its authorities' keys are revoked from now, the peer forgotten."""
    trust = DbTrustStore(session)
    source = f"peer:{peer.public_id[:8]}"
    for entry in trust.all():
        if entry.source == source and entry.revoked_at is None:
            revoke(trust, entry.kid)
    session.delete(peer)
    session.flush()
