"""Soak: the real app (local provider) under a working day's mix for a while, watched for leaks and losses.

At once, for --seconds:
- --sessions supervisors' history pages, open and live (socket.io clients speaking Reflex's protocol, as
  bench/agents_scale.py);
- signed media-server callbacks at --rate per second (/api/local/webhook: calls starting to ring), each a
  real signature check and a real write, each published to every open page;
- --calls concurrent local calls: agents call simulated phones, both ends synthetic WebRTC legs (aiortc)
  sending audio through the media server, each call about 4 s, recorded, one after another on each line.

It reports errors (target 0), the RSS of each process at the start and the end (flat within 10 %),
dropped live updates (target 0: after the load, every page shows the same newest calls as the database)
and recordings ready (all the calls made).

    .venv/bin/python bench/soak.py                      # 5 minutes: 20 sessions, 200 callbacks/s, 5 calls
    .venv/bin/python bench/soak.py --smoke              # 30 s, a lighter mix (CI runs it, no timing asserts)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
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
from _common import machine  # noqa: E402
from agents_scale import _open  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from call_center.testing.reflex_client import ReflexClient  # noqa: E402
from call_center.testing.server import ROOT as APP_ROOT  # noqa: E402
from call_center.testing.server import DisposableApp, start_app  # noqa: E402
from tests.support.legs import EventStream, Leg, login, phone_token  # noqa: E402
from tests.support.local_events import new_call, send_status  # noqa: E402

PASSWORD = "soak-password-123"
HISTORY = (
    "reflex___state____state.call_center___state___session____session_state"
    ".call_center___state___history____history_state"
)


def _processes(app: DisposableApp) -> dict[str, int]:
    """RSS by process (serve, the web workers, the media server)."""
    root = psutil.Process(app.process.pid)
    out: dict[str, int] = {}
    for proc in [root, *root.children(recursive=True)]:
        try:
            name = " ".join(proc.cmdline()[1:4])[:60] or proc.name()
            out[f"{proc.pid} {name}"] = proc.memory_info().rss
        except psutil.Error:
            continue
    return out


SENDERS = 16  # concurrent webhook senders (Twilio and the media server send in parallel too)


async def _webhooks(app: DisposableApp, engine: Any, rate: float, stop: asyncio.Event, report: dict) -> None:
    """Signed callbacks offered at `rate`/s by SENDERS senders, each making a new call ring (its row first,
    as the app writes it when an agent dials). A sender that falls behind sends as fast as it can."""
    started = time.monotonic()

    async def sender(k: int) -> None:
        n = 0
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                sid = (await asyncio.to_thread(new_call, app, f"+2012{k:02d}{n:05d}", 1, engine))[1]
                try:
                    await asyncio.to_thread(send_status, app, sid, "ringing", http)
                    report["webhooks"] += 1
                except httpx.HTTPError as exc:
                    report["errors"].append(f"webhook: {exc}")
                n += 1
                await asyncio.sleep(max(0.0, started + n * SENDERS / rate - time.monotonic()))

    await asyncio.gather(*(sender(k) for k in range(SENDERS)))


async def _sample_rss(app: DisposableApp, stop: asyncio.Event, samples: list[dict[str, float]]) -> None:
    while not stop.is_set():
        samples.append({k: round(v / 2**20, 1) for k, v in _processes(app).items()})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 30)


async def _line(app: DisposableApp, http, index: int, stop: asyncio.Event, report: dict) -> None:
    """One agent calling one simulated phone, call after call, until `stop`."""
    number = f"+20100000{index:04d}"
    agent_cookies = login(app, f"line{index}@almasar.test", PASSWORD)
    agent, phone = http(agent_cookies), http(agent_cookies)
    token = await phone_token(app, agent_cookies, number)
    async with EventStream(agent) as _softphone, EventStream(phone, EventStream.device(token)) as ring:
        while not stop.is_set():
            legs = [Leg(), Leg((300, 500))]
            try:
                call = await agent.post("/api/local/calls", json={"to": number, "sdp": await legs[0].offer()})
                if call.status_code != 200:
                    report["errors"].append(f"dial: {call.status_code} {call.text[:200]}")
                    await asyncio.sleep(1)
                    continue
                sid = call.json()["call_sid"]
                await legs[0].answered(call.json()["sdp"])
                await ring.wait_for("incoming", call_sid=sid, timeout=30)
                answer = await phone.post(
                    f"/api/local/calls/{sid}/answer{EventStream.device(token)}",
                    json={"sdp": await legs[1].offer()},
                )
                if answer.status_code != 200:
                    report["errors"].append(f"answer: {answer.status_code} {answer.text[:200]}")
                    continue
                await legs[1].answered(answer.json()["sdp"])
                await asyncio.sleep(4)
                hangup = await agent.post(f"/api/local/calls/{sid}/hangup")
                if hangup.status_code != 204:
                    report["errors"].append(f"hangup: {hangup.status_code}")
                report["calls"].append(sid)
            except (TimeoutError, httpx.HTTPError, AssertionError) as exc:
                report["errors"].append(f"call: {exc!r}"[:300])
            finally:
                for leg in legs:
                    await leg.close()


def _newest(engine: Any, limit: int) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, status FROM call ORDER BY created_at DESC, id DESC LIMIT :n"), {"n": limit}
        )
        return [(int(r[0]), str(r[1])) for r in rows]


def _shown(client: ReflexClient) -> list[tuple[int, str]]:
    values = client.seen(f"{HISTORY}.rows")
    return [(int(r["id"]), str(r["status"])) for r in values[-1]] if values else []


async def soak(app: DisposableApp, args: argparse.Namespace) -> dict[str, Any]:
    database = f"sqlite:///{app.data_dir / 'call_center.db'}"
    engine = create_engine(database)
    report: dict[str, Any] = {"webhooks": 0, "calls": [], "errors": []}
    cookies = [login(app, f"super{i}@almasar.test", PASSWORD) for i in range(min(args.sessions, 5))]
    clients = []
    for i in range(0, args.sessions, 10):
        clients += await asyncio.gather(
            *(_open(app, cookies[j % len(cookies)]) for j in range(i, min(args.sessions, i + 10)))
        )
    start_rss = _processes(app)
    stop = asyncio.Event()
    http_clients: list[httpx.AsyncClient] = []

    def http(cookies: dict[str, str]) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=app.url, cookies=cookies, headers={"Origin": app.url}, timeout=30)
        http_clients.append(client)
        return client

    samples: list[dict[str, float]] = []
    tasks = [asyncio.create_task(_webhooks(app, engine, args.rate, stop, report))]
    tasks.append(asyncio.create_task(_sample_rss(app, stop, samples)))
    tasks += [asyncio.create_task(_line(app, http, i, stop, report)) for i in range(args.calls)]
    started = time.monotonic()
    try:
        while time.monotonic() - started < args.seconds:
            await asyncio.sleep(1)
            for task in tasks:
                if task.done() and task.exception():
                    raise task.exception()  # type: ignore[misc]
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in http_clients:
            await client.aclose()
    ran = time.monotonic() - started
    end_rss = _processes(app)

    # Every page settles on what the database says (a live update lost would leave a page behind).
    settle = time.monotonic() + 20
    page = len(_shown(clients[0])) or 25
    truth = await asyncio.to_thread(_newest, engine, page)
    behind = clients
    while time.monotonic() < settle:
        truth = await asyncio.to_thread(_newest, engine, page)
        behind = [c for c in clients if _shown(c) != truth]
        if not behind:
            break
        await asyncio.sleep(0.5)
    # Recordings of the calls made: ready (the media server writes them as the calls end).
    sids = report["calls"]
    ready = 0
    deadline = time.monotonic() + 30
    while sids and time.monotonic() < deadline:
        with engine.connect() as conn:
            marks = ",".join(f":s{i}" for i in range(len(sids)))
            ready = conn.execute(
                text(
                    "SELECT count(*) FROM call c JOIN recording r ON r.call_id = c.id "
                    f"WHERE r.status = 'ready' AND c.provider_call_sid IN ({marks})"
                ),
                {f"s{i}": s for i, s in enumerate(sids)},
            ).scalar_one()
        if ready == len(sids):
            break
        await asyncio.sleep(0.5)
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    engine.dispose()
    growth = {
        name: round((end_rss[name] - rss) / rss * 100, 1)
        for name, rss in start_rss.items()
        if name in end_rss
    }
    return {
        "seconds": round(ran, 1),
        "sessions": args.sessions,
        "webhooks_sent": report["webhooks"],
        "webhooks_per_second": round(report["webhooks"] / ran, 1),
        "calls_made": len(sids),
        "recordings_ready": ready,
        "errors": len(report["errors"]),
        "first_errors": report["errors"][:5],
        "pages_behind_after_settle": len(behind),
        "rss_start_mb": {k: round(v / 2**20, 1) for k, v in start_rss.items()},
        "rss_end_mb": {k: round(v / 2**20, 1) for k, v in end_rss.items()},
        "rss_growth_percent": growth,
        "rss_every_30s_mb": samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rate", type=float, default=200, help="signed callbacks per second")
    parser.add_argument("--calls", type=int, default=5, help="concurrent local calls")
    parser.add_argument("--smoke", action="store_true", help="30 s: 3 sessions, 20 callbacks/s, 1 call")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.sessions, args.rate, args.calls = 30, 3, 20, 1

    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        # no after-call work, and the per-agent dial limit (a toll-fraud guard) above what a line dials here
        settings = {"WRAPUP_SECONDS": "0", "CALLS_PER_MINUTE": "120"}
        app = start_app(Path(tmp) / "data", settings=settings)
        try:
            accounts = [(f"super{i}@almasar.test", "supervisor") for i in range(min(args.sessions, 5))]
            accounts += [(f"line{i}@almasar.test", "agent") for i in range(args.calls)]
            for email, role in accounts:
                subprocess.run(
                    [sys.executable, "-m", "call_center", "create-agent", "--email", email, "--name", email,
                     "--role", role, "--password", PASSWORD],
                    cwd=APP_ROOT, env=app.env, check=True, capture_output=True,
                )  # fmt: skip
            result = asyncio.run(soak(app, args))
        finally:
            app.stop()
    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(), **result}
    print(json.dumps(result, indent=2))
    ok = (
        result["errors"] == 0
        and result["pages_behind_after_settle"] == 0
        and result["recordings_ready"] == result["calls_made"] > 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
