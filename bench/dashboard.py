"""Benchmark: the KPI dashboard (/reports) for 30 days over a million calls (issue 14), SQLite or PostgreSQL.

Seeds a fresh database as bench/history_query.py does (1 M calls over a year, 20 agents: about 82,000 calls
in the last 30 days), then times `services.reports.dashboard`, exactly what the page and its exports run:
the per-call facts of the range (calls with their queue entry, hold times from the call's events, wrap-up
times from the agents' state spans), the agents' state spans and offers, and the figures, days, hours,
dispositions and per-agent table computed from them. The figures are summed by the database
(services.report_sums); once, the same dashboard is also counted call by call and the two must agree.
Target: p95 <= 200 ms.

    .venv/bin/python bench/dashboard.py [--rows 1000000] [--runs 10]
    .venv/bin/python bench/dashboard.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fresh_database, machine, percentile  # noqa: E402
from history_query import NOW, seed  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    with fresh_database("dashboard", args.database_url) as url:
        seed(url, args.rows)
        from call_center.core.config import get_settings
        from call_center.services import reports

        last = NOW.astimezone(get_settings().zone).date()
        first = last - timedelta(days=29)
        data = reports.dashboard(first, last, "", 0)  # warm: the first run also fills SQLite's cache
        # the database's sums against counting call by call (what a zone without whole-hour offsets gets)
        started = time.perf_counter()
        counted = reports.dashboard(first, last, "", 0, summed=False)
        per_call_ms = (time.perf_counter() - started) * 1000
        same = _same(data, counted)
        walls, cpus = [], []
        for _ in range(args.runs):
            cpu, wall = time.process_time(), time.perf_counter()
            reports.dashboard(first, last, "", 0)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    calls = sum(d["answered"] + d["abandoned"] + d["missed"] + d["outbound"] for d in data["days"])
    p95 = percentile(walls, 0.95)
    print(f"# bench/dashboard.py, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}")
    print(f"command: {' '.join(sys.argv)}")
    print(
        f"{backend}: dashboard {first}..{last} ({calls:,} answered, abandoned, missed or outbound; "
        f"{args.rows:,} calls in all), {args.runs} runs: "
        f"p50 {statistics.median(walls):.0f} ms, p95 {p95:.0f} ms, max {max(walls):.0f} ms "
        f"(CPU of this process p50 {statistics.median(cpus):.0f} ms) (target p95 <= 200 ms): "
        f"{'met' if p95 <= 200 else 'NOT met'}"
    )
    print(
        f"the same dashboard counted call by call: {per_call_ms:.0f} ms (one run); "
        f"figures {'equal' if same else 'DIFFERENT'}"
    )
    return 0 if same else 1


def _same(a: dict, b: dict) -> bool:
    """Equal figures (seconds and ratios to 1e-6: the database sums floats in another order)."""

    def close(x: object, y: object) -> bool:
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() == y.keys() and all(close(x[k], y[k]) for k in x)
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(close(i, j) for i, j in zip(x, y, strict=True))
        if isinstance(x, float) or isinstance(y, float):
            return (
                x is not None and y is not None and abs(float(x) - float(y)) <= 1e-6 * max(1, abs(float(y)))
            )
        return x == y

    keys = ("summary", "days", "hours")
    dispositions = {d["code"]: d["count"] for d in a["dispositions"]} == {
        d["code"]: d["count"] for d in b["dispositions"]
    }
    agents = close(sorted(a["agents"], key=lambda r: r["id"]), sorted(b["agents"], key=lambda r: r["id"]))
    return all(close(a[k], b[k]) for k in keys) and dispositions and agents


if __name__ == "__main__":
    raise SystemExit(main())
