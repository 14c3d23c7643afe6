"""Benchmark: filtered call-history pages with a million calls, on SQLite and PostgreSQL.

Seeds a fresh database (migrated with Alembic) with realistic calls, then times
`services.history.list_calls` (the count and the page query, exactly what the history page and
`GET /api/calls` run) for the filters an agent uses. Target: p95 < 50 ms per filtered page.

    .venv/bin/python bench/history_query.py                       # SQLite, 1,000,000 calls
    .venv/bin/python bench/history_query.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("CALL_CENTER_ENV_FILE", "/nonexistent/.env")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")

from _common import machine, percentile  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

STATUSES = [
    ("completed", 60),
    ("no-answer", 15),
    ("busy", 8),
    ("canceled", 7),
    ("failed", 5),
    ("in-progress", 0),
]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def seed(url: str, rows: int, batch: int = 20_000) -> None:
    from call_center.core.db import get_engine
    from call_center.models import Agent, Call, Contact

    rng = random.Random(7)
    engine = get_engine()
    with engine.begin() as conn:
        conn.execute(
            insert(Agent.__table__),  # type: ignore[attr-defined]
            [
                {
                    "email": f"agent{i}@bench.test",
                    "name": f"Agent {i}",
                    "password_hash": "x",
                    "role": "agent",
                    "is_active": True,
                    "language": "ar",
                    "availability": "available",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(20)
            ],
        )
        contacts = [
            {
                "name": f"عميل {i} Customer {i}",
                "phone": f"+2010{i:08d}",
                "notes": "",
                "created_at": NOW,
                "updated_at": NOW,
            }
            for i in range(5000)
        ]
        conn.execute(insert(Contact.__table__), contacts)  # type: ignore[attr-defined]
    weights = [w for _, w in STATUSES]
    names = [s for s, _ in STATUSES]
    started = time.monotonic()
    with engine.begin() as conn:
        for offset in range(0, rows, batch):
            values = []
            for i in range(offset, min(rows, offset + batch)):
                contact = rng.random() < 0.4
                number = f"+2010{rng.randrange(5000):08d}" if contact else f"+2011{rng.randrange(10**8):08d}"
                status = rng.choices(names, weights)[0]
                # a history grows in time order, so rows are appended oldest first (as in production)
                created = NOW - timedelta(seconds=(rows - i) * 365 * 86400 / rows + rng.random())
                recorded = status == "completed" and rng.random() < 0.9
                values.append(
                    {
                        "provider": "local",
                        "provider_call_sid": f"LC{uuid.UUID(int=rng.getrandbits(128)).hex}",
                        "direction": "outbound" if rng.random() < 0.6 else "inbound",
                        "from_number": "+20221234567",
                        "to_number": number,
                        "customer_number": number,
                        "agent_id": rng.randrange(1, 21),
                        "contact_id": int(number[-4:]) + 1 if contact else None,
                        "status": status,
                        "created_at": created,
                        "updated_at": created,
                        "duration_seconds": rng.randrange(5, 600) if status == "completed" else 0,
                        "recording_id": i + 1 if recorded else None,
                        "recording_status": "ready" if recorded else None,
                    }
                )
            conn.execute(insert(Call.__table__), values)  # type: ignore[attr-defined]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # what autovacuum does on a live database (statistics, and the visibility map for PostgreSQL)
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    print(f"seeded {rows:,} calls in {time.monotonic() - started:.0f} s", flush=True)


def scenarios(db: Session) -> dict[str, Callable[[], object]]:
    from call_center.models import Agent
    from call_center.services import history
    from call_center.services.history import CallFilter

    admin = Agent(id=0, email="admin@bench.test", name="Admin", password_hash="x", role="admin")
    agent = db.get(Agent, 7)
    assert agent is not None
    week = NOW - timedelta(days=7)

    def page(viewer: Agent, flt: CallFilter | None = None, number: int = 1) -> Callable[[], object]:
        return lambda: history.list_calls(db, viewer, flt, page=number, page_size=25)

    return {
        "admin, everything, page 1": page(admin),
        "agent's own calls, page 1": page(agent),
        "status = no-answer": page(admin, CallFilter(status="no-answer")),
        "last 7 days": page(admin, CallFilter(since=week, until=NOW)),
        "has a recording": page(admin, CallFilter(has_recording=True)),
        "inbound + one agent": page(admin, CallFilter(direction="inbound", agent_id=3)),
        "number typed: 0100000123": page(admin, CallFilter(search="0100000123")),
        "contact name": page(admin, CallFilter(search="Customer 4321")),
        "no recording, last 7 days": page(admin, CallFilter(has_recording=False, since=week)),
        "admin, page 200": page(admin, number=200),
    }


def run(url: str, rows: int, repeat: int) -> list[tuple[str, float, float, float]]:
    os.environ["DATABASE_URL"] = url
    from call_center.cli import migrate
    from call_center.core.config import reset_settings
    from call_center.core.db import get_engine, reset_engine

    reset_settings()
    reset_engine()
    migrate()
    seed(url, rows)
    results = []
    with Session(get_engine()) as db:
        for name, query in scenarios(db).items():
            query()  # warm the cache once
            timings = []
            for _ in range(repeat):
                started = time.perf_counter()
                query()
                timings.append((time.perf_counter() - started) * 1000)
            results.append((name, statistics.median(timings), percentile(timings, 0.95), max(timings)))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()

    schema = None
    workdir = tempfile.mkdtemp(prefix="bench-history-")
    os.environ["DATA_DIR"] = workdir
    url = args.database_url or f"sqlite:///{workdir}/history.db"
    if url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    try:
        results = run(url, args.rows, args.repeat)
    finally:
        if schema:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    backend = "PostgreSQL" if schema else "SQLite"
    print(f"\n{backend}, {args.rows:,} calls, {args.repeat} runs each; {datetime.now(UTC):%Y-%m-%d}")
    print(f"machine: {machine()}")
    print(f"command: {' '.join(sys.argv)}\n")
    print("| filter | p50 ms | p95 ms | max ms |\n|---|---|---|---|")
    for name, p50, p95, worst in results:
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {worst:.1f} |")
    overall = max(p95 for _, _, p95, _ in results)
    print(f"\nworst p95: {overall:.1f} ms (target < 50 ms): {'met' if overall < 50 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
