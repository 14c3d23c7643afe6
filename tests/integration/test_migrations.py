from __future__ import annotations

from alembic.config import Config
from sqlalchemy import inspect, text

from alembic import command
from call_center.cli import ROOT
from call_center.core.db import get_engine


def _config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    config.attributes["url"] = url
    return config


def test_migrations_are_complete_and_reversible(database):
    config = _config(database)
    command.check(config)  # raises if the models and the migrations disagree
    tables = set(inspect(get_engine()).get_table_names())
    assert {"agent", "agent_session", "login_attempt", "call", "call_event", "recording", "contact"} <= tables
    command.downgrade(config, "base")
    get_engine().dispose()
    assert set(inspect(get_engine()).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")


def test_sqlite_runs_in_wal_mode(sqlite_db):
    with get_engine().connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_history_indexes_exist(database):
    names = {ix["name"] for ix in inspect(get_engine()).get_indexes("call")}
    assert {
        "ix_call_created",
        "ix_call_agent_created",
        "ix_call_status_created",
        "ix_call_customer_number",
    } <= names
