"""Benchmark of the API: ``GET /api/v1/requests/<id>`` against a bare Flask JSON endpoint.

Both are served by one gunicorn (2 sync workers) in the same run: the node's application, and
beside it (under ``/bare``) a Flask app whose one view returns a small JSON document. Clients in
two processes call one of them for a few seconds, then the other, in paired rounds; the figure is
the median of the per-round ratios of requests per second (goal >= 0.5). The API call is the real
one: a bearer access token (JWT) checked, the sign-in's session and the user loaded, the request
read through the policy's scope, its contents decrypted, dumped through its output schema. The
node is configured as a production node runs behind gunicorn: its rate limits in Redis
(``EXCHANGE_BENCH_REDIS_URL``, by default database 15 of the local server).

Run: ``.venv/bin/python bench/api.py`` (``--rounds 7 --seconds 3``; ``--healthz`` also measures
the node's ``/healthz``, the floor that the application's own hooks and session set).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support.proc_cpu import children, cpu_seconds  # noqa: E402

PASSWORD = "correct horse battery staple"  # noqa: S105 - the bench user's, in a throw-away database
CLIENTS = 2
REDIS_URL = "redis://127.0.0.1:6379/15"  # the bench's own database number, out of others' way


def served() -> Any:
    """Return the WSGI app gunicorn serves: the node, and the bare endpoint under ``/bare``."""
    from flask import Flask, jsonify
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from exchange import create_app

    bare = Flask("bare")

    @bare.get("/")
    def hello() -> Any:
        return jsonify({"id": "00000000-0000-0000-0000-000000000000", "state": "draft"})

    return DispatcherMiddleware(create_app(), {"/bare": bare})


def _environment(root: Path) -> dict[str, str]:
    """Return the node's settings as environment variables (its own instance, keys, database)."""
    database = os.environ.get("EXCHANGE_BENCH_DATABASE") or f"sqlite:///{root / 'bench.sqlite'}"
    return {
        **os.environ,
        "EXCHANGE_ENV": "development",
        "EXCHANGE_DATABASE_URL": database,
        "EXCHANGE_INSTANCE_PATH": str(root / "instance"),
        "EXCHANGE_KEYS_DIR": str(root / "keys"),
        "EXCHANGE_KEY_PASSPHRASE": "bench passphrase",
        "EXCHANGE_KEY_KDF_ROUNDS": "1000",
        "EXCHANGE_SECRET_KEY": "bench-secret-" + "x" * 40,
        # Rate limits kept in Redis, as a node with several gunicorn workers keeps them (README).
        "EXCHANGE_REDIS_URL": os.environ.get("EXCHANGE_BENCH_REDIS_URL", REDIS_URL),
        "PYTHONPATH": str(ROOT),
    }


def seed(env: dict[str, str]) -> tuple[str, str]:
    """Migrate, seed the directory, make a prosecutor, a case and a complete draft; return the
    prosecutor's e-mail address and the request's id."""
    os.environ.update(env)
    from flask_migrate import upgrade

    from exchange import create_app
    from exchange.auth import passwords
    from exchange.auth import services as accounts
    from exchange.cases import services as cases
    from exchange.directory.queries import authority_by_code
    from exchange.directory.services import seed_directory
    from exchange.extensions import db
    from exchange.mla import services
    from exchange.mla.definitions import get_type

    app = create_app()
    with app.app_context():
        upgrade()
        seed_directory(db.session)
        office = authority_by_code(db.session, "SN-TGI-TAMBA")
        assert office is not None
        office.hosted = True
        user = accounts.create_user(
            db.session,
            email="bench@sn-tgi-tamba.example",
            display_name="Bench prosecutor",
            authority=office,
            roles={"prosecutor"},
        )
        user.password_hash = passwords.hash_password(PASSWORD)
        case = cases.create_case(
            db.session,
            user,
            number="PR-BENCH-1",
            title="Orpaillage de Bantaco",
            offences="trafficking in persons",
            stage="investigation",
            border_localities="Kédougou",
        )
        request = services.create_request(
            db.session,
            user,
            case,
            request_type="taking_evidence",
            counterpart=authority_by_code(db.session, "NG-CA"),  # type: ignore[arg-type]
        )
        definition = get_type("taking_evidence")
        assert definition is not None
        values = {f.name: "Filled in" for f in definition.all_fields if f.kind == "text"}
        services.update_contents(db.session, user, request, expected_version=None, values=values)
        services.add_person(
            db.session, user, request, identity={"name": "Blessing Okafor"}, victim=True
        )
        db.session.commit()
        return user.email, request.public_id


def _free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(port: int, path: str, headers: dict[str, str]) -> int:
    """Make one GET on a new connection (gunicorn's sync workers close each); return its status."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _client(args: tuple[int, str, dict[str, str], float]) -> tuple[int, float]:
    """Call ``path`` for ``seconds``; return how many calls answered 200 and the CPU time the
    client itself spent (it shares the machine's cores with the workers)."""
    port, path, headers, seconds = args
    done = 0
    cpu = time.process_time()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if _call(port, path, headers) == 200:
            done += 1
    return done, time.process_time() - cpu


def rate(
    pool: Any, port: int, path: str, headers: dict[str, str], seconds: float
) -> tuple[float, float]:
    """Return the requests per second of ``CLIENTS`` client processes calling ``path``, and the
    clients' CPU time per call."""
    started = time.perf_counter()
    results = pool.map(_client, [(port, path, headers, seconds)] * CLIENTS)
    calls = sum(done for done, _ in results)
    return calls / (time.perf_counter() - started), sum(cpu for _, cpu in results) / max(calls, 1)


def measured(
    pool: Any, port: int, path: str, headers: dict[str, str], seconds: float, workers: list[int]
) -> tuple[float, float, float]:
    """Return ``rate``'s figures and the gunicorn workers' CPU seconds per call.

    On a machine shared with other work, requests per second follow the others' load; the CPU
    a worker spends per call much less (an aid to reading the ratio, not the goal).
    """
    before = sum(cpu_seconds(pid) for pid in workers)
    started = time.perf_counter()
    per_second, client = rate(pool, port, path, headers, seconds)
    calls = per_second * (time.perf_counter() - started)
    spent = sum(cpu_seconds(pid) for pid in workers) - before
    return per_second, client, spent / max(calls, 1.0)


def main() -> None:
    """Serve, warm up, measure paired rounds, print the medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument(
        "--healthz",
        action="store_true",
        help="also measure the node's /healthz (one SELECT 1, every hook of the app) in each round:"
        " what the application costs before any API work",
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = _environment(Path(tmp))
        with multiprocessing.get_context("spawn").Pool(1) as seeder:
            email, request_id = seeder.apply(seed, (env,))
        port = _free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "bench.api:served()",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        try:
            for _ in range(100):
                try:
                    if _call(port, "/healthz", {}) == 200:
                        break
                except OSError:
                    time.sleep(0.2)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(
                "POST",
                "/api/v1/tokens",
                body=json.dumps({"email": email, "password": PASSWORD}),
                headers={"Content-Type": "application/json"},
            )
            response = conn.getresponse()
            assert response.status == 201, response.read()
            token = json.loads(response.read())["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            api_path = f"/api/v1/requests/{request_id}"
            assert _call(port, api_path, headers) == 200
            assert _call(port, "/bare/", {}) == 200
            workers = children(server.pid)
            with multiprocessing.get_context("fork").Pool(CLIENTS) as pool:
                rate(pool, port, api_path, headers, 1.0)  # warm both workers
                rate(pool, port, "/bare/", {}, 1.0)
                ours, bare, ratios, client_cpu, floor, worker_cpu = [], [], [], [], [], []
                for _ in range(options.rounds):
                    a, a_cpu, a_served = measured(
                        pool, port, api_path, headers, options.seconds, workers
                    )
                    b, b_cpu, b_served = measured(
                        pool, port, "/bare/", {}, options.seconds, workers
                    )
                    ours.append(a)
                    bare.append(b)
                    ratios.append(a / b)
                    client_cpu.append((a_cpu, b_cpu))
                    worker_cpu.append((a_served, b_served))
                    if options.healthz:
                        floor.append(rate(pool, port, "/healthz", {}, options.seconds)[0] / b)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    print(f"rate limits kept in {env['EXCHANGE_REDIS_URL']}")
    print(f"GET /api/v1/requests/<id>: {statistics.median(ours):8.1f} requests/s (median)")
    print(f"bare Flask JSON endpoint:  {statistics.median(bare):8.1f} requests/s (median)")
    if floor:
        print(f"the node's /healthz against bare: {statistics.median(floor):.2f} (median ratio)")
    ratio = statistics.median(ratios)
    api_cpu = statistics.median(a for a, _ in client_cpu)
    bare_cpu = statistics.median(b for _, b in client_cpu)
    print(
        f"client CPU per call (median): {1e6 * api_cpu:.0f} us (API), {1e6 * bare_cpu:.0f} us (bare)"
    )
    api_served = statistics.median(a for a, _ in worker_cpu)
    bare_served = statistics.median(b for _, b in worker_cpu)
    print(
        f"workers' CPU per call (median): {1e6 * api_served:.0f} us (API), "
        f"{1e6 * bare_served:.0f} us (bare)"
    )
    print(
        f"ratio (median of {options.rounds} paired rounds): {ratio:.2f} "
        f"(best rounds {max(ours) / max(bare):.2f}; goal >= 0.5)"
    )


if __name__ == "__main__":
    main()
