"""Real calls through the local provider: Chromium legs (one browser per leg, fake microphones speaking
different words), our media server in the middle, recordings checked against what each side said."""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.helpers import PHONE, agent_on, dial, heard, phone_on, ready_recording
from tests.support import appdb
from tests.support.audio import channel_matches, decode
from tests.support.server import RunningApp


def check_channels(app: RunningApp, recording: dict, left: Path, right: Path | None) -> tuple[int, object]:
    rate, audio = decode(app.data_dir.resolve() / "recordings" / recording["storage_key"])
    assert audio.shape[0] == 2, "the recording must have two channels"
    left_right = channel_matches(audio[0], rate, left)
    if right is not None:
        left_wrong = channel_matches(audio[0], rate, right)
        right_right = channel_matches(audio[1], rate, right)
        right_wrong = channel_matches(audio[1], rate, left)
        assert right_right > 0.5 and right_right > right_wrong + 0.15, (right_right, right_wrong)
        assert left_right > 0.5 and left_right > left_wrong + 0.15, (left_right, left_wrong)
    else:
        assert left_right > 0.5, left_right
    return rate, audio


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_agent_calls_a_simulated_phone_both_hear_and_both_are_recorded(app, launch, new_page, voices):
    agent = agent_on(new_page(launch(voices["agent"])), app)
    phone = phone_on(new_page(launch(voices["customer"])), app)

    dial(agent, "01000000001")
    expect(phone.get_by_text("مكالمة من")).to_be_visible(timeout=10000)
    expect(agent.locator("#call-state")).to_have_text("يرن…")
    phone.get_by_role("button", name="رد").click()
    expect(agent.locator("#call-state")).to_have_text("مكالمة جارية", timeout=10000)
    expect(agent.get_by_role("timer")).to_be_visible()

    assert heard(agent) > 0.01, "the agent hears the customer"
    assert heard(phone) > 0.01, "the customer hears the agent"
    agent.wait_for_timeout(2500)
    agent.get_by_role("button", name="إنهاء المكالمة").click()
    expect(agent.locator("#call-outcome")).to_contain_text("انتهت المكالمة")
    expect(phone.get_by_text("انتهت المكالمة")).to_be_visible()

    call = appdb.latest_call(app)
    assert call["status"] == "completed" and call["direction"] == "outbound"
    assert call["customer_number"] == PHONE and call["hangup_by"] == "agent"
    recording = ready_recording(app, call["id"])
    assert recording["status"] == "ready", recording["reason"]
    rate, audio = check_channels(app, recording, voices["agent"], voices["customer"])
    talk = (_ts(call["ended_at"]) - _ts(call["answered_at"])).total_seconds()
    assert abs(audio.shape[1] / rate - talk) <= 0.5, (audio.shape[1] / rate, talk)


def test_echo_line_plays_the_callers_voice_back_and_is_recorded(app, launch, new_page, voices):
    agent = agent_on(new_page(launch(voices["agent"])), app)
    dial(agent, "1000")
    expect(agent.locator("#call-state")).to_have_text("مكالمة جارية", timeout=10000)
    assert heard(agent) > 0.01, "the echo line returns the agent's voice"
    agent.get_by_role("button", name="إنهاء المكالمة").click()
    call = appdb.latest_call(app)
    assert call["customer_number"] == "1000"
    recording = ready_recording(app, call["id"])
    assert recording["status"] == "ready", recording["reason"]
    check_channels(app, recording, voices["agent"], None)
    rate, audio = decode(app.data_dir.resolve() / "recordings" / recording["storage_key"])
    # the right channel is what the echo line sent back: the agent's own words
    assert channel_matches(audio[1], rate, voices["agent"]) > 0.5


def test_inbound_call_from_the_phone_is_taken_by_an_available_agent(app, launch, new_page, voices):
    agent = agent_on(new_page(launch(voices["agent"])), app)
    phone = phone_on(new_page(launch(voices["customer"])), app, "+201000000002")

    phone.get_by_role("button", name="اتصل بالشركة").click()
    banner = agent.get_by_role("alertdialog", name="مكالمة واردة")
    expect(banner).to_contain_text("+20 100 000 0002", timeout=10000)
    banner.get_by_role("button", name="رد").click()
    expect(agent.locator("#call-state")).to_have_text("مكالمة جارية", timeout=10000)
    assert heard(agent) > 0.01 and heard(phone) > 0.01
    phone.get_by_role("button", name="إنهاء المكالمة").click()
    expect(agent.locator("#call-outcome")).to_contain_text("انتهت المكالمة")
    call = appdb.latest_call(app)
    assert call["direction"] == "inbound" and call["status"] == "completed" and call["agent_id"] is not None
    assert call["hangup_by"] == "customer"
    recording = ready_recording(app, call["id"])
    check_channels(app, recording, voices["agent"], voices["customer"])


def test_a_phone_that_rejects_gives_busy(app, launch, new_page, voices):
    agent = agent_on(new_page(launch(voices["agent"])), app)
    phone = phone_on(new_page(launch(voices["customer"])), app)
    dial(agent, PHONE)
    phone.get_by_role("button", name="رفض").click()
    expect(agent.locator("#call-outcome")).to_contain_text("الرقم مشغول أو رفض المكالمة", timeout=10000)
    call = appdb.wait_for(lambda: (c := appdb.latest_call(app)) and c["status"] == "busy" and c)
    assert call["answered_at"] is None and appdb.recording_of(app, call["id"]) is None


def test_an_unanswered_call_ends_as_no_answer(app, launch, new_page, voices):
    agent = agent_on(new_page(launch(voices["agent"])), app)
    phone_on(new_page(launch(voices["customer"])), app)
    dial(agent, PHONE)
    expect(agent.locator("#call-state")).to_have_text("يرن…", timeout=10000)
    # RING_TIMEOUT_SECONDS is 6 in the test app
    expect(agent.locator("#call-outcome")).to_contain_text("لم يتم الرد", timeout=20000)
    assert appdb.latest_call(app)["status"] == "no-answer"


def test_an_unknown_number_fails_with_a_clear_reason(app, launch, new_page, voices):
    agent = agent_on(new_page(launch(voices["agent"])), app)
    dial(agent, "01009999999")
    expect(agent.locator("#device-error")).to_have_text("الرقم غير متاح حالياً.", timeout=10000)
    call = appdb.latest_call(app)
    assert call["status"] == "failed" and call["hangup_reason"] == "call.error.unreachable"


def test_a_killed_agent_browser_ends_the_call_within_5_seconds(app, launch, new_page, voices):
    agent_browser = launch(voices["agent"])
    agent = agent_on(new_page(agent_browser), app)
    phone = phone_on(new_page(launch(voices["customer"])), app)
    dial(agent, PHONE)
    phone.get_by_role("button", name="رد").click()
    expect(phone.get_by_role("timer")).to_be_visible(timeout=10000)
    assert heard(phone) > 0.01
    killed_at = time.monotonic()
    agent_browser.close()  # the whole browser process goes, like a crash or a closed laptop
    expect(phone.get_by_text("انتهت المكالمة")).to_be_visible(timeout=10000)
    assert time.monotonic() - killed_at <= 5.0 + 1.0  # 5 s, plus the time for this page to hear of it
    call = appdb.wait_for(lambda: (c := appdb.latest_call(app)) and c["status"] == "completed" and c)
    assert re.match(r"reason\.lost_agent", call["hangup_reason"] or "")
    recording = ready_recording(app, call["id"])
    assert recording["status"] == "ready" and recording["duration_seconds"] > 1


def test_without_microphone_permission_the_agent_is_told_how_to_fix_it(app, launch, new_page, voices):
    agent = agent_on(new_page(launch(voices["agent"], deny_microphone=True)), app)
    dial(agent, "1000")
    expect(agent.locator("#device-error")).to_have_text("لا يوجد إذن للميكروفون.", timeout=10000)
    expect(agent.locator("#help .help-item.highlight")).to_contain_text("«السماح»")
