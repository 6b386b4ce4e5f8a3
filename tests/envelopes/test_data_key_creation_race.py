"""The node's first data key, made by several processes at once: they all end with the same key.

A web process's request threads and a worker may each find no data key and make one; a key that
lost the race would encrypt fields that nobody can read afterwards (seen as ``decryption-failed``
at the inbox of a node whose first envelopes arrived together).
"""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

from exchange.envelopes import at_rest


def _make(keys_dir: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    ring = at_rest.ensure_data_key(keys_dir, "passphrase")
    out.put(ring.keys[1])


def test_processes_and_threads_making_the_first_data_key_agree(tmp_path: Path):
    keys_dir = tmp_path / "keys"
    context = multiprocessing.get_context("fork")
    out: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
    processes = [context.Process(target=_make, args=(str(keys_dir), out)) for _ in range(4)]
    threads = [threading.Thread(target=_make, args=(str(keys_dir), out)) for _ in range(4)]
    for worker in (*processes, *threads):
        worker.start()
    for worker in (*processes, *threads):
        worker.join(timeout=60)
    keys = {out.get(timeout=10) for _ in range(8)}
    assert len(keys) == 1
    assert at_rest.load_data_keys(keys_dir, "passphrase").keys[1] in keys
    assert sorted(p.name for p in keys_dir.iterdir()) == [at_rest.DATA_KEYS_FILE]
