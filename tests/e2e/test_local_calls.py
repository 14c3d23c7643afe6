"""Real calls through the local provider: Chromium legs (one browser per leg, fake microphones speaking
different words), our media server in the middle, recordings checked against what each side said.

Written with the testing kit a tester would use: `agent_page`, `test_phone`, the page objects, and
`recording_of` / `channel_matches` over the app's own API.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path

from playwright.sync_api import expect

from call_center.testing import (
    Recording,
    Softphone,
    agent_voice,
    channel_matches,
    customer_voice,
    recording_of,
    ring_wait_ms,
)
from tests.e2e.helpers import PHONE, agent_on


def check_channels(recording: Recording, left: Path, right: Path | None) -> None:
    """Each channel follows its own speaker, clearly more than the other one."""
    assert recording.channels == 2, "the recording must have two channels"
    rate = recording.rate
    left_right = channel_matches(recording.channel("agent"), rate, left)
    if right is None:
        assert left_right > 0.5, left_right
        return
    left_wrong = channel_matches(recording.channel("agent"), rate, right)
    right_right = channel_matches(recording.channel("customer"), rate, right)
    right_wrong = channel_matches(recording.channel("customer"), rate, left)
    assert right_right > 0.5 and right_right > right_wrong + 0.15, (right_right, right_wrong)
    assert left_right > 0.5 and left_right > left_wrong + 0.15, (left_right, left_wrong)


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_agent_calls_a_simulated_phone_both_hear_and_both_are_recorded(app, agent_page, test_phone):
    softphone, phone = Softphone(agent_page, app), test_phone(PHONE)
    softphone.dial("01000000001")
    phone.wait_for_state("incoming")
    softphone.wait_for_state("ringing")
    expect(agent_page.locator("#call-state")).to_have_text("يرن…")  # and it says so, in Arabic
    phone.answer()
    softphone.wait_for_state("in-progress")
    expect(agent_page.get_by_role("timer")).to_be_visible()

    assert softphone.heard() > 0.01, "the agent hears the customer"
    assert phone.heard() > 0.01, "the customer hears the agent"
    agent_page.wait_for_timeout(2500)  # talk a little: the recording must cover it
    softphone.hang_up()
    softphone.wait_for_outcome("completed")
    phone.wait_for_state("ended")

    call = app.latest_call()
    assert call["status"] == "completed" and call["direction"] == "outbound"
    assert call["customer_number"] == PHONE and call["hangup_by"] == "agent"
    recording = recording_of(app, call)
    check_channels(recording, agent_voice(), customer_voice())
    talk = (_ts(call["ended_at"]) - _ts(call["answered_at"])).total_seconds()
    assert abs(recording.seconds - talk) <= 0.5, (recording.seconds, talk)


def test_echo_line_plays_the_callers_voice_back_and_is_recorded(app, agent_page):
    softphone = Softphone(agent_page, app)
    softphone.dial("1000")
    softphone.wait_for_state("in-progress")
    assert softphone.heard() > 0.01, "the echo line returns the agent's voice"
    softphone.hang_up()
    call = app.latest_call()
    assert call["customer_number"] == "1000"
    recording = recording_of(app, call)
    check_channels(recording, agent_voice(), None)
    # the right channel is what the echo line sent back: the agent's own words
    assert channel_matches(recording.channel("customer"), recording.rate, agent_voice()) > 0.5


def test_inbound_call_from_the_phone_is_taken_by_an_available_agent(app, agent_page, test_phone):
    softphone, phone = Softphone(agent_page, app), test_phone("+201000000002")
    phone.call_company()
    incoming = softphone.incoming().wait()
    expect(incoming.banner).to_contain_text("+20 100 000 0002")
    expect(agent_page.get_by_role("alertdialog", name="مكالمة واردة")).to_be_visible()
    incoming.accept()
    softphone.wait_for_state("in-progress")
    assert softphone.heard() > 0.01 and phone.heard() > 0.01
    phone.hang_up()
    softphone.wait_for_outcome("completed")
    call = app.latest_call()
    assert call["direction"] == "inbound" and call["status"] == "completed" and call["agent_id"] is not None
    assert call["hangup_by"] == "customer"
    check_channels(recording_of(app, call), agent_voice(), customer_voice())


def test_a_phone_that_calls_straight_back_keeps_its_new_call_when_the_hang_up_reply_comes_late(
    app, agent_page, test_phone
):
    """Hang up, then call again at once: the first call's "completed" reaches the phone over its event
    stream, and the reply to its hang-up request can come after the new call began (a loaded server). That
    late reply must not end the new call (it once closed the new call's connection: "the phone reported
    an error"). The test holds the hang-up reply until the second call rings."""
    # (a number of its own: the suite's apps are shared, and test_softphone's contact has ...0003)
    softphone, phone = Softphone(agent_page, app), test_phone("+201000000081")
    phone.call_company()
    softphone.incoming().wait().accept()
    phone.wait_for_state("in-progress")
    held = []
    phone.page.route("**/api/local/calls/*/hangup*", lambda route: held.append((route, route.fetch())))
    phone.hang_up()
    softphone.wait_for_outcome("completed")
    phone.wait_for_state("ended")
    assert len(held) == 1, "the hang-up request reached the server; its reply is held"
    phone.call_company()
    incoming = softphone.incoming().wait()
    route, reply = held[0]
    route.fulfill(response=reply)
    incoming.accept()
    softphone.wait_for_state("in-progress")
    phone.wait_for_state("in-progress")
    assert softphone.heard() > 0.01 and phone.heard() > 0.01
    phone.page.unroute("**/api/local/calls/*/hangup*")
    phone.hang_up()
    softphone.wait_for_outcome("completed")
    phone.wait_for_state("ended")


def test_a_phone_that_rejects_gives_busy(app, agent_page, test_phone):
    softphone, phone = Softphone(agent_page, app), test_phone(PHONE)
    softphone.dial(PHONE)
    phone.reject()
    softphone.wait_for_outcome("busy")
    expect(agent_page.locator("#call-outcome")).to_contain_text("الرقم مشغول أو رفض المكالمة")
    call = app.latest_call()
    assert call["status"] == "busy" and call["answered_at"] is None and call["recording_id"] is None


def test_an_unanswered_call_ends_as_no_answer(app, agent_page, test_phone):
    softphone = Softphone(agent_page, app)
    test_phone(PHONE)
    softphone.dial(PHONE)
    softphone.wait_for_state("ringing")
    softphone.wait_for_outcome("no-answer", timeout_ms=ring_wait_ms(app))  # RING_TIMEOUT_SECONDS: 20 here
    expect(agent_page.locator("#call-outcome")).to_contain_text("لم يتم الرد")
    assert app.latest_call()["status"] == "no-answer"


def test_an_unknown_number_fails_with_a_clear_reason(app, agent_page):
    softphone = Softphone(agent_page, app)
    softphone.dial("01009999999")
    softphone.wait_for_error("call.error.unreachable")
    expect(agent_page.locator("#device-error")).to_have_text("الرقم غير متاح حالياً.")
    call = app.latest_call()
    assert call["status"] == "failed" and call["hangup_reason"] == "call.error.unreachable"


def test_a_premium_rate_number_is_refused_in_the_dialer_and_kept_as_failed(app, agent_page):
    softphone = Softphone(agent_page, app)
    softphone.dial("09001234567")  # Egyptian premium rate: Egypt is allowed, the number type is not
    expect(agent_page.locator("#number-feedback")).to_have_text("أرقام الخدمات مرتفعة التكلفة ممنوعة.")
    call = app.wait_for_call(customer_number="+209001234567")
    assert call["status"] == "failed" and call["hangup_reason"] == "dial.error.premium"


def test_a_killed_agent_browser_ends_the_call_within_5_seconds(app, open_browser, new_page, test_phone):
    agent_browser = open_browser(agent_voice())
    softphone = Softphone(agent_on(new_page(agent_browser), app), app)
    phone = test_phone(PHONE)
    softphone.dial(PHONE)
    phone.answer()
    phone.wait_for_state("in-progress")
    assert phone.heard() > 0.01
    killed_at = time.monotonic()
    agent_browser.close()  # the whole browser process goes, like a crash or a closed laptop
    phone.wait_for_state("ended")
    assert time.monotonic() - killed_at <= 5.0 + 1.0  # 5 s, plus the time for this page to hear of it
    call = app.latest_call()
    assert re.match(r"reason\.lost_agent", call["hangup_reason"] or "")
    recording = recording_of(app, call)
    assert recording.seconds > 1


def test_without_microphone_permission_the_agent_is_told_how_to_fix_it(app, open_browser, new_page):
    page = agent_on(new_page(open_browser(agent_voice(), deny_microphone=True)), app)
    Softphone(page, app).dial("1000")
    Softphone(page, app).wait_for_error("device.error.mic-denied")
    expect(page.locator("#device-error")).to_have_text("لا يوجد إذن للميكروفون.")
    expect(page.locator("#help .help-item.highlight")).to_contain_text("«السماح»")
