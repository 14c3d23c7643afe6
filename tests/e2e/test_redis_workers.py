"""Two app workers sharing the local Redis: a change handled by one worker reaches pages on the other."""

from __future__ import annotations

import time

import httpx
import pytest
import redis
from playwright.sync_api import expect

from tests.conftest import REDIS_TEST_URL
from tests.e2e.conftest import log_in
from tests.support import appdb
from tests.support.local_events import new_call, send_status
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


def _ring(app) -> int:
    """What the media server does when a call starts ringing (a fresh connection: either worker takes it)."""
    call_id, sid = new_call(app, "+201000000077")
    send_status(app, sid, "ringing")
    return call_id


def test_pages_on_every_worker_see_every_change(two_workers, new_page):
    app = two_workers
    assert len(_workers(app)) == 2, "the app should run two workers"
    pages = []
    for _ in range(4):  # four sockets spread over the two workers
        page = new_page()
        log_in(page, app, path="/history")
        expect(page.get_by_text("يتحدث تلقائياً")).to_be_visible()
        pages.append(page)
    for _ in range(4):  # events handled by either worker
        call_id = _ring(app)
        for page in pages:
            expect(page.locator(f'tr[data-call-id="{call_id}"]')).to_be_visible(timeout=5000)
        time.sleep(0.2)
    assert appdb.rows(app, "SELECT count(*) AS n FROM call")[0]["n"] == 4
