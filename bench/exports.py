"""Benchmark: the call list's CSV export over a million calls (issue 14): rows per second and peak memory.

Seeds a fresh database as bench/history_query.py does (1 M calls over a year, 20 agents, 5,000 contacts),
then streams `GET /api/calls/export?format=csv` as an admin sees it (every call) through the app's own
code: `exports.call_rows` (the history's listing query, keyset batches of BATCH) into `exports.csv_stream`,
the bytes consumed as a response body would be. Peak RSS is sampled while it runs; the target is constant
memory (it must not grow with the rows) and at least 50,000 rows/s.

    .venv/bin/python bench/exports.py [--rows 1000000]
    .venv/bin/python bench/exports.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import resource
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fresh_database, machine  # noqa: E402
from history_query import seed  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def export(flt) -> tuple[int, int, float, float, float]:  # type: ignore[no-untyped-def]
    """(rows written, bytes, seconds, RSS before, peak RSS during) of one export with filter `flt`."""
    from sqlmodel import Session, select

    from call_center.core.db import get_engine
    from call_center.models import Agent
    from call_center.services import agents, exports

    with Session(get_engine(), expire_on_commit=False) as db:
        admin = db.exec(select(Agent).where(Agent.role == "admin")).first()
        if admin is None:
            admin = agents.create_agent(
                db, email="boss@bench.test", name="Boss", password="bench-pass-1", role="admin"
            )
            db.commit()
    header = exports.call_header("ar")
    before = rss_mb()
    peak = [before]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    size = 0
    lines = 0
    for chunk in exports.csv_stream(header, exports.call_rows(admin, flt, "ar")):
        size += len(chunk)
        lines += chunk.count(b"\r\n")
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    return lines - 1, size, seconds, before, peak[0]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    with fresh_database("exports", args.database_url) as url:
        seed(url, args.rows)
        from datetime import timedelta

        from history_query import NOW

        from call_center.services.history import CallFilter

        # a tenth of the calls first (the last 36.5 days), then all: memory must not grow with the rows
        small = export(CallFilter(since=NOW - timedelta(days=36.5)))
        written, size, seconds, before, peak = export(CallFilter())
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    rate = written / seconds if seconds else 0.0
    print(f"# bench/exports.py, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}")
    print(f"command: {' '.join(sys.argv)}")
    print(
        f"{backend}: CSV of {written:,} calls, {size / 1e6:.0f} MB in {seconds:.1f} s: {rate:,.0f} rows/s "
        f"(target >= 50,000): {'met' if rate >= 50_000 else 'NOT met'}"
    )
    print(
        f"RSS: all {written:,} rows: +{peak - before:.0f} MB over {before:.0f} MB (peak {peak:.0f}); "
        f"{small[0]:,} rows first: +{small[4] - small[3]:.0f} MB over {small[3]:.0f} MB; "
        f"ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
