"""Shared steps of the call tests: agents and simulated phones ready to call, and what they hear."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in
from tests.support import appdb
from tests.support.server import RunningApp

PHONE = "+201000000001"


def agent_on(page: Page, app: RunningApp) -> Page:
    log_in(page, app)
    expect(page.get_by_text("الهاتف متصل")).to_be_visible(timeout=15000)
    return page


def phone_on(page: Page, app: RunningApp, number: str = PHONE) -> Page:
    """A simulated phone, on and reachable at `number`."""
    log_in(page, app, path="/phone")
    expect(page.locator("#sim-registered-number")).not_to_have_text("")
    if number != PHONE:
        page.get_by_label("رقم هذا الهاتف").fill(number)
        page.get_by_role("button", name="استخدام الرقم").click()
        expect(page.locator("#sim-registered-number")).to_have_text(number_display(number))
    expect(page.locator(".handset .status-available")).to_be_visible(timeout=15000)
    return page


def number_display(e164: str) -> str:
    from call_center.services.numbers import display

    return display(e164)


def dial(agent: Page, number: str) -> None:
    agent.get_by_label("رقم العميل").fill(number)
    agent.get_by_role("button", name="اتصال", exact=True).click()


def heard(page: Page, seconds: float = 4.0) -> float:
    """The loudest remote level the page's analyser saw over a few seconds (speech has pauses)."""
    best, deadline = 0.0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        best = max(best, float(page.evaluate("window.almasarPhone.remoteLevel()")))
        page.wait_for_timeout(100)
    return best


def ready_recording(app: RunningApp, call_id: int) -> dict:
    return appdb.wait_for(
        lambda: (r := appdb.recording_of(app, call_id)) and r["status"] != "processing" and r, timeout=20
    )


def media_stats(app: RunningApp) -> dict:
    """The running media server's own figures (pid, calls, packets per leg), over its control protocol."""
    from call_center.telephony.local.protocol import CarrierClient

    secret = (app.data_dir / ".secret_key").read_text().strip()
    return CarrierClient(int(app.env["MEDIA_CONTROL_PORT"]), secret, timeout=5).request("stats")
