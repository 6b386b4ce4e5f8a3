"""Profile of one API call in process: ``GET /api/v1/requests/<id>`` through the test client.

Seeds a throw-away node as ``bench/api.py`` does, signs in, then counts the SQL statements of one
call (SQLAlchemy's ``before_cursor_execute`` event) and runs cProfile over ``--calls`` calls.

Run: ``.venv/bin/python bench/api_profile.py`` (``--calls 300 --top 40 --sql``).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import PASSWORD, _environment, seed  # noqa: E402


def main() -> None:
    """Seed, sign in, count statements per call, profile ``--calls`` calls."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sql", action="store_true", help="print the statements of one call")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = _environment(Path(tmp))
        email, request_id = seed(env)
        os.environ.update(env)
        from sqlalchemy import event

        from exchange import create_app
        from exchange.extensions import db

        app = create_app()
        client = app.test_client()
        response = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
        assert response.status_code == 201, response.get_data(as_text=True)
        headers = {"Authorization": f"Bearer {response.get_json()['access_token']}"}
        path = f"/api/v1/requests/{request_id}"
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(args[2])

        with app.app_context():
            engine = db.engine
        assert client.get(path, headers=headers).status_code == 200
        event.listen(engine, "before_cursor_execute", count)
        assert client.get(path, headers=headers).status_code == 200
        event.remove(engine, "before_cursor_execute", count)
        print(f"SQL statements per call: {len(statements)}")
        if options.sql:
            for text in statements:
                print("  ", " ".join(text.split())[:300])
        started = time.perf_counter()
        for _ in range(options.calls):
            client.get(path, headers=headers)
        elapsed = time.perf_counter() - started
        print(f"unprofiled: {1000 * elapsed / options.calls:.2f} ms per call")
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(options.calls):
            client.get(path, headers=headers)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(options.top)
        stats.sort_stats("tottime").print_stats(options.top)


if __name__ == "__main__":
    main()
