"""Benchmark: the queue's routing decision, and how fast a queued call rings an agent (local provider).

1. routing: `routing.assign` with 200 agents and 50 waiting callers (the pure decision), and one whole
   `queue.dispatch` round over a real SQLite database in the same situation (the decision with its
   queries: candidates, idle times, calls today, misses), each p50/p95 over many rounds.
   Target: p95 <= 5 ms for the decision.
   Between rounds the offers are removed again, so each round assigns all 50 calls.
2. entry -> ring: the real app (`serve`, media server); an agent's softphone stream is open (the same
   GET /api/devices/events a browser opens); a synthetic phone (aiortc) dials the company number with
   POST /api/local/calls. Measured: from the POST's start to the "incoming" offer on the agent's stream.
   Target: <= 300 ms.

    .venv/bin/python bench/queue_routing.py [--rounds 300] [--calls 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, percentile  # noqa: E402


def bench_assign(rounds: int) -> tuple[float, float]:
    from call_center.services import routing

    now = datetime.now(UTC)
    times = []
    for _ in range(rounds):
        agents = [
            routing.Candidate(i, random.random() < 0.7, now - timedelta(seconds=random.randint(0, 3600)),
                              random.randint(0, 40))
            for i in range(1, 201)
        ]  # fmt: skip
        waiting = [
            routing.Waiting(
                c, now - timedelta(seconds=random.randint(0, 600)),
                frozenset(random.sample(range(1, 201), 3)), frozenset(random.sample(range(1, 201), 1)),
            )
            for c in range(1, 51)
        ]  # fmt: skip
        started = time.perf_counter()
        routing.assign(routing.LONGEST_IDLE, waiting, agents, None)
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 0.5), percentile(times, 0.95)


def bench_dispatch(rounds: int) -> tuple[float, float]:
    """A dispatch round with 200 logged-in agents (140 available) and 50 waiting calls, on SQLite."""
    data = Path(tempfile.mkdtemp(prefix="bench-queue-")) / "data"
    os.environ.update({"DATA_DIR": str(data), "SECRET_KEY": "bench-" + "x" * 40})
    from sqlmodel import Session, delete

    from call_center.cli import migrate
    from call_center.core.db import get_engine
    from call_center.models import Call, CallOffer, DevicePresence, QueueEntry
    from call_center.services import agent_states, agents, presence, queue

    migrate()
    with Session(get_engine(), expire_on_commit=False) as db:
        people = []
        for n in range(200):
            agent = agents.create_agent(
                db, email=f"a{n}@bench.test", name=f"A{n}", password="bench-password-1"
            )
            agent.availability = "available" if n % 10 < 7 else "away"
            db.add(agent)
            people.append(agent)
        db.commit()
        for agent in people:
            presence.connect(db, agent.identity, agent.id)
        db.commit()
        for agent in people:
            agent_states.track(db, agent.id or 0)
        db.commit()
        calls = []
        for n in range(50):
            call = Call(provider="local", provider_call_sid=f"LCbench{n}", direction="inbound",
                        from_number=f"+2010000{n:05d}", to_number="+20221234567",
                        customer_number=f"+2010000{n:05d}", status="ringing")  # fmt: skip
            db.add(call)
            calls.append(call)
        db.commit()
        times = []
        for _ in range(rounds):
            db.exec(delete(QueueEntry))
            db.exec(delete(CallOffer))
            for call in calls:
                db.add(QueueEntry(call_id=call.id or 0))
            db.commit()
            started = time.perf_counter()
            decided = queue.decide(db)  # the decision, recorded and committed (not the rings it makes)
            times.append((time.perf_counter() - started) * 1000)
            assert len(decided.plan) == 50, decided.plan
        db.exec(delete(DevicePresence))
        db.commit()
    return percentile(times, 0.5), percentile(times, 0.95)


async def bench_entry_to_ring(calls: int) -> list[float]:
    import httpx

    from call_center.testing.server import start_app
    from tests.support.legs import EventStream, Leg

    app = start_app(Path(tempfile.mkdtemp(prefix="bench-queue-app-")) / "data", {"WRAPUP_SECONDS": "0"})
    try:
        agent = app.create_agent("agent@bench.test", "Bench Agent", "bench-password-1")
        agent_cookies = app.login(agent.email, agent.password)
        admin_cookies = app.login(app.admin.email, app.admin.password)
        headers = {"Origin": app.url}
        async with (
            httpx.AsyncClient(
                base_url=app.url, cookies=agent_cookies, headers=headers, timeout=20
            ) as softphone,
            httpx.AsyncClient(base_url=app.url, cookies=admin_cookies, headers=headers, timeout=20) as tester,
        ):
            from tests.integration.test_local_signaling import _phone_token

            token = await _phone_token(app, admin_cookies, "+201000000099")
            results = []
            async with EventStream(softphone) as stream:
                for _ in range(calls):
                    leg = Leg()
                    offer = await leg.offer()
                    seen = len(stream.messages)
                    started = time.perf_counter()
                    reply = await tester.post(
                        f"/api/local/calls{EventStream.device(token)}",
                        json={"to": "+20221234567", "sdp": offer},
                    )
                    reply.raise_for_status()
                    sid = reply.json()["call_sid"]
                    while not any(
                        m.get("type") == "incoming" and m.get("call_sid") == sid
                        for m in stream.messages[seen:]
                    ):
                        await asyncio.sleep(0.002)
                    results.append((time.perf_counter() - started) * 1000)
                    await softphone.post(f"/api/local/calls/{sid}/reject")
                    await tester.post(f"/api/local/calls/{sid}/hangup{EventStream.device(token)}")
                    await leg.close()
                    await asyncio.sleep(0.3)
            return results
    finally:
        app.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    print(f"# bench/queue_routing.py, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}")
    p50, p95 = bench_assign(args.rounds * 5)
    print(f"routing.assign, 200 agents x 50 waiting: p50 {p50:.2f} ms, p95 {p95:.2f} ms (target p95 <= 5)")
    p50, p95 = bench_dispatch(args.rounds)
    print(
        f"queue.decide (a round's decision, recorded) on SQLite, 200 agents x 50 waiting: p50 {p50:.1f} ms, "
        f"p95 {p95:.1f} ms"
    )
    rings = asyncio.run(bench_entry_to_ring(args.calls))
    print(
        f"queue entry -> agent's phone rings ({len(rings)} calls): p50 {statistics.median(rings):.0f} ms, "
        f"p95 {percentile(rings, 0.95):.0f} ms, max {max(rings):.0f} ms (target <= 300)"
    )


if __name__ == "__main__":
    main()
