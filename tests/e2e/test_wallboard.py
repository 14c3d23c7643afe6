"""The supervisor's live wallboard in a real browser: it changes as a call queues, rings, connects and
ends (pushed over the event bus, no reload), its times tick, it reads in Arabic and English and in large
type; an agent is kept out."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from call_center.testing import Softphone, Wallboard
from call_center.testing.pages import tid
from tests.e2e.conftest import log_in

SHOTS = Path("test-results/screens")  # ignored by git
SHOTS.mkdir(parents=True, exist_ok=True)
CALLER = "+201000000031"


def test_the_wallboard_follows_a_call_live(app, agent_page, new_page, test_phone):
    supervisor = app.create_agent(
        "noura@almasar.test", "Noura Supervisor", "supervisor-pass-123", "supervisor"
    )
    agent = Softphone(agent_page, app)
    phone = test_phone(CALLER)
    page = new_page()
    log_in(page, app, supervisor.email, supervisor.password, path="/wallboard")
    board = Wallboard(page, app)
    expect(tid(page, "wallboard")).to_be_visible()
    general = board.queue("default")
    expect(general).to_contain_text("قائمة الانتظار العامة")
    board.wait_for_agent_state("Test Agent", "available")
    before = int(board.agent("Test Agent").get_attribute("data-today") or 0)
    board.wait_for_waiting("default", 0)

    phone.call_company()  # it queues and rings the agent: the board shows both without a reload
    board.wait_for_waiting("default", 1)
    board.wait_for_agent_state("Test Agent", "ringing")
    expect(tid(general, "wb-alert")).to_have_count(0)  # someone rings for the caller: no alarm
    expect(board.agent("Test Agent").get_by_test_id("wb-agent-call")).to_contain_text("+20 100 000 0031")
    longest = tid(general, "wb-longest")
    expect(longest.locator(".elapsed")).to_be_visible()
    first = board.seconds(longest)
    expect(longest.locator(".elapsed")).not_to_have_attribute("data-seconds", str(first))  # it ticks
    page.screenshot(path=str(SHOTS / "wallboard-ringing-ar.png"), full_page=True)

    agent.incoming().wait().accept()
    agent.wait_for_state("in-progress")
    board.wait_for_agent_state("Test Agent", "on-call")
    board.wait_for_waiting("default", 0)
    expect(tid(general, "wb-longest")).to_contain_text("—")
    expect(tid(general, "wb-on-call").locator(".kpi-value")).not_to_have_text("0")

    board.switch_language()
    expect(general).to_contain_text("General queue")
    expect(tid(page, "wb-agents")).to_contain_text("On a call")
    page.screenshot(path=str(SHOTS / "wallboard-en.png"), full_page=True)
    board.large_type(True)
    expect(page.locator(".sidebar")).to_be_hidden()
    page.screenshot(path=str(SHOTS / "wallboard-large-en.png"), full_page=True)
    board.large_type(False)
    board.switch_language()

    phone.hang_up()
    agent.wait_for_outcome("completed")
    board.wait_for_agent_state("Test Agent", "available")  # wrap-up is off in this app
    expect(board.agent("Test Agent")).to_have_attribute("data-today", str(before + 1))
    expect(board.agent("Test Agent").get_by_test_id("wb-agent-call")).to_have_text("")
    assert board.figure("default", "sl") != "—"  # today's service level has an answered call
    page.screenshot(path=str(SHOTS / "wallboard-ar.png"), full_page=True)

    # an agent is sent back to the call center, and has no link to it
    agent_page.goto(f"{app.url}/wallboard")
    expect(agent_page).to_have_url(re.compile(r"/call-center/?$"))
    expect(tid(agent_page, "nav-wallboard")).to_have_count(0)
