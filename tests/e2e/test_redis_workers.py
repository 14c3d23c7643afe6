"""Two app workers sharing the local Redis: a change handled by one worker reaches pages on the other."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
import redis
from playwright.sync_api import expect

from call_center.telephony.local.protocol import callback_signature
from tests.conftest import REDIS_TEST_URL
from tests.e2e.conftest import log_in
from tests.support import appdb
from tests.support.server import start_app

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    app = start_app(
        tmp_path_factory.mktemp("redis-app") / "data",
        extra_env={"REDIS_URL": REDIS_TEST_URL, "GRANIAN_WORKERS": "2"},
    )
    yield app
    app.stop()


def _workers(app) -> set[int]:
    seen: set[int] = set()
    for _ in range(40):
        # a new connection each time, so the kernel may pick either worker
        seen.add(httpx.get(f"{app.url}/api/health", timeout=5).json()["worker"])
        if len(seen) > 1:
            break
    return seen


def _ring(app, secret: str) -> int:
    """What the media server does when a call starts ringing: a signed callback (any worker takes it)."""
    sid = "LC" + uuid.uuid4().hex
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(app.data_dir / "call_center.db", timeout=10) as conn:
        call_id = conn.execute(
            "INSERT INTO call (provider, provider_call_sid, direction, from_number, to_number,"
            " customer_number, agent_id, status, created_at, updated_at)"
            " VALUES ('local', ?, 'outbound', '+20221234567', '+201000000077', '+201000000077', 1,"
            " 'initiated', ?, ?)",
            (sid, now, now),
        ).lastrowid
    body = json.dumps(
        {
            "type": "status",
            "sid": sid,
            "status": "ringing",
            "leg": "customer",
            "event_id": uuid.uuid4().hex,
            "at": datetime.now(UTC).isoformat(),
        }
    ).encode()
    headers = {"content-type": "application/json", "x-media-signature": callback_signature(secret, body)}
    with httpx.Client() as client:  # a fresh connection: either worker
        client.post(f"{app.url}/api/local/webhook", content=body, headers=headers).raise_for_status()
    return int(call_id or 0)


def test_pages_on_every_worker_see_every_change(two_workers, new_page):
    app = two_workers
    assert len(_workers(app)) == 2, "the app should run two workers"
    pages = []
    for _ in range(4):  # four sockets spread over the two workers
        page = new_page()
        log_in(page, app, path="/history")
        expect(page.get_by_text("يتحدث تلقائياً")).to_be_visible()
        pages.append(page)
    secret = (app.data_dir / ".secret_key").read_text().strip()
    for _ in range(4):  # events handled by either worker
        call_id = _ring(app, secret)
        for page in pages:
            expect(page.locator(f'tr[data-call-id="{call_id}"]')).to_be_visible(timeout=5000)
        time.sleep(0.2)
    assert appdb.rows(app, "SELECT count(*) AS n FROM call")[0]["n"] == 4
