"""Shared by the benchmark scripts: what machine this ran on, percentiles, a fresh migrated database."""

from __future__ import annotations

import os
import platform
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def machine() -> str:
    """e.g. "2 cores, AMD EPYC ..., Python 3.11.7"."""
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def bench_database(url: str):  # type: ignore[no-untyped-def]
    """`url` as is (SQLite), or for PostgreSQL a throwaway schema of its own, dropped afterwards."""
    if not url.startswith("postgresql"):
        yield url
        return
    from tests.support.postgres import throwaway_schema

    with throwaway_schema(url, "bench") as schema_url:
        yield schema_url


@contextmanager
def fresh_database(name: str, database_url: str = "") -> Iterator[str]:
    """A new data dir and database for this run, migrated with Alembic, the app's settings and engine
    pointed at it: a SQLite file in the data dir, or with `database_url` (PostgreSQL) a throwaway schema,
    dropped afterwards. Yields the database URL."""
    workdir = tempfile.mkdtemp(prefix=f"bench-{name}-")
    os.environ["DATA_DIR"] = workdir
    with bench_database(database_url or f"sqlite:///{workdir}/{name}.db") as url:
        os.environ["DATABASE_URL"] = url
        from call_center.cli import migrate
        from call_center.core.config import reset_settings
        from call_center.core.db import reset_engine

        reset_settings()
        reset_engine()
        migrate()
        yield url
