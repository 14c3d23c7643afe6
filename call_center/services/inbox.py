"""The durable webhook inbox: a signed Twilio callback is answered once it is stored, and applied just after.

Storing (`store`, on the event loop). The callbacks that arrive while one write is under way are written
together by the next: one multi-row INSERT and one commit for all of them (group commit), then each of their
requests is answered 204. A callback is acknowledged only once its row is committed (on SQLite in WAL mode,
a commit survives the process being killed). If storing fails, the request is answered 503 and Twilio sends
it again; nothing was acknowledged, so nothing is lost.

Applying (one thread per process, `Applier`). The process's own pending rows, oldest first, each through the
handler the route used to run itself (`HANDLERS`), in a session of its own, then marked applied. A handler
that fails is tried again later (ATTEMPTS times, backing off); a callback the handler refuses (ValueError)
or that keeps failing is given up on, with its error kept (`/api/metrics` counts them). Applying a callback
twice is harmless: every handler first stores what it applies under a dedupe key, so a repeat (Twilio's
retry, or a row applied again after a crash between its handler and its mark) changes nothing.

On SQLite, storing and applying take the process's writer lock (core.db.write_lock) and the applier steps
aside while a store waits for it, so a burst of callbacks is stored at the speed of its INSERTs while the
applier catches up behind it.

Crashes. A row belongs to the process that stored it (`owner`), alive while its beat in `inbox_worker` is
newer than LEASE. A live process adopts the pending rows of an owner whose beat stopped (killed, its machine
gone) and applies them: after a SIGKILL and a restart, every acknowledged callback is applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import anyio
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col

from call_center.core.config import get_settings
from call_center.core.db import dialect_insert, get_engine, on_reset, write_lock
from call_center.models import InboxKind, InboxWorker, WebhookInbox
from call_center.models.base import UTCDateTime, utcnow

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=15)  # a process whose beat is older is gone: its rows are adopted
BEAT_EVERY = 3.0  # seconds between a busy process's beats
ADOPT_EVERY = 5.0  # seconds between looks for rows of processes that are gone
ATTEMPTS = 5  # a handler that keeps failing is given up on after this many tries
BATCH = 64  # pending rows read at a time
# On PostgreSQL (row locks) the rows of different calls are applied side by side, each call's in order:
# most of a callback's time there is waiting for the database.
PARALLEL = 4
BURST_RATE = 400.0  # callbacks/s above which storing goes first (about what one worker applies per second)
QUIET = 0.005  # in a burst, seconds without a new callback that let the applier go on
STEP_ASIDE = 0.05  # seconds the applier waits at most, per row, for arriving callbacks to be stored
IDLE_EXIT = 60.0  # the applier thread ends after this long with nothing to do (it starts again on demand)
KEEP = timedelta(days=2)  # applied rows are kept this long (housekeeping deletes them after)


class StoreFailed(Exception):
    """The callback could not be stored: it is not acknowledged (the route answers 503)."""


# Who applies ------------------------------------------------------------------------------------------------
_owner: tuple[int, str] | None = None


def owner() -> str:
    """This process's name in the inbox (a forked worker gets its own)."""
    global _owner
    if _owner is None or _owner[0] != os.getpid():
        _owner = (os.getpid(), f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    return _owner[1]


_last_beat: tuple[str, float] = ("", 0.0)  # whose beat, when (a forked worker beats under its own name)


def _beat(db: Session, *, force: bool = False) -> None:
    """Say this process is alive (at most every BEAT_EVERY seconds unless `force`). The caller commits."""
    global _last_beat
    if not force and _last_beat[0] == owner() and time.monotonic() - _last_beat[1] < BEAT_EVERY:
        return
    table = InboxWorker.__table__  # type: ignore[attr-defined]
    statement = dialect_insert(db, table).values(owner=owner(), beat_at=utcnow())
    db.execute(statement.on_conflict_do_update(index_elements=["owner"], set_={"beat_at": utcnow()}))
    _last_beat = (owner(), time.monotonic())


# Handlers -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    id: int
    kind: str
    call_id: int | None
    leg: str | None
    params: dict[str, str]
    attempts: int

    def call_key(self) -> str:
        """Which call it is about (our id, else Twilio's parent leg): a call's callbacks apply in order."""
        if self.call_id is not None:
            return f"call:{self.call_id}"
        return self.params.get("ParentCallSid") or self.params.get("CallSid") or ""


def _status(db: Session, row: Row) -> None:
    from call_center.telephony.twilio import callbacks

    callbacks.handle_status(db, row.params, again=row.attempts > 0)


def _leg(db: Session, row: Row) -> None:
    from call_center.telephony.twilio import conference_callbacks

    conference_callbacks.handle_leg(db, row.params, row.call_id or 0, row.leg or "")


def _conference(db: Session, row: Row) -> None:
    from call_center.telephony.twilio import conference_callbacks

    conference_callbacks.handle_conference(db, row.params, row.call_id or 0)


def _recording(db: Session, row: Row) -> None:
    from call_center.telephony.twilio import callbacks

    callbacks.handle_recording(db, row.params, call_id=row.call_id)


HANDLERS: dict[str, Callable[[Session, Row], None]] = {
    InboxKind.STATUS: _status,
    InboxKind.LEG: _leg,
    InboxKind.CONFERENCE: _conference,
    InboxKind.RECORDING: _recording,
}


# Storing --------------------------------------------------------------------------------------------------
class _Batcher:
    """One event loop's group commit: what arrives during a write goes in the next one."""

    def __init__(self) -> None:
        self.waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self.task: asyncio.Task[None] | None = None

    async def store(self, row: dict[str, Any]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append((row, future))
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._write(), name="webhook-inbox-store")
        applier.arrived = time.monotonic()
        applier.arrivals += 1
        await asyncio.shield(future)  # a client that goes away does not cancel its row's write

    async def _write(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting, []
            try:
                await anyio.to_thread.run_sync(_insert, [row for row, _ in batch])
            except Exception as exc:
                logger.error(
                    "webhook inbox: %d callbacks not stored (%s)", len(batch), exc.__class__.__name__
                )
                for _, future in batch:
                    if not future.done():
                        future.set_exception(StoreFailed(str(exc)))
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
            applier.wake()


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batcher] = weakref.WeakKeyDictionary()


async def store(
    kind: str, params: Mapping[str, str], *, call_id: int | None = None, leg: str | None = None
) -> None:
    """Store one signed callback durably; returns once it is committed. StoreFailed if it could not be."""
    if kind not in HANDLERS:
        raise ValueError(f"unknown inbox kind {kind!r}")
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = _Batcher()
    row = {
        "kind": kind,
        "call_id": call_id,
        "leg": leg,
        "params": json.dumps(dict(params), separators=(",", ":")),
    }
    await batcher.store(row)


def _insert(rows: list[dict[str, Any]]) -> None:
    now, me = utcnow(), owner()
    values = [{**row, "received_at": now, "owner": me, "attempts": 0} for row in rows]
    with applier.storing(), write_lock(), Session(get_engine()) as db:
        _beat(db)  # before the rows: nobody may take them for a dead process's
        db.execute(insert(WebhookInbox.__table__), values)  # type: ignore[attr-defined]
        db.commit()


# Applying -------------------------------------------------------------------------------------------------
class Applier:
    """The process's applier thread: started on demand, it ends when idle for IDLE_EXIT seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._storing = 0
        self.arrived = 0.0  # when the last callback arrived (set on the event loop's thread)
        self.arrivals = 0  # how many have arrived (set there too)
        self._rate = 0.0  # callbacks per second arriving lately
        self._rate_since = (0.0, 0)
        self._last_adopt = 0.0
        self._stop = False
        self._pool: ThreadPoolExecutor | None = None
        self._gate = threading.Lock()

    def wake(self) -> None:
        """Apply what is pending now (starting the thread if it is not running)."""
        with self._lock:
            self._wake.set()
            if self._thread is None or not self._thread.is_alive():
                self._stop = False
                self._thread = threading.Thread(target=self._run, name="webhook-inbox-apply", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """End the thread (what is pending stays stored: it is applied at the next start or adopted)."""
        with self._lock:
            thread, self._stop = self._thread, True
            self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._lock:
            if thread is not None and thread.is_alive():
                logger.warning("webhook inbox: the applier did not stop within %s s", timeout)
                return  # still stopping: no second applier beside it
            self._stop = False
            if self._thread is thread:
                self._thread = None

    def forked(self) -> None:
        """In a forked worker: no thread, no lanes, fresh locks (the parent's may have been held)."""
        Applier.__init__(self)

    @contextlib.contextmanager
    def storing(self) -> Iterator[None]:
        """Held while rows are being stored: the applier steps aside (a store never waits for a backlog)."""
        with self._lock:
            self._storing += 1
        try:
            yield
        finally:
            with self._lock:
                self._storing -= 1

    def _step_aside(self) -> None:
        """In a burst (callbacks arriving faster than BURST_RATE), wait while they keep coming (up to
        STEP_ASIDE seconds a row): their requests need the same core and the GIL, so a burst is stored at
        full speed and applied right after it. Below that rate, a steady stream, the applier only waits
        for a store under way, and applies each callback as it comes."""
        with self._gate:  # one lane at a time looks; the others wait here without taking the GIL
            now = time.monotonic()
            deadline = now + STEP_ASIDE
            while now < deadline and (
                self._storing or (self._arrival_rate(now) > BURST_RATE and now - self.arrived < QUIET)
            ):
                time.sleep(0.003)
                now = time.monotonic()

    def _arrival_rate(self, now: float) -> float:
        since, count = self._rate_since
        if now - since >= 0.05:
            self._rate = (self.arrivals - count) / (now - since) if since else 0.0
            self._rate_since = (now, self.arrivals)
        return self._rate

    def _run(self) -> None:
        idle_since = time.monotonic()
        while not self._stop:
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            if self._stop:
                return
            try:
                if time.monotonic() - self._last_adopt >= ADOPT_EVERY:
                    self._last_adopt = time.monotonic()
                    adopt()
                done = self._apply_pending()
            except Exception as exc:  # the database is away or not set up yet: the next round may work
                logger.warning("webhook inbox: applying failed (%s: %s)", exc.__class__.__name__, exc)
                done = 0
            if done:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > IDLE_EXIT and not _has_pending():
                with self._lock:
                    if not self._wake.is_set():
                        self._thread = None
                        return

    def _apply_pending(self) -> int:
        done = 0
        while not self._stop:
            rows = pending_rows(BATCH)
            if not rows:
                return done
            lanes: dict[int, list[Row]] = {}
            parallel = 1 if get_settings().is_sqlite else PARALLEL
            for row in rows:  # one call's callbacks stay in order, in one lane
                lanes.setdefault(hash(row.call_key()) % parallel, []).append(row)
            if len(lanes) == 1:
                done += self._apply_lane(rows)
            else:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(PARALLEL, thread_name_prefix="webhook-inbox-lane")
                done += sum(self._pool.map(self._apply_lane, lanes.values()))
            with write_lock(), Session(get_engine()) as db:
                _beat(db)
                db.commit()
        return done

    def _apply_lane(self, rows: list[Row]) -> int:
        done = 0
        for row in rows:
            if self._stop:
                break
            self._step_aside()
            with write_lock():
                apply_row(row)
            done += 1
        return done


applier = Applier()
os.register_at_fork(after_in_child=applier.forked)
on_reset(applier.stop)  # the engine it applies with is going (tests switch databases)


def pending_rows(limit: int) -> list[Row]:
    """This process's pending rows that are due, oldest first."""
    now = utcnow()
    query = (
        select(WebhookInbox)
        .where(
            col(WebhookInbox.applied_at).is_(None),
            col(WebhookInbox.owner) == owner(),
            or_(col(WebhookInbox.retry_at).is_(None), col(WebhookInbox.retry_at) <= now),
        )
        .order_by(col(WebhookInbox.id))
        .limit(limit)
    )
    with Session(get_engine()) as db:
        found = db.execute(query).scalars().all()
        return [Row(r.id or 0, r.kind, r.call_id, r.leg, json.loads(r.params), r.attempts) for r in found]


def apply_row(row: Row) -> bool:
    """Run the row's handler and mark it applied; on failure, schedule a retry or give up. True if applied."""
    try:
        with Session(get_engine(), expire_on_commit=False) as db:
            HANDLERS[row.kind](db, row)
            db.execute(
                update(WebhookInbox)
                .where(col(WebhookInbox.id) == row.id)
                .values(applied_at=utcnow(), attempts=row.attempts + 1, error=None)
            )
            db.commit()
        return True
    except Exception as exc:
        _failed(row, exc)
        return False


def retry_after(attempts: int) -> timedelta:
    """How long a failed callback waits before its next try: 2, 4, 8, 16 s, then a minute."""
    return timedelta(seconds=min(2**attempts, 60))


def _failed(row: Row, exc: Exception) -> None:
    attempts = row.attempts + 1
    refused = isinstance(exc, ValueError)  # the handler says this callback cannot be applied, ever
    # The database failing (locked, away) says nothing about the callback: it is tried until it works.
    infrastructure = isinstance(exc, DBAPIError)
    give_up = refused or (attempts >= ATTEMPTS and not infrastructure)
    error = f"{exc.__class__.__name__}: {exc}"[:255]
    now = utcnow()
    values: dict[str, Any] = {"attempts": attempts, "error": error}
    if give_up:
        values["applied_at"] = now
        logger.error(
            "webhook inbox: %s callback %s given up after %d tries: %s", row.kind, row.id, attempts, error
        )
    else:
        values["retry_at"] = now + retry_after(attempts)
        logger.warning(
            "webhook inbox: %s callback %s failed (try %d), retried: %s", row.kind, row.id, attempts, error
        )
    with Session(get_engine()) as db:
        db.execute(update(WebhookInbox).where(col(WebhookInbox.id) == row.id).values(**values))
        db.commit()


def adopt() -> int:
    """Take over the pending rows of processes that are gone (no beat for LEASE). Commits."""
    with write_lock(), Session(get_engine()) as db:
        _beat(db, force=True)  # alive first, so nobody adopts ours meanwhile
        live = select(col(InboxWorker.owner)).where(col(InboxWorker.beat_at) >= utcnow() - LEASE)
        result = db.execute(
            update(WebhookInbox)
            .where(
                col(WebhookInbox.applied_at).is_(None),
                col(WebhookInbox.owner) != owner(),
                col(WebhookInbox.owner).not_in(live),
            )
            .values(owner=owner())
        )
        db.commit()
    adopted = int(getattr(result, "rowcount", 0) or 0)
    if adopted:
        logger.warning("webhook inbox: %d callbacks of a stopped process adopted and applied", adopted)
    return adopted


def recover() -> None:
    """Adopt what stopped processes left, and apply it with whatever this process has pending (the app's
    periodic round; an applier that stopped during a database outage starts again here)."""
    if adopt() or _has_pending():
        applier.wake()


def _has_pending() -> bool:
    try:
        return bool(pending_rows(1))
    except Exception:  # the database is away: keep trying
        return True


def drain(timeout: float = 10.0) -> None:
    """Wait until this process has applied everything it stored that is due (tests, a graceful stop).
    TimeoutError if it has not after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    applier.wake()
    while True:
        if not any(b.waiting for b in list(_batchers.values())) and not pending_rows(1):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("webhook inbox: callbacks still pending")
        time.sleep(0.005)


# Figures and housekeeping ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stats:
    pending: int
    lag_seconds: float  # how long the oldest pending callback has waited (0 with none)
    failed: int  # given up on (kept for KEEP)


def stats(db: Session) -> Stats:
    pending = col(WebhookInbox.applied_at).is_(None)
    count, oldest = db.execute(
        select(func.count(), func.min(col(WebhookInbox.received_at), type_=UTCDateTime)).where(pending)
    ).one()
    failed = db.execute(  # the partial index of given-up rows
        select(func.count())
        .select_from(WebhookInbox)
        .where(col(WebhookInbox.error).is_not(None), col(WebhookInbox.applied_at).is_not(None))
    ).scalar_one()
    lag = max(0.0, (utcnow() - oldest).total_seconds()) if oldest is not None else 0.0
    return Stats(int(count or 0), lag, int(failed or 0))


def purge(db: Session) -> None:
    """Applied rows older than KEEP, and processes gone for a day. The caller commits."""
    db.execute(delete(WebhookInbox).where(col(WebhookInbox.applied_at) < utcnow() - KEEP))
    db.execute(delete(InboxWorker).where(col(InboxWorker.beat_at) < utcnow() - timedelta(days=1)))
