"""``exchange worker`` rests only after a pass that moved nothing on (the latency of delivery)."""

from __future__ import annotations

import pytest

from exchange.federation.cli import pause_after


@pytest.mark.parametrize(
    ("counts", "rest"),
    [
        ({}, 0.25),  # nothing due
        ({"waiting": 2, "retry": 1, "taken": 3}, 0.25),  # nothing left: no busy loop
        ({"delivered": 1}, 0.0),  # a successor, or a message queued meanwhile, may be due
        ({"parked": 1, "retry": 4}, 0.0),
    ],
)
def test_worker_rests_only_after_a_pass_without_progress(counts, rest):
    assert pause_after(counts, 0.25) == rest


def test_worker_refuses_a_rest_that_would_spin(runner):
    result = runner.invoke(args=["worker", "--interval", "0"])
    assert result.exit_code == 2 and "--interval" in result.output
