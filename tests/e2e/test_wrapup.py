"""Wrap-up after a call, in real Chromium on the local provider: the countdown, a disposition, notes and
tags saved with the call and found again in the history; a caller waits in the queue while the agent wraps
up or is away, and rings them once they are done; the agent's state timeline as the app recorded it.

This module has its own app with wrap-up on (the shared one runs with WRAPUP_SECONDS=0, since its tests
chain calls back to back) and RECORDING_NOTICE_OUTBOUND on: a customer an agent calls hears the recording
notice first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from call_center.testing import NOTICE_TONE, History, Softphone, WrapUp, agent_voice, sounds_like, tone_share
from call_center.testing.server import ADMIN_EMAIL, ADMIN_PASSWORD, Account, DisposableApp, start_app

WRAPUP_SECONDS = 15
SHOTS = Path("test-results/screens")  # ignored by git
SHOTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="module")
def call_center_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DisposableApp]:
    app = start_app(
        tmp_path_factory.mktemp("wrapup-app") / "data",
        # and the recording notice for the customers the agents call (off by default)
        {
            "WRAPUP_SECONDS": str(WRAPUP_SECONDS),
            "RING_TIMEOUT_SECONDS": "10",
            "RECORDING_NOTICE_OUTBOUND": "true",
        },
    )
    yield app
    app.stop()


@pytest.fixture(scope="module")
def call_center_accounts(call_center_app: DisposableApp) -> dict[str, Account]:
    return {
        "admin": Account(ADMIN_EMAIL, ADMIN_PASSWORD, "admin"),
        "agent": call_center_app.create_agent("sara@almasar.test", "Sara Agent", "sara-password-1"),
    }


@pytest.fixture(scope="module")
def app(call_center_app: DisposableApp) -> DisposableApp:
    return call_center_app


def _states(app: DisposableApp, account: Account) -> list[tuple[str, str | None]]:
    with app.api(account) as client:
        me = client.get("/api/auth/me").json()
        found = client.get(f"/api/agents/{me['id']}/states")
        found.raise_for_status()
        return [(s["state"], s["reason"]) for s in found.json()["spans"]]


def _take_call(softphone: Softphone, phone) -> None:
    phone.call_company()
    softphone.incoming().wait().accept()
    softphone.wait_for_state("in-progress")
    phone.hang_up()
    softphone.wait_for_outcome("completed")


def _manage_dispositions(admin_page, app) -> None:
    """The admin adds a disposition and turns one off (Settings)."""
    admin_page.goto(f"{app.url}/settings")
    admin_page.get_by_test_id("disposition-name-ar").fill("طلب استرداد")
    admin_page.get_by_test_id("disposition-name-en").fill("Refund request")
    admin_page.get_by_test_id("disposition-add").click()
    added = admin_page.locator('[data-testid="disposition-row"][data-code="refund-request"]')
    expect(added).to_contain_text("طلب استرداد")
    wrong = admin_page.locator('[data-testid="disposition-row"][data-code="wrong-number"]')
    wrong.get_by_test_id("disposition-deactivate").click()
    expect(wrong.get_by_test_id("disposition-activate")).to_be_visible()
    admin_page.get_by_test_id("disposition-add").click()  # both names are required
    expect(admin_page.get_by_test_id("disposition-row")).to_have_count(6)
    admin_page.screenshot(path=str(SHOTS / "settings-dispositions-ar.png"), full_page=True)
    Softphone(admin_page, app).switch_language()
    expect(added).to_contain_text("Refund request")
    admin_page.screenshot(path=str(SHOTS / "settings-dispositions-en.png"), full_page=True)
    Softphone(admin_page, app).switch_language()
    admin_page.get_by_test_id("availability").select_option("away:training")  # the admin takes no calls
    expect(admin_page.locator(".availability .status-dot")).to_have_class("status-dot status-away")


def test_wrap_up_what_the_call_was_about_is_saved_and_found_in_the_history(
    app, agent_page, admin_page, test_phone, call_center_accounts
):
    _manage_dispositions(admin_page, app)
    softphone, phone = Softphone(agent_page, app), test_phone("+201000000031")
    _take_call(softphone, phone)
    call = app.wait_for_call(status="completed", customer_number="+201000000031")

    wrap = WrapUp(agent_page).wait(call)
    assert wrap.running and 0 < wrap.seconds_left() <= WRAPUP_SECONDS
    assert "+20 100 000 0031" in wrap.customer
    offered = set(wrap.dispositions())
    assert offered >= {"sale", "complaint", "call-back-later", "refund-request"}
    assert "wrong-number" not in offered  # turned off by the admin
    agent_page.screenshot(path=str(SHOTS / "wrapup-ar.png"), full_page=True)

    # while the agent wraps up, a customer calling in waits in the queue (first in line), not ringing them
    other = test_phone("+201000000032")
    other.call_company()
    expect(other.page.get_by_test_id("phone-queue-position")).to_have_attribute("data-position", "1")
    expect(agent_page.get_by_test_id("incoming-call")).to_have_count(0)

    wrap.extend()
    wrap.choose("complaint")
    wrap.write_notes("Late delivery of order 7781; refund promised")
    wrap.tag("VIP", "refund")
    wrap.save()
    assert softphone.switch_language() == "en"
    expect(agent_page.get_by_test_id("wrapup-done")).to_contain_text("Save and finish")
    agent_page.screenshot(path=str(SHOTS / "wrapup-en.png"), full_page=True)
    assert softphone.switch_language() == "ar"
    wrap.finish()
    # done: the waiting caller reaches the agent at once
    softphone.incoming().wait().accept()
    softphone.wait_for_state("in-progress")
    other.hang_up()
    softphone.wait_for_outcome("completed")
    WrapUp(agent_page).wait(app.latest_call()).finish()

    saved = app.call(call["id"])
    assert saved["disposition"] == "complaint" and saved["tags"] == ["vip", "refund"]
    assert saved["notes"] == "Late delivery of order 7781; refund promised"
    assert [c["id"] for c in app.calls(q="order 7781")] == [call["id"]]
    assert [c["id"] for c in app.calls(tag="vip")] == [call["id"]]

    states = [s for s, _ in _states(app, call_center_accounts["agent"])]
    assert states[-4:] == ["ringing", "on-call", "wrap-up", "available"], states

    history = History(agent_page, app).open()
    row = history.row(call)
    assert row.disposition == "complaint" and row.tags == ["vip", "refund"]
    assert row.notes.startswith("Late delivery")
    history.search("order 7781")
    expect(history.rows).to_have_count(1)
    history.search("", tag="refund")
    expect(history.rows).to_have_count(1)
    history.search("")
    history.filter("disposition", "complaint")
    expect(history.rows).to_have_count(1)
    assert history.row(call).disposition == "complaint"
    agent_page.screenshot(path=str(SHOTS / "history-wrapup-ar.png"), full_page=True)
    history.switch_language()
    expect(history.row(call).locator.get_by_test_id("call-disposition")).to_have_text("Complaint")
    agent_page.screenshot(path=str(SHOTS / "history-wrapup-en.png"), full_page=True)
    history.switch_language()

    # the call's detail view: what happened, what it was about (editable), and "add contact"
    detail = history.details(call)
    steps = detail.steps()
    assert steps[0] == "started" and steps[-1] == "ended", steps
    assert [s for s in steps if s in ("queued", "rang", "answered")] == ["queued", "rang", "answered"], steps
    expect(detail.panel.get_by_test_id("detail-disposition")).to_have_value("complaint")
    detail.edit(notes="Late delivery of order 7781; refund sent", tags="vip, refund, sent")
    saved = app.call(call["id"])
    assert saved["notes"] == "Late delivery of order 7781; refund sent" and saved["tags"] == [
        "vip",
        "refund",
        "sent",
    ]
    agent_page.screenshot(path=str(SHOTS / "call-detail-ar.png"), full_page=True)
    detail.close()  # (a dialog: the page behind it waits)
    history.switch_language()
    detail = history.details(call)
    expect(detail.panel.get_by_test_id("detail-step").first).to_contain_text("Call started")
    agent_page.screenshot(path=str(SHOTS / "call-detail-en.png"), full_page=True)
    detail.close()
    history.switch_language()
    detail = history.details(call)
    detail.panel.get_by_test_id("detail-add-contact").click()
    expect(agent_page.get_by_test_id("contact-phone")).to_have_value("+20 100 000 0031")
    agent_page.get_by_test_id("contact-name").fill("Mona Hassan")
    agent_page.get_by_test_id("contact-save").click()
    expect(agent_page.get_by_test_id("contact-row").filter(has_text="Mona Hassan")).to_be_visible()


def test_when_wrap_up_runs_out_the_agent_is_offered_calls_and_the_notes_are_kept(
    app, agent_page, test_phone, call_center_accounts
):
    softphone, phone = Softphone(agent_page, app), test_phone("+201000000033")
    _take_call(softphone, phone)
    call = app.wait_for_call(status="completed", customer_number="+201000000033")
    wrap = WrapUp(agent_page).wait(call)
    wrap.write_notes("asked about prices")
    wrap.wait_until_over(timeout_ms=(WRAPUP_SECONDS + 15) * 1000)  # the server's clock ends it
    expect(agent_page.get_by_test_id("wrapup-over")).to_be_visible()

    # available again: the next customer rings this agent, and the unsaved notes are still there
    phone.call_company()
    softphone.incoming().wait().accept()
    softphone.wait_for_state("in-progress")
    expect(agent_page.get_by_test_id("wrapup-notes")).to_have_value("asked about prices")
    wrap.choose("inquiry")
    wrap.save()
    assert app.call(call["id"])["notes"] == "asked about prices"
    phone.hang_up()
    softphone.wait_for_outcome("completed")
    second = app.latest_call()  # the softphone hears "completed" after the app stored it
    assert second["id"] != call["id"] and second["status"] == "completed"
    WrapUp(agent_page).wait(second).finish()  # the new call's wrap-up replaced the old panel

    # away with a reason: a caller waits; back to available, it rings; the timeline says why
    agent_page.get_by_test_id("availability").select_option("away:meeting")
    expect(agent_page.locator(".availability .status-dot")).to_have_class("status-dot status-away")
    phone.call_company()
    expect(phone.page.get_by_test_id("phone-queue-position")).to_have_attribute("data-position", "1")
    assert _states(app, call_center_accounts["agent"])[-1] == ("away", "meeting")
    agent_page.get_by_test_id("availability").select_option("available")
    softphone.incoming().wait()
    states = _states(app, call_center_accounts["agent"])
    assert states[-3:] == [("away", "meeting"), ("available", None), ("ringing", None)], states
    softphone.incoming().reject()
    phone.hang_up()


def _beeps(rate: int, samples, window: float = 0.1) -> list[int]:  # type: ignore[no-untyped-def]
    """Indexes of the `window`-second stretches that are the notice's tone: loud, and nearly all 1400 Hz."""
    step = int(rate * window)
    found = []
    for i in range(len(samples) // step):
        part = samples[i * step : (i + 1) * step]
        if float((part**2).mean() ** 0.5) > 0.01 and tone_share(part, rate, NOTICE_TONE, width=40) > 0.8:
            found.append(i)
    return found


def test_a_customer_the_agent_calls_hears_the_recording_notice_alone_then_the_agent(
    app, agent_page, test_phone
):
    """RECORDING_NOTICE_OUTBOUND: the local provider has no speech, so the notice is its two 1400 Hz beeps
    (as before the queue's music), heard by the customer alone, in full, as the call starts; then they hear
    the agent. What each page heard is captured from the moment its call's audio arrives."""
    softphone, phone = Softphone(agent_page, app), test_phone("+201000000034")
    softphone.capture_next_call(12)
    softphone.dial("01000000034")
    phone.capture_next_call(10)
    phone.answer()
    softphone.wait_for_state("in-progress")

    rate, heard = phone.captured()
    beeps = _beeps(rate, heard)
    assert beeps, "the customer heard no notice"
    # Two beeps: stretches of tone apart by the notice's half-second gap. The browser's jitter buffer may
    # stretch a beep as the call's audio starts (measured: the first one 0.8 s long, the next 1.3 s after
    # it), or drop a window inside one; it does not fill the gap.
    runs = [i for i in beeps if not {i - 1, i - 2, i - 3} & set(beeps)]  # each beep's first window
    assert len(runs) == 2, beeps
    after = heard[int((beeps[-1] + 6) * 0.1 * rate) :]  # past the notice's closing half second
    assert len(after) > 4 * rate, "the capture ended before the customer heard the agent"
    assert sounds_like(after, rate, agent_voice()) > 0.5, "then the customer hears the agent"
    assert not _beeps(rate, after), "the notice is heard once"

    rate, agent_heard = softphone.captured()
    assert _beeps(rate, agent_heard) == [], "the agent does not hear the notice"
    softphone.hang_up()
    softphone.wait_for_outcome("completed")
    call = app.wait_for_call(status="completed", customer_number="+201000000034")
    assert call["direction"] == "outbound"
    WrapUp(agent_page).wait(call).finish()
