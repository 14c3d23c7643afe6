"""Shared steps of the call tests, on the kit's page objects."""

from __future__ import annotations

from playwright.sync_api import Page

from call_center.testing import Softphone, TestPhone, heard  # noqa: F401 (re-exported for the tests)
from call_center.testing.server import DisposableApp
from tests.e2e.conftest import log_in
from tests.support import appdb

PHONE = "+201000000001"


def agent_on(page: Page, app: DisposableApp) -> Page:
    log_in(page, app)
    Softphone(page, app).wait_registered()
    return page


def phone_on(page: Page, app: DisposableApp, number: str = PHONE) -> Page:
    """A simulated phone, on and reachable at `number`."""
    log_in(page, app, path="/phone")
    TestPhone(page, app).use_number(number)
    return page


def number_display(e164: str) -> str:
    from call_center.services.numbers import display

    return display(e164)


def dial(agent: Page, number: str) -> None:
    Softphone(agent).dial(number)


def ready_recording(app: DisposableApp, call_id: int) -> dict:
    return appdb.wait_for(
        lambda: (r := appdb.recording_of(app, call_id)) and r["status"] != "processing" and r, timeout=20
    )


def media_stats(app: DisposableApp) -> dict:
    """The running media server's own figures (pid, calls, packets per leg), over its control protocol."""
    from call_center.telephony.local.protocol import CarrierClient

    secret = (app.data_dir / ".secret_key").read_text().strip()
    return CarrierClient(int(app.env["MEDIA_CONTROL_PORT"]), secret, timeout=5).request("stats")
