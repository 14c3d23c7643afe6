"""An acknowledged Twilio callback is never lost, and none is applied twice: signed status callbacks are
posted at about 200/s to the real API (granian, as production serves it) while the server is killed with
SIGKILL mid-stream. Every callback that got a 2xx is in the webhook inbox after the kill (stored before it
was answered; services.inbox), applied or not yet. Then the server starts again, everything not
acknowledged is sent again together with some that were (Twilio retries what it did not see answered, and
may repeat); the new process adopts what the killed one stored and did not apply, and every call ends with
each of its callbacks applied exactly once. On SQLite (WAL) and on PostgreSQL.

The requests are the webhook benchmark's (bench/webhooks.py): real calls, real signatures, real writes.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import _reset_caches

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from bench import webhooks  # noqa: E402

CALLS = 200  # x5 callbacks
RATE = 200.0  # callbacks per second
KILL_AFTER = 2.0  # seconds into the stream


class Server:
    """The API under granian in a session of its own, so SIGKILL takes its worker processes too."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self) -> None:
        """The benchmark's own server (bench/webhooks.serve: granian, one worker, its own session)."""
        self.process, self.port = webhooks.serve("app_factory", self.env, min(os.sched_getaffinity(0)))

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(10)


def _key(request: bytes) -> tuple[str, str, str]:
    """What the app stores of a callback: the call it belongs to (a child leg's is its parent's), the status
    and Twilio's sequence number."""
    params = dict(parse_qsl(request.split(b"\r\n\r\n", 1)[1].decode()))
    call = params.get("ParentCallSid") or params["CallSid"]
    return call, params["CallStatus"], params.get("SequenceNumber", "")


async def _post(port: int, requests: list[bytes], *, kill_at: float | None, kill) -> set[int]:
    """Send `requests` at RATE over 8 keep-alive connections; the indexes answered 204. With `kill_at`,
    the server is killed that many seconds in (requests after it are not sent)."""
    acked: set[int] = set()
    killed = asyncio.Event()
    started = time.monotonic()
    queue = list(enumerate(requests))
    queue.reverse()

    async def connection() -> None:
        reader = writer = None
        while queue and not killed.is_set():
            index, request = queue.pop()
            await asyncio.sleep(max(0.0, started + index / RATE - time.monotonic()))
            if killed.is_set():
                return
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                if int(head[9:12]) == 204:
                    acked.add(index)
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:") and int(line.split(b":")[1]):
                        await reader.readexactly(int(line.split(b":")[1]))
            except (OSError, asyncio.IncompleteReadError):
                reader = writer = None  # no answer: not acknowledged (the killed server, mid-request)
        if writer is not None:
            writer.close()

    async def killer() -> None:
        if kill_at is None:
            return
        await asyncio.sleep(kill_at)
        kill()
        killed.set()

    await asyncio.gather(killer(), *(connection() for _ in range(8)))
    return acked


def _query(url: str, sql: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()


def _applied(url: str) -> list[tuple[str, str, str]]:
    """What the app applied: its call events (call, status, sequence)."""
    rows = _query(url, "SELECT provider_call_sid, status, sequence FROM call_event")
    return [(sid, status, "" if seq is None else str(seq)) for sid, status, seq in rows]


def _in_inbox(url: str) -> list[tuple[str, str, str]]:
    """What the app stored: the callbacks in its inbox, as the same keys."""
    keys = []
    for (params,) in _query(url, "SELECT params FROM webhook_inbox"):
        body = json.loads(params)
        call = body.get("ParentCallSid") or body["CallSid"]
        keys.append((call, body["CallStatus"], body.get("SequenceNumber", "")))
    return keys


def _wait_until_applied(url: str, timeout: float = 90.0) -> None:
    """Until the inbox holds nothing pending (the killed process's rows are adopted after its lease)."""
    deadline = time.monotonic() + timeout
    while _query(url, "SELECT count(*) FROM webhook_inbox WHERE applied_at IS NULL")[0][0]:
        assert time.monotonic() < deadline, "acknowledged callbacks were never applied"
        time.sleep(0.2)


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_every_acknowledged_callback_survives_sigkill_and_none_is_applied_twice(
    db, tmp_path, monkeypatch, request
):
    env = {**os.environ, **webhooks.BENCH_ENV, "DATA_DIR": str(tmp_path)}
    env["DATABASE_URL"] = (
        request.getfixturevalue("pg_schema_url") if db == "postgres" else f"sqlite:///{tmp_path / 'cc.db'}"
    )
    for name in (*webhooks.BENCH_ENV, "DATA_DIR", "DATABASE_URL"):
        monkeypatch.setenv(name, env[name])
    _reset_caches()
    from call_center.cli import migrate

    migrate()
    requests = webhooks.seed(CALLS)  # the calls exist, as the TwiML route would have made them
    keys = [_key(r) for r in requests]
    _reset_caches()

    server = Server(env)
    server.start()
    try:
        acked = asyncio.run(_post(server.port, requests, kill_at=KILL_AFTER, kill=server.kill))
        assert len(acked) >= 50, f"only {len(acked)} callbacks were acknowledged before the kill"
        assert len(acked) < len(requests), "the kill came after the last callback"

        stored = _in_inbox(env["DATABASE_URL"])
        lost = {keys[i] for i in acked} - set(stored)
        assert not lost, f"{len(lost)} acknowledged callbacks are not in the database after SIGKILL"
        applied = _applied(env["DATABASE_URL"])
        assert len(applied) == len(set(applied)), "a callback was applied twice"

        server.start()
        again = sorted(set(range(len(requests))) - acked) + sorted(acked)[::10]  # + some repeated
        resent = asyncio.run(_post(server.port, [requests[i] for i in again], kill_at=None, kill=None))
        assert len(resent) == len(again), "every callback sent after the restart is acknowledged"
        _wait_until_applied(env["DATABASE_URL"])
    finally:
        server.stop()

    applied = _applied(env["DATABASE_URL"])
    assert sorted(applied) == sorted(keys), "each callback applied exactly once"
    engine = create_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            statuses = dict(conn.execute(text("SELECT status, count(*) FROM call GROUP BY status")).all())
    finally:
        engine.dispose()
    assert statuses == {"completed": CALLS}, statuses
