"""Benchmark: the live wallboard's update after an event, with 50 open wallboards (issue 14).

A database as a busy day leaves it: 50 agents (30 available, 10 on calls, 10 away or offline, each with
the state spans `agent_states.track` records), CALLS calls today (answered and abandoned, with their queue
entries) and 20 callers waiting, in two queues.

1. board read: `wallboard.board` (every figure the page shows), p50/p95.
2. fan-out: 50 "pages" subscribed to the real event bus (in-process) do what `WallboardState.live` does
   for each event: ask the shared `Boards` for a board read after the event, turn it into the page's data
   and texts (`as_state`, `queue_texts`, `agent_texts`). Measured from `publish` to the 50th page done;
   one event at a time, EVENTS events. Target (server part): p95 <= 100 ms. What it leaves out: Reflex's
   own delta and websocket send per page (bench/live_updates.py measures those for the history).

    .venv/bin/python bench/wallboard.py [--calls 5000] [--events 100]
    .venv/bin/python bench/wallboard.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fresh_database, machine, percentile  # noqa: E402
from sqlalchemy import text  # noqa: E402

PAGES = 50


def seed(calls: int) -> None:
    from sqlmodel import Session

    from call_center.core.db import get_engine
    from call_center.models import Call, CallQueue, QueueEntry
    from call_center.models.base import utcnow
    from call_center.services import agent_states, agents, presence

    now = utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with Session(get_engine(), expire_on_commit=False) as db:
        db.add(CallQueue(code="sales", name_ar="المبيعات", name_en="Sales"))
        people = []
        for n in range(50):
            agent = agents.create_agent(
                db, email=f"a{n}@bench.test", name=f"Agent {n:02d}", password="bench-pass-1"
            )
            people.append(agent)
        db.commit()
        rows = []
        for n in range(calls):
            start = midnight + timedelta(
                seconds=random.randint(0, max(1, int((now - midnight).total_seconds()) - 600))
            )
            answered = random.random() < 0.85
            wait = random.randint(0, 90)
            call = Call(
                provider="local", provider_call_sid=f"LCbench{n}", direction="inbound",
                from_number=f"+2010{n:08d}", to_number="+20221234567", customer_number=f"+2010{n:08d}",
                status="completed" if answered else "no-answer", created_at=start,
                answered_at=start + timedelta(seconds=wait) if answered else None,
                ended_at=start + timedelta(seconds=wait + random.randint(30, 400)),
                duration_seconds=random.randint(30, 400) if answered else None,
                agent_id=people[n % 40].id if answered else None,
                queue_outcome="answered" if answered else "abandoned", wait_seconds=wait,
                queue="sales" if n % 3 == 0 else "default",
            )  # fmt: skip
            rows.append(call)
        db.add_all(rows)
        db.commit()
        db.add_all(
            [
                QueueEntry(call_id=c.id or 0, queue=c.queue or "default", entered_at=c.created_at,
                           left_at=c.ended_at, outcome=c.queue_outcome or "answered")
                for c in rows
            ]
        )  # fmt: skip
        waiting = []
        for n in range(20):
            number = f"+2011{n:08d}"
            call = Call(provider="local", provider_call_sid=f"LCwait{n}", direction="inbound",
                        from_number=number, to_number="+20221234567", customer_number=number,
                        status="queued", created_at=now - timedelta(seconds=10 * n))  # fmt: skip
            db.add(call)
            waiting.append(call)
        db.commit()
        for n, call in enumerate(waiting):
            db.add(
                QueueEntry(
                    call_id=call.id or 0, queue="sales" if n % 2 else "default", entered_at=call.created_at
                )
            )
        for n, agent in enumerate(people):
            if n >= 45:
                continue  # offline: no softphone
            presence.connect(db, agent.identity, agent.id)
            if 40 <= n < 45:
                agents.set_availability(db, agent.id or 0, "away", "break")
            elif 30 <= n < 40:  # on a call
                live = Call(provider="local", provider_call_sid=f"LClive{n}", direction="inbound",
                            from_number=f"+2012{n:08d}", to_number="+20221234567",
                            customer_number=f"+2012{n:08d}", status="in-progress", agent_id=agent.id,
                            created_at=now - timedelta(seconds=60),
                            answered_at=now - timedelta(seconds=50))  # fmt: skip
                db.add(live)
            else:
                agents.set_availability(db, agent.id or 0, "available")
        db.commit()
        for agent in people:
            agent_states.track(db, agent.id or 0)
        db.commit()
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if get_engine().dialect.name == "postgresql" else "ANALYZE"))


def bench_read(repeat: int) -> tuple[float, float, int, int]:
    from sqlmodel import Session

    from call_center.core.db import get_engine
    from call_center.models.base import utcnow
    from call_center.services import wallboard

    times = []
    with Session(get_engine()) as db:
        found = wallboard.board(db, utcnow())
        for _ in range(repeat):
            started = time.perf_counter()
            wallboard.board(db, utcnow())
            times.append((time.perf_counter() - started) * 1000)
    return (
        statistics.median(times),
        percentile(times, 0.95),
        len(found.agents),
        sum(q.waiting for q in found.queues),
    )


async def bench_fan_out(events: int) -> tuple[list[float], int]:
    from call_center.services import wallboard
    from call_center.services.events import EventBus
    from call_center.state.wallboard import agent_texts, as_state, queue_texts

    bus = EventBus()
    await bus.start()
    boards = wallboard.Boards()
    done: list[float] = []
    ready = asyncio.Event()
    subscribed = 0

    async def page(lang: str) -> None:
        nonlocal subscribed
        async with bus.subscribe(*wallboard.TOPICS) as sub:
            subscribed += 1
            if subscribed == PAGES:
                ready.set()
            while True:
                item = await sub.get()
                if item is None:
                    continue
                found = await boards.latest(item.published_at)
                state = as_state(found)
                queue_texts(state, lang, "latn")
                agent_texts(state, lang, "latn")
                done.append(time.perf_counter())

    tasks = [asyncio.create_task(page("ar" if n % 2 else "en")) for n in range(PAGES)]
    await ready.wait()
    results = []
    for n in range(events):
        done.clear()
        started = time.perf_counter()
        bus.publish(wallboard.agent_states.TOPIC, {"agent_id": 1 + n % 50, "state": "available"})
        while len(done) < PAGES:
            await asyncio.sleep(0.0005)
        results.append((max(done) - started) * 1000)
        await asyncio.sleep(0.01)
    for task in tasks:
        task.cancel()
    await bus.close()
    return results, boards.reads


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    random.seed(14)
    os.environ["SECRET_KEY"] = "bench-" + "x" * 40
    with fresh_database("wallboard", args.database_url) as url:
        seed(args.calls)
        read_p50, read_p95, agents, waiting = bench_read(50)
        fan, reads = asyncio.run(bench_fan_out(args.events))
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"# bench/wallboard.py, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}")
    print(f"command: {' '.join(sys.argv)}")
    print(f"{backend}: {agents} agents, {args.calls:,} calls today, {waiting} waiting")
    print(f"board read: p50 {read_p50:.1f} ms, p95 {read_p95:.1f} ms")
    p95 = percentile(fan, 0.95)
    print(
        f"event -> {PAGES} wallboards updated ({args.events} events, {reads} board reads): "
        f"p50 {statistics.median(fan):.1f} ms, p95 {p95:.1f} ms, max {max(fan):.1f} ms "
        f"(target p95 <= 100): {'met' if p95 <= 100 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
