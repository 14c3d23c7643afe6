"""E2E fixtures: our own suite runs on the public testing kit (call_center.testing and its pytest plugin),
so the kit testers use is exercised by every CI run. Only what is ours alone lives here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from call_center.testing import agent_voice, customer_voice
from call_center.testing import log_in as kit_log_in
from call_center.testing.server import ADMIN_EMAIL, ADMIN_PASSWORD, Account, DisposableApp


@pytest.fixture(scope="session")
def call_center_settings() -> dict[str, str]:
    # Short rings keep the unanswered-call tests short, but a ring is a product timer racing the test's
    # own steps: a transfer must still ring while a test listens to a whole period of the hold tone
    # (HOLD_TONE_PERIOD), fetches the samples and clicks accept. 10 s was not enough with one core kept
    # busy (the ring ran out before the click, 2026-12-02): 20 s.
    # These tests chain calls to the same agents back to back, and some let inbound calls ring out: wrap-up
    # off; the queue rings every agent (the answer race needs two ringing) and an unanswered caller leaves
    # after 10 s without anyone being set away. Wrap-up and the queue as in production have their own apps
    # (test_wrapup.py, test_queue.py).
    return {
        "RING_TIMEOUT_SECONDS": "20",
        "WRAPUP_SECONDS": "0",
        "QUEUE_STRATEGY": "ring-all",
        "QUEUE_MAX_WAIT_SECONDS": "10",
        "QUEUE_MAX_MISSES": "20",
    }


@pytest.fixture(scope="session")
def app(call_center_app: DisposableApp) -> DisposableApp:
    """The kit's disposable app (our tests also read its database and process tree)."""
    return call_center_app


@pytest.fixture
def launch(open_browser):
    """Our tests' name for the kit's `open_browser`."""
    return open_browser


@pytest.fixture(scope="session")
def voices() -> dict[str, Path]:
    return {"agent": agent_voice(), "customer": customer_voice()}


def log_in(
    page: Page,
    app: DisposableApp,
    email: str = ADMIN_EMAIL,
    password: str = ADMIN_PASSWORD,
    path: str = "/call-center",
) -> None:
    """Log in through the real form (the kit's log_in) and check the page's labels are there."""
    kit_log_in(page, app, Account(email, password), path)
    expect(page.get_by_role("navigation")).to_be_visible()
    assert re.search(r"/login", page.url) is None
