"""Benchmark of the MLA dashboard: its first page and filtered pages at 10,000 and 1,000,000 requests.

Seeds requests in bulk (sqlite3 ``executemany`` on SQLite, ``COPY`` on PostgreSQL; not the ORM),
then times ``exchange.mla.queries.dashboard_page`` (the query the page runs, counterparts joined)
for a central authority officer and for a prosecutor, on SQLite and on PostgreSQL. Goal: the time at
1,000,000 is at most twice the time at 10,000 (keyset pagination on indexes, no OFFSET, no N+1).

Run: ``.venv/bin/python bench/dashboard.py`` (PostgreSQL from ``EXCHANGE_BENCH_POSTGRES``, default the
local server; ``--sizes 10000,100000`` for a quicker run; ``--skip-postgres``).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exchange import create_app
from exchange.settings import Settings

COLUMNS = (
    "id",
    "public_id",
    "conversation_id",
    "side",
    "authority_id",
    "reviewing_authority_id",
    "counterpart_id",
    "counterpart_state",
    "case_id",
    "request_type",
    "state",
    "reference",
    "foreign_reference",
    "language",
    "legal_basis",
    "urgent",
    "urgency_reason",
    "desired_date",
    "confidential",
    "details_enc",
    "created_by_id",
    "assigned_authority_id",
    "assigned_officer_id",
    "created_at",
    "updated_at",
    "transmitted_at",
    "acknowledged_at",
    "executed_at",
    "due_at",
    "refusal_ground",
    "version",
)
TYPES = (
    "taking_evidence",
    "videoconference_hearing",
    "service_of_documents",
    "search_and_seizure",
    "examining_objects_sites",
    "information_and_expertise",
    "records",
    "tracing_proceeds",
    "voluntary_appearance",
    "other_assistance",
    "temporary_transfer",
    "freezing_confiscation",
    "digital_preservation",
    "spontaneous_information",
    "survivor_repatriation",
)
OUT_STATES = (
    "draft",
    "in_review",
    "transmitted",
    "delivered",
    "acknowledged",
    "in_execution",
    "info_requested",
    "partially_executed",
    "executed",
    "refused",
    "closed",
)
IN_STATES = (
    "received",
    "registered",
    "in_execution",
    "info_requested",
    "partially_executed",
    "executed",
    "refused",
    "closed",
)
REPEAT = 15
START = datetime(2024, 1, 1, tzinfo=UTC)
NOW = datetime(2027, 1, 1, tzinfo=UTC)


def _settings(url: str, instance: Path) -> Settings:
    """Return bench settings on ``url``."""
    return Settings(
        env="test",
        database_url=url,
        instance_path=instance,
        secret_key="bench-" + "x" * 40,
        keys_dir=instance / "keys",
        key_passphrase="bench",  # noqa: S106 - a throw-away benchmark node
    ).checked()


class World:
    """The authorities, people and cases the seeded requests refer to."""

    def __init__(self, app: Any) -> None:
        from exchange.auth import services as accounts
        from exchange.cases import services as cases
        from exchange.directory.models import Authority
        from exchange.directory.services import seed_directory
        from exchange.extensions import db
        from exchange.uow import unit_of_work

        with app.app_context(), unit_of_work() as session:
            seed_directory(session)
            authorities = {a.code: a for a in session.scalars(sa.select(Authority))}
            for code in ("SN-CA", "SN-TGI-TAMBA"):
                authorities[code].hosted = True
            self.office = authorities["SN-TGI-TAMBA"].id
            self.central = authorities["SN-CA"].id
            self.foreign = [
                (a.id, a.jurisdiction_code)
                for a in authorities.values()
                if a.jurisdiction_code != "SN"
            ]
            prosecutor = accounts.create_user(
                session,
                email="p@bench.test",
                display_name="P",
                authority=authorities["SN-TGI-TAMBA"],
                roles={"prosecutor"},
            )
            others = [
                accounts.create_user(
                    session,
                    email=f"p{i}@bench.test",
                    display_name=f"P{i}",
                    authority=authorities["SN-TGI-TAMBA"],
                    roles={"prosecutor"},
                )
                for i in range(20)
            ]
            officer = accounts.create_user(
                session,
                email="o@bench.test",
                display_name="O",
                authority=authorities["SN-CA"],
                roles={"central_authority_officer"},
            )
            session.flush()
            # The prosecutor is on 10 of 500 cases: a realistic, selective visibility.
            self.cases = []
            for i in range(500):
                owner = prosecutor if i < 10 else others[i % 20]
                case = cases.create_case(
                    session,
                    owner,
                    number=f"B-{i:05d}",
                    title="Bench case",
                    offences="",
                    stage="investigation",
                    border_localities="",
                )
                self.cases.append((case.id, owner.id))
            self.prosecutor_id, self.officer_id = prosecutor.id, officer.id
            self.officers = [officer.id, *[o.id for o in others[:3]]]
        with app.app_context():
            db.engine.dispose()


def _rows(world: World, first_id: int, count: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """Yield ``count`` request rows (Python values), ids from ``first_id``."""
    span = (NOW - START).total_seconds()
    for n in range(count):
        ident = first_id + n
        incoming = rng.random() < 0.3
        counterpart, state_code = world.foreign[rng.randrange(len(world.foreign))]
        created = START + timedelta(seconds=span * (ident % 997_331) / 997_331 + rng.random())
        state = rng.choice(IN_STATES if incoming else OUT_STATES)
        transmitted = (
            created + timedelta(days=rng.randint(1, 20))
            if state not in ("draft", "in_review")
            else None
        )
        acknowledged = (
            transmitted + timedelta(days=rng.randint(1, 30))
            if transmitted and rng.random() < 0.7
            else None
        )
        executed = (
            acknowledged + timedelta(days=rng.randint(10, 200))
            if acknowledged and state in ("executed", "closed")
            else None
        )
        due = (
            None
            if state in ("executed", "closed", "refused", "draft")
            else created + timedelta(days=rng.randint(7, 120))
        )
        case_id, author = world.cases[rng.randrange(len(world.cases))]
        yield (
            ident,
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "incoming" if incoming else "outgoing",
            world.central if incoming else world.office,
            None if incoming else world.central,
            counterpart,
            state_code,
            None if incoming else case_id,
            TYPES[rng.randrange(len(TYPES))],
            state,
            f"B/{ident:08d}",
            "",
            "en",
            "UNTOC-18",
            rng.random() < 0.1,
            "",
            None,
            True,
            "",
            None if incoming else author,
            world.central if incoming and rng.random() < 0.5 else None,
            rng.choice(world.officers) if incoming and rng.random() < 0.3 else None,
            created,
            created,
            transmitted,
            acknowledged,
            executed,
            due,
            "dual_criminality" if state == "refused" else None,
            1,
        )


def _sqlite_value(value: Any) -> Any:
    """Format a value the way SQLAlchemy stores it in SQLite (UTC datetimes as text)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def seed_sqlite(engine: sa.Engine, world: World, first_id: int, count: int) -> None:
    """Insert rows with the sqlite3 driver's executemany, in large transactions."""
    rng = random.Random(first_id)
    placeholders = ",".join("?" * len(COLUMNS))
    sql = f"INSERT INTO mla_requests ({','.join(COLUMNS)}) VALUES ({placeholders})"  # noqa: S608
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        batch: list[tuple[Any, ...]] = []
        for row in _rows(world, first_id, count, rng):
            batch.append(tuple(_sqlite_value(v) for v in row))
            if len(batch) == 50_000:
                cursor.executemany(sql, batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def seed_postgres(engine: sa.Engine, world: World, first_id: int, count: int) -> None:
    """Insert rows with PostgreSQL's COPY."""
    rng = random.Random(first_id)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY mla_requests ({','.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in _rows(world, first_id, count, rng):
                copy.write_row(row)
        raw.commit()
        cursor.execute("ANALYZE mla_requests")
        raw.commit()
    finally:
        raw.close()


def measure(app: Any, world: World) -> dict[str, tuple[float, int, int]]:
    """Time the scenarios: median milliseconds, rows on the page, statements run."""
    from exchange.auth.models import User
    from exchange.extensions import db
    from exchange.mla import queries

    results: dict[str, tuple[float, int, int]] = {}
    with app.app_context():
        officer = db.session.get(User, world.officer_id)
        prosecutor = db.session.get(User, world.prosecutor_id)
        assert officer is not None and prosecutor is not None
        _ = officer.roles, prosecutor.roles, officer.authority, prosecutor.authority
        second_cursor = queries.dashboard_page(db.session, officer, queries.Filters()).next_cursor
        scenarios: dict[str, Callable[[], queries.Page]] = {
            "officer, outgoing, first page": lambda: queries.dashboard_page(
                db.session, officer, queries.Filters()
            ),
            "officer, outgoing, second page": lambda: queries.dashboard_page(
                db.session, officer, queries.Filters(), cursor=second_cursor
            ),
            "officer, outgoing, country=NG": lambda: queries.dashboard_page(
                db.session, officer, queries.Filters(country="NG")
            ),
            "officer, outgoing, state=in_execution": lambda: queries.dashboard_page(
                db.session, officer, queries.Filters(state="in_execution")
            ),
            "officer, outgoing, type=records & urgent": lambda: queries.dashboard_page(
                db.session, officer, queries.Filters(request_type="records", urgent=True)
            ),
            "officer, incoming, first page": lambda: queries.dashboard_page(
                db.session, officer, queries.Filters(direction="incoming")
            ),
            "officer, incoming, assigned to me": lambda: queries.dashboard_page(
                db.session, officer, queries.Filters(direction="incoming", mine=True)
            ),
            "prosecutor, outgoing, first page": lambda: queries.dashboard_page(
                db.session, prosecutor, queries.Filters()
            ),
            "prosecutor, outgoing, country=NG": lambda: queries.dashboard_page(
                db.session, prosecutor, queries.Filters(country="NG")
            ),
        }
        counter = {"n": 0}

        def count(*_a: Any) -> None:
            counter["n"] += 1

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            for name, run in scenarios.items():
                run()  # warm the caches
                times = []
                for _ in range(REPEAT):
                    db.session.expire_all()
                    counter["n"] = 0
                    started = time.perf_counter()
                    page = run()
                    for row in page.rows:
                        _ = row.counterpart.code, row.reference
                    times.append((time.perf_counter() - started) * 1000)
                results[name] = (statistics.median(times), len(page.rows), counter["n"])
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        db.session.remove()
    return results


def run_engine(
    name: str, url: str, instance: Path, sizes: list[int]
) -> dict[int, dict[str, tuple[float, int, int]]]:
    """Migrate, seed to each size in turn, and measure."""
    from flask_migrate import upgrade

    app = create_app(_settings(url, instance))
    import logging

    with app.app_context():
        upgrade()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    world = World(app)
    from exchange.extensions import db

    with app.app_context():
        engine = db.engine
    seeded = 0
    out: dict[int, dict[str, tuple[float, int, int]]] = {}
    for size in sizes:
        started = time.perf_counter()
        (seed_sqlite if name == "sqlite" else seed_postgres)(
            engine, world, seeded + 1, size - seeded
        )
        print(
            f"[{name}] seeded {size:,} requests in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        seeded = size
        out[size] = measure(app, world)
        for scenario, (ms, rows, statements) in out[size].items():
            print(
                f"[{name}] {size:>9,}  {scenario:<42} {ms:8.2f} ms  rows={rows:<3} queries={statements}",
                flush=True,
            )
    with app.app_context():
        db.engine.dispose()
    return out


def report(name: str, out: dict[int, dict[str, tuple[float, int, int]]], sizes: list[int]) -> bool:
    """Print the ratios largest / smallest and tell whether every one is at most 2."""
    small, large = sizes[0], sizes[-1]
    ok = True
    print(f"\n{name}: median ms at {small:,} -> {large:,} requests (ratio; goal <= 2)")
    for scenario in out[small]:
        a, b = out[small][scenario][0], out[large][scenario][0]
        ratio = b / a if a else float("inf")
        ok &= ratio <= 2
        print(
            f"  {scenario:<42} {a:8.2f} -> {b:8.2f}  x{ratio:.2f}{'' if ratio <= 2 else '  OVER'}"
        )
    return ok


def main() -> int:
    """Run the benchmark on SQLite and PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    server = os.environ.get(
        "EXCHANGE_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    all_ok = True
    with tempfile.TemporaryDirectory(prefix="exchange-bench-") as tmp:
        base = Path(tmp)
        if not args.skip_sqlite:
            out = run_engine("sqlite", f"sqlite:///{base / 'bench.sqlite'}", base / "sqlite", sizes)
            all_ok &= report("SQLite", out, sizes)
        if not args.skip_postgres:
            name = f"exchange_bench_{secrets.token_hex(3)}"
            admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            try:
                url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
                out = run_engine("postgresql", url, base / "pg", sizes)
                all_ok &= report("PostgreSQL", out, sizes)
            finally:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
