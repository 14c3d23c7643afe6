"""Benchmark: the KPI dashboard (/reports) for 30 days over a million calls (issue 14), SQLite or PostgreSQL.

Seeds a fresh database as bench/history_query.py does (1 M calls over a year, 20 agents: about 82,000 calls
in the last 30 days) and makes them a call centre's (`enrich`: queue outcomes and waits, dispositions, the
agents' on-call and wrap-up spans all year, call events and holds), then times
`services.reports.dashboard`, exactly what the page and its exports run:
1. before any rollup: every hour summed by the database (services.report_sums);
2. the first catch-up of the hourly rollup (services.rollup: what the app's background round does after
   an upgrade, a day per transaction);
3. over the rollup: the past hours read from it, the hour in progress summed live (target p95 <= 200 ms);
4. with a few past hours made stale by real writes (the triggers), then the next round that rebuilds them.
The dashboard is also counted call by call (reports.load + reports.report), over the rollup and with
stale hours, and the figures must agree.

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


def enrich(seconds_back: float = 60 * 86400) -> None:
    """Make the seeded calls look like a call centre's (history_query's seed has only what the history
    filters on): inbound calls queued and answered, abandoned or sent on (waits up to two minutes),
    dispositions, answered calls with their agent's on-call and wrap-up spans all year (about 1.2 M spans:
    a report of a month must not read a year of them), and for the last 60 days the call events a call
    has (three status events each) and a hold / resume pair on one call in twenty."""
    import json

    from sqlalchemy import insert, text

    from call_center.core.db import get_engine
    from call_center.models import AgentStateSpan, CallEvent

    started = time.monotonic()
    engine = get_engine()
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE call SET "
                # (id % 10007 * 7919: a spread of outcomes that fits PostgreSQL's integer)
                "queue_outcome = CASE WHEN direction = 'inbound' THEN CASE "
                "WHEN id % 10007 * 7919 % 100 < 80 THEN 'answered' "
                "WHEN id % 10007 * 7919 % 100 < 92 THEN 'abandoned' "
                "WHEN id % 10007 * 7919 % 100 < 97 THEN 'timeout' ELSE 'closed' END END, "
                "wait_seconds = CASE WHEN direction = 'inbound' THEN id * 31 % 120 END, "
                "queue = CASE WHEN direction = 'inbound' THEN CASE WHEN id % 3 = 0 THEN 'sales' ELSE "
                "'default' END END"
            )
        )
        conn.execute(
            text(
                "UPDATE call SET answered_at = created_at, "
                "disposition = CASE id % 5 WHEN 0 THEN 'sale' WHEN 1 THEN 'complaint' WHEN 2 THEN 'info' END "
                "WHERE (direction = 'outbound' AND status = 'completed') OR queue_outcome = 'answered'"
            )
        )
    since = NOW - timedelta(seconds=seconds_back)
    with engine.connect() as conn:
        handled = conn.execute(
            text(
                "SELECT id, agent_id, created_at, duration_seconds FROM call "
                "WHERE answered_at IS NOT NULL ORDER BY id"
            )
        ).all()

    def at(value: object) -> datetime:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment

    spans, events = [], []
    for call_id, agent_id, created, duration in handled:
        begun = at(created)
        talked = begun + timedelta(seconds=max(5, duration or 0))
        spans.append({"agent_id": agent_id, "state": "on-call", "call_id": call_id, "started_at": begun,
                      "ended_at": talked})  # fmt: skip
        spans.append({"agent_id": agent_id, "state": "wrap-up", "call_id": call_id, "started_at": talked,
                      "ended_at": talked + timedelta(seconds=10 + call_id % 50)})  # fmt: skip
        if begun < since:
            continue
        for n, status in enumerate(("ringing", "in-progress", "completed")):
            events.append({"call_id": call_id, "provider": "local", "kind": "status", "status": status,
                           "dedupe_key": f"bench-{call_id}-{n}", "payload": "{}",
                           "received_at": begun})  # fmt: skip
        if call_id % 20 == 0:
            for n, what in enumerate(("hold", "resume")):
                moment = begun + timedelta(seconds=1 + 2 * n)
                events.append({"call_id": call_id, "provider": "local", "kind": "note", "status": what,
                               "dedupe_key": f"bench-{call_id}-note-{n}", "received_at": moment,
                               "payload": json.dumps({"what": what, "at": moment.isoformat()})})  # fmt: skip
    with engine.begin() as conn:
        for table, rows in ((AgentStateSpan.__table__, spans), (CallEvent.__table__, events)):
            for first in range(0, len(rows), 50_000):
                conn.execute(insert(table), rows[first : first + 50_000])  # type: ignore[arg-type]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    print(
        f"made the calls a call centre's: {len(spans):,} state spans, {len(events):,} call events "
        f"in {time.monotonic() - started:.0f} s",
        flush=True,
    )


def _analyze() -> None:
    from sqlalchemy import text

    from call_center.core.db import get_engine

    engine = get_engine()
    if engine.dialect.name == "postgresql":  # (SQLite has no statistics until ANALYZE: none here)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE report_rollup, report_hour"))


def _times(runs: int, first, last) -> tuple[list[float], list[float]]:
    from call_center.services import reports

    walls, cpus = [], []
    for _ in range(runs):
        cpu, wall = time.process_time(), time.perf_counter()
        reports.dashboard(first, last, "", 0)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return walls, cpus


def _line(label: str, walls: list[float], cpus: list[float]) -> str:
    p95 = percentile(walls, 0.95)
    return (
        f"{label}, {len(walls)} runs: p50 {statistics.median(walls):.0f} ms, p95 {p95:.0f} ms, "
        f"max {max(walls):.0f} ms (CPU of this process p50 {statistics.median(cpus):.0f} ms)"
    )


def _stale(hours: int) -> int:
    """Write again, as the app would (a disposition changed after the call), one call in each of `hours`
    past hours of the range: the triggers make those hours stale. Returns the calls written."""
    from sqlalchemy import text

    from call_center.core.db import get_engine

    engine = get_engine()
    ids = []
    with engine.connect() as conn:
        for n in range(hours):
            at = NOW - timedelta(days=2 + 2 * n, minutes=30)
            found = conn.execute(
                text(
                    "SELECT id FROM call WHERE created_at >= :at AND answered_at IS NOT NULL "
                    "ORDER BY created_at LIMIT 1"
                ),  # fmt: skip
                {"at": at},
            ).scalar()
            if found is not None:
                ids.append(found)
    with engine.begin() as conn:
        for call_id in ids:
            conn.execute(text("UPDATE call SET disposition = 'sale' WHERE id = :id"), {"id": call_id})
    return len(ids)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--stale-hours", type=int, default=5)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    with fresh_database("dashboard", args.database_url) as url:
        seed(url, args.rows)
        enrich()
        from sqlalchemy import func, select

        from call_center.core.config import get_settings
        from call_center.core.db import session_scope
        from call_center.models import ReportHour, ReportRollup
        from call_center.services import reports, rollup

        last = NOW.astimezone(get_settings().zone).date()
        first = last - timedelta(days=29)
        reports.dashboard(first, last, "", 0)  # warm: the first run also fills SQLite's cache
        # 1. nothing rolled up yet (an upgrade's first minute): every hour summed by the database
        live = _times(max(3, args.runs // 3), first, last)
        # 2. the background round's first pass: all history, a day per transaction
        started = time.perf_counter()
        built = rollup.catch_up()
        catch_up_s = time.perf_counter() - started
        _analyze()  # (PostgreSQL: what autovacuum does shortly after a million rows arrive)
        with session_scope() as db:
            rows = db.scalar(select(func.count()).select_from(ReportRollup))
            done = db.scalar(select(func.count()).select_from(ReportHour))
        # 3. the dashboard over the rollup
        data = reports.dashboard(first, last, "", 0)
        rolled = _times(args.runs, first, last)
        # the rollup against counting call by call (what a zone without whole-hour offsets gets)
        started = time.perf_counter()
        counted = reports.dashboard(first, last, "", 0, summed=False)
        per_call_ms = (time.perf_counter() - started) * 1000
        same = _same(data, counted)
        # 4. a few past hours written again: summed live until the next round, which rebuilds only them
        written = _stale(args.stale_hours)
        with session_scope() as db:
            stale = done - (db.scalar(select(func.count()).select_from(ReportHour)) or 0)
        stale_times = _times(args.runs, first, last)
        stale_same = _same(reports.dashboard(first, last, "", 0), reports.dashboard(first, last, "", 0,
                                                                                   summed=False))  # fmt: skip
        started = time.perf_counter()
        rebuilt = rollup.catch_up()
        again_ms = (time.perf_counter() - started) * 1000
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    calls = sum(d["answered"] + d["abandoned"] + d["missed"] + d["outbound"] for d in data["days"])
    p95 = percentile(rolled[0], 0.95)
    print(f"# bench/dashboard.py, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}")
    print(f"command: {' '.join(sys.argv)}")
    print(
        f"{backend}: dashboard {first}..{last} ({calls:,} answered, abandoned, missed or outbound; "
        f"{args.rows:,} calls in all)"
    )
    print("  " + _line("before any rollup (every hour summed by the database)", *live))
    print(
        f"  first catch-up: {built:,} hours summed into {rows:,} rollup rows in {catch_up_s:.1f} s "
        f"({done:,} hours done)"
    )
    print(
        "  "
        + _line("over the rollup", *rolled)
        + f" (target p95 <= 200 ms): {'met' if p95 <= 200 else 'NOT met'}"
    )
    print(
        f"  {written} calls written again in {stale} hours made stale: "
        + _line("dashboard", *stale_times)
        + f"; the next round rebuilt {rebuilt} hours in {again_ms:.0f} ms"
    )
    print(
        f"  the same dashboard counted call by call: {per_call_ms:.0f} ms (one run); figures "
        f"{'equal' if same else 'DIFFERENT'} over the rollup, {'equal' if stale_same else 'DIFFERENT'} "
        "with stale hours"
    )
    return 0 if same and stale_same else 1


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
