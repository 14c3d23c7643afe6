"""Database engine and sessions (SQLite in WAL mode by default, PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from call_center.core.config import get_settings


def safe_url(url: str | URL) -> str:
    """The URL with its password hidden, fit for logs."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # We manage SQLite transactions ourselves (_sqlite_lazy_begin): pysqlite's own handling breaks SAVEPOINT.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


_READS = ("SELECT", "PRAGMA")


def _sqlite_lazy_begin(conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
    """Open the transaction at the first write, with the write lock (BEGIN IMMEDIATE).

    Reads before it run on their own snapshot, so a read-then-write never fails with "database is locked"
    (a deferred transaction that read and then tries to write fails at once when another writer committed
    in between; busy_timeout does not help there). Once begun, everything until COMMIT is one transaction.
    """
    raw = conn.connection.dbapi_connection
    if raw is None or raw.in_transaction or statement.lstrip()[:6].upper().startswith(_READS):
        return
    cursor.execute("BEGIN IMMEDIATE")


def make_engine(url: str, *, pooled: bool = True) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        extra: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **extra)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "before_cursor_execute", _sqlite_lazy_begin)
        return engine
    if not pooled:
        return create_engine(url, poolclass=NullPool)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def dialect_insert(db: Session, table: Any) -> Any:
    """An INSERT of `table` that knows ON CONFLICT (SQLite's or PostgreSQL's, as `db` is bound to)."""
    if db.get_bind().dialect.name == "sqlite":
        return sqlite_insert(table)
    return postgresql_insert(table)


# SQLite takes one writer at a time, and writers that collide wait in its busy handler's sleeps (tens of
# milliseconds). Work that writes in bursts from several threads of one process (the Twilio routes, the
# webhook inbox's storing and applying) queues here instead, each writer to its own cost.
_SQLITE_WRITER = threading.RLock()


def write_lock() -> contextlib.AbstractContextManager[object]:
    """The process's SQLite writer lock (a no-op on PostgreSQL, which locks rows)."""
    return _SQLITE_WRITER if get_settings().is_sqlite else contextlib.nullcontext()


@functools.lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    return make_engine(get_settings().database_url)


_on_reset: list[Callable[[], None]] = []


def on_reset(stop: Callable[[], None]) -> None:
    """Call `stop` before the engine is reset: background work that uses it (services.inbox) ends first."""
    _on_reset.append(stop)


def reset_engine() -> None:
    """Dispose of the cached engine (tests switch databases)."""
    for stop in _on_reset:
        stop()
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
