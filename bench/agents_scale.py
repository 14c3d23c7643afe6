"""Benchmark: many logged-in sessions with the call history open and live, without Chromium.

Each session is a lightweight socket.io client speaking Reflex's own event protocol
(call_center.testing.reflex_client): it logs in through the API (its own session cookie), opens /history
(hydrate, then the page's on_load, which starts the page's live task) and keeps the socket open. The
sessions are supervisors' (a supervisor's history shows every call, so every session must receive every
event). An event is what the media server sends when a call starts ringing: a signed callback to
/api/local/webhook. Latency = the first delta carrying that call's new status received by a session - the
callback sent, for every (session, event) pair. Server memory: the app's processes' RSS before the
sessions and with them, per session.

    .venv/bin/python bench/agents_scale.py                          # 50, 200, 500 sessions, one worker
    .venv/bin/python bench/agents_scale.py --workers 3 --redis --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Target: 500 sessions, p95 <= 250 ms. The load generator runs on the same 2-core machine as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import psutil  # noqa: E402
from _common import bench_database, machine, percentile  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402

from call_center.testing.reflex_client import ReflexClient  # noqa: E402
from call_center.testing.server import ROOT as APP_ROOT  # noqa: E402
from call_center.testing.server import DisposableApp, start_app  # noqa: E402
from tests.support.local_events import new_call, send_status  # noqa: E402

ON_LOAD = "reflex___state____state.reflex___state____on_load_internal_state.on_load_internal"
SUPERVISORS = 10  # sessions are spread over these accounts (several tabs per person, as in real life)
PASSWORD = "supervisor-password-123"
TARGET_P95_MS = 250.0


def _rss(app: DisposableApp) -> int:
    """Bytes of RSS of the app's processes (serve, Reflex, its workers; not the media server)."""
    root = psutil.Process(app.process.pid)
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            if "media" in " ".join(proc.cmdline()):
                continue
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


def _login(app: DisposableApp, email: str) -> dict[str, str]:
    response = httpx.post(
        f"{app.url}/api/auth/login", json={"email": email, "password": PASSWORD}, headers={"Origin": app.url}
    )
    response.raise_for_status()
    return {"cc_session": response.cookies["cc_session"]}


async def _open(app: DisposableApp, cookies: dict[str, str]) -> ReflexClient:
    client = ReflexClient(app.url, cookies=cookies, path="/history")
    await client.connect(timeout=120)
    await client.call(ON_LOAD, timeout=120)
    return client


def _arrival(client: ReflexClient, start: int, number: str) -> float | None:
    for update in client.updates[start:]:
        delta = str(update.delta)
        if number in delta and "'ringing'" in delta:
            return update.received_at
    return None


async def _events(
    app: DisposableApp, engine: Any, clients: list[ReflexClient], count: int, base: int
) -> tuple[list[float], int]:
    latencies: list[float] = []
    missed = 0
    with httpx.Client(timeout=30) as http:
        for k in range(count):
            number = f"+2010{base + k:07d}"
            sid = (await asyncio.to_thread(new_call, app, number, 1, engine))[1]
            marks = [len(c.updates) for c in clients]
            sent = time.time()
            await asyncio.to_thread(send_status, app, sid, "ringing", http)
            deadline = time.monotonic() + 10
            arrivals: list[float | None] = [None] * len(clients)
            while time.monotonic() < deadline:
                for i, client in enumerate(clients):
                    if arrivals[i] is None:
                        arrivals[i] = _arrival(client, marks[i], number)
                if all(a is not None for a in arrivals):
                    break
                await asyncio.sleep(0.01)
            for a in arrivals:
                if a is None:
                    missed += 1
                else:
                    latencies.append((a - sent) * 1000)
            await asyncio.sleep(0.3)
    return latencies, missed


async def run(app: DisposableApp, url: str, steps: list[int], events: int) -> list[dict[str, Any]]:
    engine = create_engine(url)
    cookies = [_login(app, f"supervisor{i}@almasar.test") for i in range(SUPERVISORS)]
    clients: list[ReflexClient] = []
    results = []
    idle_rss = _rss(app)
    try:
        for step, sessions in enumerate(steps):
            started = time.monotonic()
            while len(clients) < sessions:
                batch = min(25, sessions - len(clients))
                clients += await asyncio.gather(
                    *(_open(app, cookies[(len(clients) + j) % SUPERVISORS]) for j in range(batch))
                )
            opened = time.monotonic() - started
            await asyncio.sleep(2)
            rss = _rss(app)
            latencies, missed = await _events(app, engine, clients, events, base=step * 1000)
            ordered = sorted(latencies)
            results.append(
                {
                    "sessions": sessions,
                    "events": events,
                    "deliveries": len(latencies),
                    "missed": missed,
                    "p50_ms": round(statistics.median(ordered), 1) if ordered else None,
                    "p95_ms": round(percentile(ordered, 0.95), 1) if ordered else None,
                    "max_ms": round(ordered[-1], 1) if ordered else None,
                    "server_rss_mb": round(rss / 2**20, 1),
                    "rss_per_session_kb": round((rss - idle_rss) / sessions / 1024, 1),
                    "seconds_to_open": round(opened, 1),
                    "met": bool(ordered) and missed == 0 and percentile(ordered, 0.95) <= TARGET_P95_MS,
                }
            )
            print(json.dumps(results[-1]), flush=True)
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="50,200,500", help="comma-separated session counts, ascending")
    parser.add_argument("--events", type=int, default=20, help="events measured at each count")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--redis", action="store_true", help="REDIS_URL=redis://127.0.0.1:6379/14")
    parser.add_argument("--database-url", help="default: SQLite in the app's DATA_DIR")
    args = parser.parse_args()
    steps = [int(n) for n in args.sessions.split(",")]

    with (
        tempfile.TemporaryDirectory(prefix="bench-agents-") as tmp,
        bench_database(args.database_url or "") as url,
    ):
        settings: dict[str, str] = {}
        if args.workers > 1:
            settings["GRANIAN_WORKERS"] = str(args.workers)
        if args.redis:
            import redis

            redis.Redis.from_url("redis://127.0.0.1:6379/14").flushdb()
            settings["REDIS_URL"] = "redis://127.0.0.1:6379/14"
        if url:
            settings["DATABASE_URL"] = url
        app = start_app(Path(tmp) / "data", settings=settings)
        try:
            for i in range(SUPERVISORS):
                subprocess.run(
                    [sys.executable, "-m", "call_center", "create-agent",
                     "--email", f"supervisor{i}@almasar.test", "--name", f"Supervisor {i}",
                     "--role", "supervisor", "--password", PASSWORD],
                    cwd=APP_ROOT, env=app.env, check=True, capture_output=True,
                )  # fmt: skip
            database = url or f"sqlite:///{app.data_dir / 'call_center.db'}"
            results = asyncio.run(run(app, database, steps, args.events))
        finally:
            app.stop()
    print(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine(),
                "workers": args.workers,
                "redis": args.redis,
                "database": "postgresql" if args.database_url else "sqlite",
                "target_p95_ms": TARGET_P95_MS,
                "results": results,
            },
            indent=2,
        )
    )
    return 0 if all(r["missed"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
