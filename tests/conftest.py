"""Shared fixtures: an isolated environment, a migrated database (SQLite or PostgreSQL), logged-in agents."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports the app: never read a developer's .env, never touch ./data.
os.environ["CALL_CENTER_ENV_FILE"] = "/nonexistent/.env"
for _var in list(os.environ):
    if _var.startswith(("TWILIO_", "ADMIN_")) or _var in ("DATABASE_URL", "REDIS_URL", "TELEPHONY_PROVIDER"):
        del os.environ[_var]

from sqlmodel import Session  # noqa: E402

from call_center.core.config import reset_settings  # noqa: E402
from call_center.core.db import get_engine, reset_engine  # noqa: E402
from tests.support.postgres import throwaway_schema  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def _reset_caches() -> None:
    reset_settings()
    reset_engine()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A clean settings environment with its own DATA_DIR; yields that directory."""
    data = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data))
    monkeypatch.setenv("SECRET_KEY", SECRET)
    _reset_caches()
    yield data
    _reset_caches()


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL pointing at a fresh, empty schema (dropped afterwards)."""
    with throwaway_schema(PG_ADMIN_URL, "cc_test") as url:
        try:
            yield url
        finally:
            reset_engine()  # (the app's pooled connections to it go before the schema does)


def _migrated(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", url)
    _reset_caches()
    from call_center.cli import migrate

    migrate()
    yield url
    _reset_caches()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated database, once on SQLite and once on PostgreSQL; yields its URL."""
    sqlite = f"sqlite:///{env / 'test.db'}"
    url = request.getfixturevalue("pg_schema_url") if request.param == "postgres" else sqlite
    yield from _migrated(url, monkeypatch)


@pytest.fixture
def sqlite_db(env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated SQLite database only (for tests that need no PostgreSQL variant)."""
    yield from _migrated(f"sqlite:///{env / 'test.db'}", monkeypatch)


@pytest.fixture
def db(database: str) -> Iterator[Session]:
    """A session on the migrated database (committed work is visible to the app)."""
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


def make_agent(
    db: Session, *, email: str, role: str = "agent", password: str = "correct-horse-1", name: str = ""
):
    """Create and commit an agent."""
    from call_center.services import agents

    agent = agents.create_agent(
        db, email=email, name=name or email.split("@")[0], password=password, role=role
    )
    db.commit()
    return agent


class SteppedClock:
    """A clock for code with a `clock()` seam: starts now, moves only when told."""

    def __init__(self) -> None:
        from call_center.models.base import utcnow

        self.now = utcnow()

    def __call__(self):
        return self.now

    def step(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


@pytest.fixture
def login_clock(monkeypatch: pytest.MonkeyPatch) -> SteppedClock:
    """Login throttling's clock, stepped by the test instead of sleeping through its delays."""
    from call_center.services import logins

    clock = SteppedClock()
    monkeypatch.setattr(logins, "clock", clock)
    return clock
