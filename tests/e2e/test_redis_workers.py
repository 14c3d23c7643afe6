"""Two app workers sharing the local Redis: a change handled by one worker reaches pages on the other.

Everything here is what the app does by itself: history pages open on both workers (checked from the
workers' own sockets), an agent calls the echo line, and the media server's callbacks reach whichever
worker it is connected to; every page must show the call as it goes.
"""

from __future__ import annotations

import psutil
import pytest
import redis
from playwright.sync_api import expect

from call_center.testing.server import DisposableApp, start_app
from tests.conftest import REDIS_TEST_URL
from tests.e2e.conftest import log_in
from tests.e2e.helpers import agent_on, dial
from tests.support import appdb

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    app = start_app(
        tmp_path_factory.mktemp("redis-app") / "data",
        settings={"REDIS_URL": REDIS_TEST_URL, "GRANIAN_WORKERS": "2"},
    )
    yield app
    app.stop()


def _workers(app: DisposableApp) -> list[psutil.Process]:
    """granian's worker processes: the children of the reflex supervisor."""
    supervisor = next(
        p for p in app.refresh_tree() if "reflex" in " ".join(p.cmdline()) and p.ppid() == app.process.pid
    )
    return supervisor.children()


def _sockets(worker: psutil.Process, port: int) -> int:
    return sum(
        1
        for c in worker.net_connections(kind="tcp")
        if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
    )


def test_pages_on_every_worker_see_every_change(two_workers, launch, new_page, voices):
    app = two_workers
    workers = _workers(app)
    assert len(workers) == 2, "the app should run two workers"
    browser = launch()
    pages = []
    # open history pages until both workers hold some of their websockets (the kernel picks the worker)
    while len(pages) < 12 and (len(pages) < 4 or min(_sockets(w, app.port) for w in workers) == 0):
        page = new_page(browser)
        log_in(page, app, path="/history")
        expect(page.get_by_text("يتحدث تلقائياً")).to_be_visible()
        pages.append(page)
    assert min(_sockets(w, app.port) for w in workers) > 0, "all the pages landed on one worker"

    agent = agent_on(new_page(launch(voices["agent"])), app)
    for _ in range(2):
        dial(agent, "1000")
        expect(agent.locator("#call-state")).to_have_text("مكالمة جارية")
        call_id = appdb.latest_call(app)["id"]
        for page in pages:  # in progress, on every page whichever worker serves it
            expect(page.locator(f'tr[data-call-id="{call_id}"]')).to_contain_text("جارية")
        agent.get_by_role("button", name="إنهاء المكالمة").click()
        for page in pages:  # ended, and its recording ready, everywhere
            row = page.locator(f'tr[data-call-id="{call_id}"]')
            expect(row).to_contain_text("مكتملة")
            expect(row.locator("audio")).to_have_count(1)
    assert appdb.rows(app, "SELECT count(*) AS n FROM call")[0]["n"] == 2
