"""Read the running test app's SQLite database (what the app itself committed)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

from call_center.testing.server import DisposableApp as RunningApp


def rows(app: RunningApp, sql: str, *params: Any) -> list[dict[str, Any]]:
    with sqlite3.connect(f"file:{app.data_dir / 'call_center.db'}?mode=ro", uri=True, timeout=10) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def wait_for(check: Callable[[], Any], timeout: float = 15, interval: float = 0.2) -> Any:
    """Poll until `check()` returns something truthy; fail with the last value otherwise."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last value: {value!r})")


def latest_call(app: RunningApp) -> dict[str, Any]:
    return rows(app, "SELECT * FROM call ORDER BY id DESC LIMIT 1")[0]


def recording_of(app: RunningApp, call_id: int) -> dict[str, Any] | None:
    found = rows(app, "SELECT * FROM recording WHERE call_id = ? ORDER BY id DESC LIMIT 1", call_id)
    return found[0] if found else None
