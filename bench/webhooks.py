"""Benchmark: signed Twilio status callbacks per second and p99 latency on one worker, next to a bare route.

Both servers run the same way (granian, one worker, ASGI, pinned to one core); the load generator runs in
this process on the other core: keep-alive HTTP/1.1 connections sending pre-built, pre-signed requests, each
a distinct callback of a realistic call (child leg initiated, ringing, in-progress, completed; parent leg
completed), so every request is a real signature check plus a real store in the webhook inbox, and each is
then really applied (`apply_event`) by the server's inbox applier. The bare route is a Starlette endpoint that
reads the body and answers 204: the ceiling of this server and this client.

Three phases: the burst (every request as fast as 16 connections go: acknowledged callbacks/s and their
latency, then how long the server took to apply them all); then, on a fresh start, a steady stream
(`--steady-rate`, 200/s) and how long each callback waited between being stored and being applied, which is
what the history's live update waits for. The run fails unless every callback ends up applied exactly once.

    .venv/bin/python bench/webhooks.py                       # SQLite (the default install)
    .venv/bin/python bench/webhooks.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import bench_database, machine, percentile  # noqa: E402

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "0123456789abcdef" * 2
PUBLIC_URL = "https://calls.example.com"
PATH = "/api/calls/webhook/status"
BENCH_ENV = {
    "TELEPHONY_PROVIDER": "twilio",
    "PUBLIC_BASE_URL": PUBLIC_URL,
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TWILIO_API_KEY": "SK" + "b2" * 16,
    "TWILIO_API_SECRET": "Secret0123456789" * 2,
    "TWILIO_TWIML_APP_SID": "AP" + "c3" * 16,
    "TWILIO_CALLER_ID": "+20221234567",
    "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "CALL_CENTER_ENV_FILE": "/nonexistent/.env",
    "LOG_LEVEL": "WARNING",
}
TARGETS = {"rps": 1500.0, "p99_ms": 50.0, "steady_lag_p95_ms": 300.0}


# Served apps (granian factories) ----------------------------------------------------------------------
def app_factory() -> Any:
    """The real API as production serves it (the page guard in front), on this benchmark's settings."""
    from call_center.api.app import PageGuard, create_api
    from call_center.core.logging import setup_logging

    setup_logging()
    return PageGuard(create_api())


def bare_factory() -> Any:
    """The same server's ceiling: a Starlette route that reads the form body and answers 204."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def bare(request: Request) -> Response:
        await request.body()
        return Response(status_code=204)

    return Starlette(routes=[Route(PATH, bare, methods=["POST"])])


# Requests ----------------------------------------------------------------------------------------------
def callbacks(parent: str, start: datetime.datetime) -> list[dict[str, str]]:
    """The five status callbacks of one answered outbound call, as Twilio sends them."""
    child = "CB" + parent[2:]

    def at(second: int) -> str:
        return format_datetime(start + datetime.timedelta(seconds=second))

    common = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallbackSource": "call-progress-events",
        "To": "+201001234567",
    }
    out = []
    for seq, (status, second) in enumerate(
        [("initiated", 0), ("ringing", 1), ("in-progress", 5), ("completed", 65)]
    ):
        params = {
            **common,
            "CallSid": child,
            "ParentCallSid": parent,
            "CallStatus": status,
            "Direction": "outbound-dial",
            "From": "+20221234567",
            "SequenceNumber": str(seq),
            "Timestamp": at(second),
        }
        if status == "completed":
            params.update(CallDuration="60", SipResponseCode="200")
        out.append(params)
    parent_leg = {
        "CallSid": parent,
        "CallStatus": "completed",
        "Direction": "inbound",
        "From": "client:agent_1",
    }
    out.append({**common, **parent_leg, "CallDuration": "66", "Timestamp": at(66)})
    return out


def raw_request(params: dict[str, str]) -> bytes:
    from twilio.request_validator import RequestValidator

    body = urlencode(params).encode()
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + PATH, params)
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: calls.example.com\r\nUser-Agent: TwilioProxy/1.1\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        f"X-Twilio-Signature: {signature}\r\n\r\n"
    )
    return head.encode() + body


def seed_history(calls: int) -> None:
    """Finished calls from earlier days: a call center's database is not empty (lookups must not scan it)."""
    from sqlalchemy import insert

    from call_center.core.db import session_scope
    from call_center.models import Call

    rows = [
        {"provider": "twilio", "provider_call_sid": f"CA{uuid.uuid4().hex}", "direction": "outbound",
         "from_number": "+20221234567", "to_number": "+201001234567", "customer_number": "+201001234567",
         "status": "completed"}
        for _ in range(calls)
    ]  # fmt: skip
    with session_scope() as db:
        for start in range(0, len(rows), 5000):
            db.execute(insert(Call), rows[start : start + 5000])


def seed(calls: int, *, mixed: bool = False) -> list[bytes]:
    """Create the calls (as the TwiML route would) and return every callback, interleaved across calls:
    step k of every call before step k+1 (the burst), or `mixed`, as a steady stream is: calls a few
    steps apart, so every kind of callback (a start, an answer, an end) comes all the time."""
    from call_center.core.db import session_scope
    from call_center.services.calls import create_call

    sids = [f"CA{uuid.uuid4().hex}" for _ in range(calls)]
    with session_scope() as db:
        for sid in sids:
            create_call(
                db, provider="twilio", call_sid=sid, direction="outbound", from_number="+20221234567",
                to_number="+201001234567", customer_number="+201001234567",
            )  # fmt: skip
    start = datetime.datetime(2026, 11, 23, 14, 0, tzinfo=datetime.UTC)
    per_call = [callbacks(sid, start) for sid in sids]
    # Many calls progress at once: step k of every call before step k+1 (concurrent requests touch
    # different calls, as they do in a busy call center).
    if mixed:
        slots = sorted((i + 16 * k, k, i) for i in range(calls) for k in range(5))
        return [raw_request(per_call[i][k]) for _, k, i in slots]
    return [raw_request(steps[k]) for k in range(5) for steps in per_call]


# Load --------------------------------------------------------------------------------------------------
async def _connection(port: int, queue: list[bytes], latencies: list[float], errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while queue:
            request = queue.pop()
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status != 204:
                errors.append(f"HTTP {status}")
    finally:
        writer.close()


async def load(port: int, requests: list[bytes], concurrency: int) -> dict[str, float]:
    queue = list(reversed(requests))
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(*(_connection(port, queue, latencies, errors) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p90_ms": round(percentile(ordered, 0.90) * 1000, 2),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(factory: str, env: dict[str, str], core: int) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    command = [
        sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--workers", "1",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
        "--working-dir", str(ROOT), f"bench.webhooks:{factory}",
    ]  # fmt: skip
    # its own session: a test may kill the whole server, workers included (os.killpg)
    proc = subprocess.Popen(
        command, env=env, cwd=ROOT, start_new_session=True, preexec_fn=lambda: os.sched_setaffinity(0, {core})
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{factory} did not start")


def measure(
    factory: str,
    env: dict[str, str],
    warmup: list[bytes],
    measured: list[bytes],
    concurrency: int,
    then: Any = None,
) -> dict[str, Any]:
    cores = sorted(os.sched_getaffinity(0))
    proc, port = serve(factory, env, cores[0])
    try:
        asyncio.run(load(port, warmup, concurrency))
        if then is not None:
            then(port, None)  # the warm-up applied before the measured burst
        result = asyncio.run(load(port, measured, concurrency))
        if then is not None:
            result.update(then(port, result))
        return result
    finally:
        proc.terminate()
        proc.wait(10)


# The inbox behind the burst ----------------------------------------------------------------------------
def _inbox_counts() -> tuple[int, int]:
    """(pending, applied) rows of the webhook inbox."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from call_center.core.db import session_scope
    from call_center.models import WebhookInbox

    with session_scope() as db:
        pending = db.exec(select(func.count()).where(col(WebhookInbox.applied_at).is_(None))).one()
        applied = db.exec(select(func.count()).where(col(WebhookInbox.applied_at).is_not(None))).one()
    return int(pending), int(applied)


def applied(port: int, burst: dict[str, Any] | None, timeout: float = 300.0) -> dict[str, Any]:
    """Wait until the server has applied every stored callback; how long that took after the burst."""
    started = time.perf_counter()
    pending, done_before = _inbox_counts()
    while pending:
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"{pending} callbacks still not applied after {timeout} s")
        time.sleep(0.05)
        pending, done = _inbox_counts()
    if burst is None:
        return {}
    seconds = time.perf_counter() - started
    total = burst["seconds"] + seconds
    return {
        "all_applied_after_burst_s": round(seconds, 2),
        "applied_rps_overall": round(burst["requests"] / total, 1),
    }


async def paced(port: int, requests: list[bytes], rate: float, concurrency: int = 8) -> int:
    """Send `requests` at `rate` per second (as Twilio does at a steady rate); how many got a 204."""
    queue = list(enumerate(requests))
    queue.reverse()
    ok = 0
    started = time.monotonic()

    async def connection() -> None:
        nonlocal ok
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                index, request = queue.pop()
                await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                ok += int(head[9:12]) == 204
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return ok


def steady_lag(requests: list[bytes], env: dict[str, str], rate: float) -> dict[str, Any]:
    """Callbacks at a steady `rate`: how long each waited in the inbox between being stored (answered)
    and applied (committed: the moment its live update is published)."""
    from sqlmodel import col, select

    from call_center.core.db import session_scope
    from call_center.models import WebhookInbox

    cores = sorted(os.sched_getaffinity(0))
    proc, port = serve("app_factory", env, cores[0])
    try:
        with session_scope() as db:
            first = db.exec(select(WebhookInbox.id).order_by(col(WebhookInbox.id).desc())).first() or 0
        ok = asyncio.run(paced(port, requests, rate))
        applied(port, None)
        with session_scope() as db:
            rows = db.exec(
                select(WebhookInbox.received_at, WebhookInbox.applied_at).where(col(WebhookInbox.id) > first)
            ).all()
    finally:
        proc.terminate()
        proc.wait(10)
    lags = sorted((done - got).total_seconds() for got, done in rows if done is not None)
    return {
        "rate": rate,
        "requests": len(requests),
        "acknowledged": ok,
        "lag_p50_ms": round(statistics.median(lags) * 1000, 1),
        "lag_p95_ms": round(percentile(lags, 0.95) * 1000, 1),
        "lag_max_ms": round(lags[-1] * 1000, 1),
    }


# Main --------------------------------------------------------------------------------------------------
def verify(expected_calls: int, history: int) -> dict[str, int]:
    """Every callback was stored and applied: the calls ended completed."""
    from sqlalchemy import func
    from sqlmodel import select

    from call_center.core.db import session_scope
    from call_center.models import Call, CallEvent

    with session_scope() as db:
        events = db.exec(select(func.count()).select_from(CallEvent)).one()
        done = db.exec(select(func.count()).select_from(Call).where(Call.status == "completed")).one()
    return {"events_stored": int(events), "calls_completed": int(done) - history, "calls": expected_calls}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls measured (5 callbacks each)")
    parser.add_argument("--warmup-calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--history-calls", type=int, default=0, help="finished calls already in the database")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--steady-rate", type=float, default=200.0, help="callbacks/s of the steady phase")
    parser.add_argument("--steady-calls", type=int, default=400, help="calls of the steady phase (x5)")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp,
        bench_database(args.database_url or f"sqlite:///{tmp}/call_center.db") as url,
    ):
        env = {**os.environ, **BENCH_ENV, "DATA_DIR": tmp, "DATABASE_URL": url}
        os.environ.update(
            {k: v for k, v in env.items() if k in BENCH_ENV or k in ("DATA_DIR", "DATABASE_URL")}
        )
        from call_center.cli import migrate

        migrate()
        seed_history(args.history_calls)
        warmup = seed(args.warmup_calls)
        measured = seed(args.calls)
        steady_requests = seed(args.steady_calls, mixed=True)
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, set(cores[1:]) or set(cores))  # the client on the other core(s)
        bare = measure("bare_factory", env, warmup, measured, args.concurrency)
        app = measure("app_factory", env, warmup, measured, args.concurrency, then=applied)
        steady = steady_lag(steady_requests, env, args.steady_rate)
        checked = verify(args.calls + args.warmup_calls + args.steady_calls, args.history_calls)

    ratio = round(app["rps"] / bare["rps"], 3)
    met = {
        "rps": app["rps"] >= TARGETS["rps"],
        "p99_ms": app["p99_ms"] < TARGETS["p99_ms"],
        "steady_lag_p95_ms": steady["lag_p95_ms"] <= TARGETS["steady_lag_p95_ms"],
    }
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "database": "postgresql" if args.database_url else "sqlite",
        "concurrency": args.concurrency,
        "history_calls": args.history_calls,
        "bare_route": bare,
        "signed_status_callback": app,
        "ratio_to_bare": ratio,
        "steady": steady,
        "targets": TARGETS,
        "met": met,
        "check": checked,
    }
    print(json.dumps(result, indent=2))
    ok = (
        app["errors"] == 0
        and steady["acknowledged"] == steady["requests"]
        and checked["events_stored"] == 5 * checked["calls"] == 5 * checked["calls_completed"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
