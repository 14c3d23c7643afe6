"""A supervisor monitors a live call from the wallboard, in real Chromium on the local provider: three
browsers, each speaking its own espeak voice (the agent `agent_voice`, the customer `customer_voice`, the
supervisor `supervisor_voice`), so who hears whom is measured from the audio each page plays.

Where a page hears two voices at once (the supervisor listening hears the agent and the customer), a mix of
two is not told apart by envelope correlation: one speaker is silenced (`silence_microphone`) and the page
must then hear the other, clearly more than the silent one.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from call_center.testing import (
    History,
    Softphone,
    Wallboard,
    agent_voice,
    customer_voice,
    supervisor_voice,
)
from call_center.testing.pages import tid
from tests.e2e.helpers import hears, media_flows

CUSTOMER = "+201000000091"
A_NAME, SUP_NAME = "Test Agent", "Huda Supervisor"
SHOTS = Path("test-results/screens")  # ignored by git
SHOTS.mkdir(parents=True, exist_ok=True)


def test_a_supervisor_listens_whispers_and_barges_in_and_is_heard_by_exactly_whom_each_mode_says(
    app, agent_page, supervisor_page, test_phone
):
    a, phone = Softphone(agent_page, app), test_phone(CUSTOMER)
    board = Wallboard(supervisor_page, app)
    board.go("wallboard")  # (a link: the page's phone stays registered)
    a.dial(CUSTOMER)
    phone.answer()
    a.wait_for_state("in-progress")
    phone.wait_for_state("in-progress")
    board.wait_for_agent_state(A_NAME, "on-call")
    expect(board.agent(SUP_NAME).get_by_test_id("wb-listen")).to_have_count(0)  # nothing to monitor there

    # Listen: the supervisor hears both sides, nobody hears the supervisor; the agent is told
    board.monitor(A_NAME, "listen")
    a.wait_for_monitored("listen")
    assert a.monitored_by == [(SUP_NAME, "listen")]
    media_flows(app, "sup_")
    expect(board.agent(SUP_NAME).get_by_test_id("wb-agent-monitoring")).to_contain_text(A_NAME)
    supervisor_page.screenshot(path=str(SHOTS / "wallboard-monitoring-ar.png"), full_page=True)
    agent_page.screenshot(path=str(SHOTS / "softphone-monitored-ar.png"), full_page=True)
    hears(phone, agent_voice(), over=[supervisor_voice()])
    hears(a, customer_voice(), over=[supervisor_voice()])
    a.silence_microphone()
    hears(board, customer_voice(), over=[agent_voice()])
    a.silence_microphone(False)
    phone.silence_microphone()
    hears(board, agent_voice(), over=[customer_voice()])
    phone.silence_microphone(False)

    # Whisper: the agent hears the supervisor, the customer does not
    board.switch_monitoring("whisper")
    a.wait_for_monitored("whisper")
    expect(tid(supervisor_page, "monitor-explain")).to_contain_text("يسمعك الموظف وحده")
    hears(phone, agent_voice(), over=[supervisor_voice()])
    phone.silence_microphone()
    hears(a, supervisor_voice(), over=[customer_voice()])
    phone.silence_microphone(False)

    # Barge: the customer hears the supervisor too
    board.switch_monitoring("barge")
    a.wait_for_monitored("barge")
    # in English (each account's language is kept: switched back at once for the tests after this one)
    board.switch_language()
    expect(tid(supervisor_page, "monitor-bar")).to_contain_text("Monitoring a call")
    supervisor_page.screenshot(path=str(SHOTS / "wallboard-monitoring-en.png"), full_page=True)
    board.switch_language()
    a.switch_language()
    expect(tid(agent_page, "call-monitored")).to_contain_text("Joined the call: Huda Supervisor")
    agent_page.screenshot(path=str(SHOTS / "softphone-monitored-en.png"), full_page=True)
    a.switch_language()
    expect(tid(agent_page, "call-monitored")).to_contain_text("انضم إلى المكالمة")
    a.silence_microphone()
    hears(phone, supervisor_voice(), over=[agent_voice()])
    a.silence_microphone(False)

    # Stop: the call goes on between the agent and the customer alone
    board.stop_monitoring()
    a.wait_for_monitored(None)
    hears(phone, agent_voice(), over=[supervisor_voice()])
    a.hang_up()
    phone.wait_for_state("ended")

    call = app.wait_for_call(status="completed", customer_number=CUSTOMER)
    steps = [s["what"] for s in app.timeline(call["id"]) if s["what"].startswith("monitor")]
    assert steps == ["monitor-listen", "monitor-whisper", "monitor-barge", "monitor-ended"], steps
    # the call's detail view says who monitored it and how (the supervisor's history has every call)
    detail = History(supervisor_page, app).open().details(call)
    assert [s for s in detail.steps() if s.startswith("monitor")] == steps
    expect(detail.panel).to_contain_text(SUP_NAME)
    expect(detail.panel).to_contain_text("انضم المشرف إلى المكالمة")
