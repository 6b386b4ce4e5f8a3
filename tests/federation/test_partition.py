"""Two nodes in two network namespaces; the link between them cut in the middle of a burst.

Dakar in one namespace (10.231.0.1), Abuja in another (10.231.0.2), joined by a veth pair. While
Dakar's worker delivers a burst, the link goes down for a while, then up again: every message
arrives once, in order per conversation. Needs root and ``ip netns`` (skipped otherwise, with the
reason); the nodes keep SQLite files, since a namespace has its own loopback, so the test runs
in the SQLite pass of the suite only (the PostgreSQL pass would run the very same nodes again).

The link is down for a minute, as the issue asks: long enough for every sender to meet a POST
that hangs until its timeout (15 s) and then several retries with their backoff.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.federation.burst import check_received, delivered_count, queue_burst, wait_delivered
from tests.federation.nodes import Node, engine_url, node_pair

pytestmark = [
    pytest.mark.slow,
    pytest.mark.faults,
    pytest.mark.timeout(400),
    pytest.mark.skipif(
        engine_url() != "sqlite",
        reason="the nodes in namespaces keep SQLite files: run once, in the SQLite pass",
    ),
]

CUT_SECONDS = 60


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)


@pytest.fixture
def namespaces() -> Iterator[tuple[str, str, str]]:
    """Create two namespaces joined by a veth pair; return their names and Dakar's link."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2 (ip netns)")
    tag = f"{os.getpid() % 100000}"
    a, b, dev_a, dev_b = f"exd{tag}", f"exa{tag}", f"vd{tag}", f"va{tag}"
    made = _ip("netns", "add", a)
    if made.returncode != 0:
        pytest.skip(f"ip netns is not available here: {made.stderr.strip()[:200]}")
    try:
        assert _ip("netns", "add", b).returncode == 0
        steps = [
            ("link", "add", dev_a, "type", "veth", "peer", "name", dev_b),
            ("link", "set", dev_a, "netns", a),
            ("link", "set", dev_b, "netns", b),
            ("-n", a, "addr", "add", "10.231.0.1/24", "dev", dev_a),
            ("-n", b, "addr", "add", "10.231.0.2/24", "dev", dev_b),
            ("-n", a, "link", "set", dev_a, "up"),
            ("-n", b, "link", "set", dev_b, "up"),
            ("-n", a, "link", "set", "lo", "up"),
            ("-n", b, "link", "set", "lo", "up"),
        ]
        for step in steps:
            done = _ip(*step)
            if done.returncode != 0:
                pytest.skip(f"a veth link between namespaces failed: {done.stderr.strip()[:200]}")
        yield a, b, dev_a
    finally:
        _ip("netns", "del", a)
        _ip("netns", "del", b)


@pytest.fixture
def nodes(tmp_path: Path, namespaces: tuple[str, str, str]) -> Iterator[tuple[Node, Node]]:
    a, b, _ = namespaces
    env = {"EXCHANGE_INBOX_RATE_LIMIT": "100000 per minute", "EXCHANGE_DELIVERY_LEASE_SECONDS": "5"}
    with node_pair(tmp_path, "sqlite", netns=(a, b), **env) as pair:
        yield pair


def test_the_link_cut_in_the_middle_of_a_burst_loses_and_doubles_nothing(nodes, namespaces):
    dakar, abuja = nodes
    a, _, dev_a = namespaces
    burst = queue_burst(dakar, conversations=3, per_conversation=29, tag="cut")
    assert burst.total == 90
    started = time.monotonic()
    dakar.start_worker("--interval", "0.2")
    try:
        while delivered_count(dakar, burst) < 20:
            assert time.monotonic() - started < 120, "the burst did not start"
            time.sleep(0.2)
        assert _ip("-n", a, "link", "set", dev_a, "down").returncode == 0
        cut_at = delivered_count(dakar, burst)
        time.sleep(CUT_SECONDS)
        during = delivered_count(dakar, burst)
        assert _ip("-n", a, "link", "set", dev_a, "up").returncode == 0
        assert during < burst.total, "the burst ended before the cut"
        assert during - cut_at <= 1, "delivered while the link was down"  # one in flight at most
        wait_delivered(dakar, burst, timeout=150)
    finally:
        for worker in list(dakar.workers):
            dakar.kill_worker(worker)
    check_received(abuja, burst)
    print(f"90 envelopes, link cut {CUT_SECONDS} s: {time.monotonic() - started:.1f} s")
