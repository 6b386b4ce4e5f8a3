"""CPU time of the processes of a benchmark, from /proc (Linux): where the cores go.

A benchmark that runs every process on one machine is bound by its cores once they are busy;
the CPU seconds each kind of process spends per unit of work say which side to make cheaper, and
their sum over the wall time says how many cores the run kept busy (near the machine's count: no
lock or queue is the limit, the work is).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import sqlalchemy as sa

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """Return the user and system CPU seconds of a process (all its threads); 0 once gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    """Return the child processes of ``pid`` (a gunicorn master's workers)."""
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as listed:
                found += [int(child) for child in listed.read().split()]
    except OSError:
        pass
    return found


def backends(server: sa.Engine, databases: list[str]) -> list[int]:
    """Return the PostgreSQL server processes connected to ``databases``."""
    with server.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT pid FROM pg_stat_activity WHERE datname = ANY(:names)"),
            {"names": databases},
        )
        return [int(row[0]) for row in rows]


class CpuMeter:
    """CPU seconds of groups of processes, each group named and listed afresh at each reading."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups

    def read(self) -> dict[str, tuple[set[int], float]]:
        """Return, by group, the processes seen and their CPU seconds so far."""
        reading = {}
        for name, pids in self.groups.items():
            found = set(pids())
            reading[name] = (found, sum(cpu_seconds(pid) for pid in found))
        return reading

    def since(self, before: dict[str, tuple[set[int], float]]) -> dict[str, float]:
        """Return the CPU seconds each group spent since ``before`` (processes seen then)."""
        spent = {}
        for name, (pids, total) in before.items():
            spent[name] = sum(cpu_seconds(pid) for pid in pids) - total
        return spent


def summary(rounds: list[dict[str, float]], units: int) -> str:
    """Say the CPU milliseconds per unit of each group over ``rounds`` of ``units`` each (a
    round's ``wall`` entry its wall seconds), and the cores they kept busy."""
    spent = {k: sum(r[k] for r in rounds) for k in rounds[0]}
    wall = spent.pop("wall")
    per_unit = ", ".join(f"{k} {v / units / len(rounds) * 1000:.1f}" for k, v in spent.items())
    return f"CPU ms per envelope: {per_unit}; cores kept busy {sum(spent.values()) / wall:.2f}"


def node_meter(workers: list[int], inbox: int, database_urls: list[str]) -> CpuMeter:
    """Return the meter of bench/federation.py: the sending node's worker processes, the
    receiving node's gunicorn workers (children of ``inbox``), the server's backends of the two
    databases (the benchmark's own polling of the receipts included)."""
    urls = [sa.make_url(url) for url in database_urls]
    server = sa.create_engine(urls[0].set(database="postgres"), poolclass=sa.pool.NullPool)
    names = [str(url.database) for url in urls]
    return CpuMeter(
        {
            "worker": lambda: workers,
            "inbox": lambda: children(inbox),
            "postgres": lambda: backends(server, names),
        }
    )
