"""A softphone that heals itself: the app restarts under an open page (a deploy, a crash), and the
phone reconnects by itself, says so while it does, and can call again without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from call_center.testing import Softphone
from call_center.testing.server import start_app
from tests.e2e.conftest import log_in


@pytest.fixture(scope="module")
def restartable_app(tmp_path_factory):
    app = start_app(tmp_path_factory.mktemp("restart-app") / "data", settings={"RING_TIMEOUT_SECONDS": "6"})
    yield app
    app.stop()


def test_the_softphone_reconnects_after_the_app_restarts_and_calls_again(
    restartable_app, new_page, launch, voices
):
    app = restartable_app
    page = new_page(launch(voices["agent"]))
    log_in(page, app)
    softphone = Softphone(page, app).wait_registered()
    softphone.dial("1000")  # the echo line works before...
    softphone.wait_for_state("in-progress")
    softphone.hang_up()
    softphone.wait_for_outcome("completed")

    app.stop()
    warning = page.get_by_test_id("phone-reconnecting")
    expect(warning).to_be_visible()  # the phone says it is reconnecting (not a silent dead page)
    expect(warning).to_have_text("جارٍ إعادة الاتصال بالخادم…")
    app.restart_after_stop()

    softphone.wait_registered()
    expect(warning).to_have_count(0)
    expect(page.get_by_test_id("device-error")).to_have_count(0)
    softphone.dial("1000")  # ...and after, from the same page, never reloaded
    softphone.wait_for_state("in-progress")
    assert softphone.heard() > 0.01
    softphone.hang_up()
    softphone.wait_for_outcome("completed")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_an_error_answer_on_the_event_stream_is_retried_until_it_registers(
    restartable_app, new_page, launch, voices
):
    """An error answer (a proxy's 502 while the app restarts) makes the browser give the stream up for good;
    the phone retries by itself with backoff instead of staying unregistered until a reload."""
    app = restartable_app
    page = new_page(launch(voices["agent"]))
    refused: list[str] = []

    def flaky(route):  # type: ignore[no-untyped-def]
        if len(refused) < 3:
            refused.append(route.request.url)
            route.fulfill(status=502, body="bad gateway")
        else:
            route.continue_()

    page.route("**/api/devices/events*", flaky)
    log_in(page, app)
    softphone = Softphone(page, app).wait_registered()
    assert len(refused) == 3
    expect(page.get_by_test_id("phone-reconnecting")).to_have_count(0)
    softphone.dial("1000")
    softphone.wait_for_state("in-progress")
    softphone.hang_up()
