"""Faults between two real nodes: a node down, workers killed, one envelope posted at once many
times, forged envelopes. Nothing lost, nothing applied twice, messages of a conversation in order.

The nodes (``tests.federation.nodes``) are shared by the tests of this module; each test works
on conversations of its own. Each test is bounded in time (``pytest-timeout``). On PostgreSQL,
two workers share the queue (``FOR UPDATE SKIP LOCKED``); SQLite has one.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.federation.burst import check_received, delivered_count, queue_burst, wait_delivered
from tests.federation.nodes import Node, WorkerForker, engine_url, node_pair

pytestmark = [pytest.mark.slow, pytest.mark.faults]

POSTGRES = engine_url() != "sqlite"
WORKERS = 2 if POSTGRES else 1
NODE_ENV = {
    # A killed worker's message is taken up again after 2 s, not 2 min.
    "EXCHANGE_DELIVERY_LEASE_SECONDS": "2",
    "EXCHANGE_INBOX_RATE_LIMIT": "100000 per minute",
    "EXCHANGE_MAX_UPLOAD_MB": "1",  # the inbox's limit: 8 MiB + 4 MiB
}


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    """Dakar and Abuja, started and peered once for the tests of this module."""
    with node_pair(tmp_path_factory.mktemp("faults"), engine_url(), **NODE_ENV) as pair:
        yield pair


def _stop_workers(node: Node) -> None:
    for worker in list(node.workers):
        node.kill_worker(worker)


@pytest.mark.timeout(240)
def test_the_receiving_node_down_with_100_queued_then_up(nodes):
    dakar, abuja = nodes
    abuja.stop()
    burst = queue_burst(dakar, conversations=5, per_conversation=19, tag="down")
    assert burst.total == 100
    try:
        counts = dakar.worker_pass()
        assert counts.get("retry") == 5 and counts.get("waiting") == 95, counts  # the first of each
        assert delivered_count(dakar, burst) == 0
        abuja.start()
        for _ in range(WORKERS):
            dakar.start_worker("--interval", "0.2")
        took = wait_delivered(dakar, burst, timeout=150)
    finally:
        _stop_workers(dakar)
        if abuja.process is None or abuja.process.poll() is not None:
            abuja.start()
    check_received(abuja, burst)
    print(f"100 envelopes delivered in {took:.1f} s once the node was back ({WORKERS} workers)")


@pytest.mark.timeout(300)
def test_workers_killed_20_times_while_500_are_delivered(nodes):
    dakar, abuja = nodes
    burst = queue_burst(dakar, conversations=10, per_conversation=49, tag="kill")
    assert burst.total == 500
    rng = random.Random(7)
    started = time.monotonic()
    forker = WorkerForker(dakar, "--interval", "0.1")
    try:
        active = [forker.spawn() for _ in range(WORKERS)]
        kills = 0
        while kills < 20:
            before = delivered_count(dakar, burst)
            time.sleep(rng.uniform(0.05, 0.35))  # 20 kills inside the burst, however fast it goes
            if delivered_count(dakar, burst) == before and time.monotonic() - started < 90:
                continue  # nothing delivered meanwhile: kill a worker at work, not a starting one
            forker.kill(active.pop(rng.randrange(len(active))))
            kills += 1
            active.append(forker.spawn())
        assert delivered_count(dakar, burst) < burst.total, "the kills came after the work"
        wait_delivered(dakar, burst, timeout=150)
    finally:
        forker.close()
    check_received(abuja, burst)
    print(f"500 envelopes, 20 SIGKILLs, {WORKERS} workers: {time.monotonic() - started:.1f} s")


def _seal_thread_message(dakar: Node, conversation: str, text: str) -> bytes:
    """Seal, on Dakar, a threaded message about a delivered request (not queued: posted by hand)."""
    from exchange.envelopes.stores import node_envelopes

    with dakar.app() as session:
        return bytes(
            node_envelopes(session)
            .seal(
                {"subject": "Progress inquiry", "text": text, "lang": "fr"},
                sender="SN-CA",
                recipient="NG-CA",
                msg_type="message",
                conversation=conversation,
                in_reply_to=conversation,
            )
            .token
        )


def _post(url: str, body: bytes, content_type: str = "application/jose") -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310 - loopback test node
        url + "/federation/v1/inbox",
        data=body,
        method="POST",
        headers={"Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 - loopback
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _claims(receipt: bytes) -> dict[str, Any]:
    import base64

    part = receipt.split(b".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4)))
    return claims


def _delivered_request(dakar: Node, tag: str) -> str:
    burst = queue_burst(dakar, conversations=1, per_conversation=0, tag=tag)
    assert dakar.worker_pass() == {"delivered": 1}
    return next(iter(burst.conversations))


def _thread_count(abuja: Node, conversation: str) -> int:
    from exchange.mla.models import Message

    with abuja.app() as session:
        return int(
            session.scalar(
                sa.select(sa.func.count())
                .select_from(Message)
                .where(Message.conversation_id == conversation)
            )
            or 0
        )


@pytest.mark.timeout(120)
def test_the_same_envelope_posted_50_times_at_once_is_applied_once(nodes):
    dakar, abuja = nodes
    conversation = _delivered_request(dakar, "fifty")
    token = _seal_thread_message(dakar, conversation, "fifty times")
    answers: list[tuple[int, bytes]] = []
    barrier = threading.Barrier(50)

    def post() -> None:
        barrier.wait()
        answers.append(_post(abuja.url, token))

    threads = [threading.Thread(target=post) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=110)
    assert len(answers) == 50
    assert {status for status, _ in answers} == {200}
    assert len({receipt for _, receipt in answers}) == 1  # 50 identical receipts
    assert _claims(answers[0][1])["status"] == "delivered"
    assert _thread_count(abuja, conversation) == 1  # one apply


def _reheader(token: bytes, **changes: str) -> bytes:
    import base64

    parts = token.split(b".")
    header = json.loads(base64.urlsafe_b64decode(parts[0] + b"=" * (-len(parts[0]) % 4)))
    header.update(changes)
    parts[0] = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=")
    return b".".join(parts)


def _stranger_envelope(dakar: Node, abuja: Node, conversation: str, tmp_path: Path) -> bytes:
    """Seal an envelope as SN-CA with keys that Abuja never trusted (an unknown sender)."""
    from exchange.envelopes import Envelopes, KeyStore, MemoryTrustStore, import_jwks
    from exchange.envelopes.stores import key_store

    with abuja.app():
        ng_public = key_store().public_jwks("NG-CA")
    keys = KeyStore(tmp_path / "stranger", "stranger passphrase", kdf_rounds=1000)
    keys.generate("SN-CA", pdf=False)
    trust = MemoryTrustStore()
    import_jwks(trust, ng_public, hosted=("SN-CA",))
    return bytes(
        Envelopes(keys, trust)
        .seal(
            {"subject": "Progress inquiry", "text": "a stranger", "lang": "fr"},
            sender="SN-CA",
            recipient="NG-CA",
            msg_type="message",
            conversation=conversation,
            in_reply_to=conversation,
        )
        .token
    )


def _seen_count(abuja: Node) -> int:
    from exchange.envelopes.models import SeenMessage

    with abuja.app() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(SeenMessage)) or 0)


@pytest.mark.timeout(120)
def test_forged_envelopes_are_refused_with_their_reason_and_change_nothing(nodes, tmp_path):
    dakar, abuja = nodes
    conversation = _delivered_request(dakar, "forged")
    token = _seal_thread_message(dakar, conversation, "the original")
    status, first = _post(abuja.url, token)
    assert status == 200 and _claims(first)["status"] == "delivered"
    parts = token.split(b".")
    flipped = parts[3][:-2] + (b"A" if parts[3][-2:-1] != b"A" else b"B") + parts[3][-1:]
    other = _seal_thread_message(dakar, conversation, "another")
    refused = {
        "tampered": (b".".join([*parts[:3], flipped, parts[4]]), "rejected:decryption-failed"),
        "re-addressed": (_reheader(other, aud="GH-CA"), "rejected:not-addressed-to-us"),
        "header and claims apart": (
            _reheader(other, typ="mla.status"),
            "rejected:decryption-failed",  # the header is the AAD: any change breaks the tag
        ),
        "unknown sender": (
            _stranger_envelope(dakar, abuja, conversation, tmp_path),
            "rejected:unknown-sender-key",
        ),
        "oversized envelope": (b"e" * (9 << 20), "rejected:oversized"),
        "oversized body": (b"e" * (13 << 20), "rejected:oversized"),
    }
    seen = _seen_count(abuja)
    for name, (body, expected) in refused.items():
        status, receipt = _post(abuja.url, body)
        assert status == (413 if "oversized" in name else 422), (name, status)
        assert receipt.count(b".") == 2, (name, receipt[:300])
        claims = _claims(receipt)
        assert claims["status"] == expected, (name, claims["status"])
        assert claims["evidence"] == "NON_DELIVERY" and claims["iss"] == "NG-CA"
    # A replay (the same message again, as sent, or sealed anew) gets the first receipt.
    from exchange.envelopes.stores import node_envelopes

    with dakar.app() as session:
        header = json.loads(_b64(parts[0]))
        resealed = node_envelopes(session).seal(
            {"subject": "Progress inquiry", "text": "the original", "lang": "fr"},
            sender="SN-CA",
            recipient="NG-CA",
            msg_type="message",
            conversation=conversation,
            in_reply_to=conversation,
            msg_id=header["msg_id"],
        )
        node_envelopes(session).check_receipt(first, token)
    for replay in (token, bytes(resealed.token)):
        status, receipt = _post(abuja.url, replay)
        assert status == 200 and receipt == first
    assert _seen_count(abuja) == seen  # nothing applied
    assert _thread_count(abuja, conversation) == 1


def _b64(part: bytes) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4))
