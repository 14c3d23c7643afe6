"""Voicemail on the local provider, in real Chromium: a caller nobody takes (the only agent is on a break,
and the queue's wait runs out) hears the tone and leaves a message; the media server records it; the
message is on the callback list, where the agent plays it in the page and downloads it (signed link, Range);
an admin deletes it by hand with a reason (the history says so, the player goes); the agent calls the
customer back with one click, which closes the item.

The shared app waits QUEUE_MAX_WAIT_SECONDS=10. Everything checked is what the app did: the phone's page,
the callback list, GET /api/calls, the recording's audio."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import expect

from call_center.testing import History, Softphone, channel_matches, customer_voice, recording_of
from call_center.testing.pages import tid

NUMBER = "+201000000071"
SPEAKING_MS = 5000  # how long the caller talks after the tone: the message's length, not a wait for the app
SHOTS = Path("test-results/screens")  # ignored by git
SHOTS.mkdir(parents=True, exist_ok=True)


def test_a_caller_nobody_takes_leaves_a_voicemail_that_is_played_and_called_back(
    app, agent_page, admin_page, test_phone
):
    softphone = Softphone(agent_page, app).wait_registered()
    for page, why in ((agent_page, "away:break"), (admin_page, "away:meeting")):  # logged in: callers wait
        page.get_by_test_id("availability").select_option(why)
        expect(page.get_by_test_id("availability")).to_have_value(why)
    phone = test_phone(NUMBER)
    phone.call_company()
    expect(phone.page.get_by_test_id("phone-queue-position")).to_have_attribute("data-position", "1")

    # the wait runs out: the caller hears the tone, speaks, and hangs up
    phone.wait_for_voicemail()
    phone.page.screenshot(path=str(SHOTS / "phone-voicemail-ar.png"))
    waiting = app.wait_for_call(customer_number=NUMBER, queue_outcome="timeout")
    assert waiting["agent_id"] is None
    assert [s["what"] for s in app.timeline(waiting["id"])] == ["queued", "timeout"]  # nobody was rung
    phone.page.wait_for_timeout(SPEAKING_MS)
    phone.hang_up()
    phone.wait_for_state("ended")
    call = app.wait_for_call(customer_number=NUMBER, status="no-answer")
    assert call["hangup_reason"] == "queue.reason.timeout" and call["wait_seconds"] >= 10

    # the message is the call's recording: the caller's voice, on the customer's channel
    recording = recording_of(app, call)
    assert recording.seconds > 3
    assert channel_matches(recording.channel("customer"), recording.rate, customer_voice()) > 0.5

    # on the callback list: a voicemail with a player and a download
    item = agent_page.locator(f'[data-testid="callback-item"][data-number="{NUMBER}"]')
    expect(item).to_have_attribute("data-reason", "voicemail")
    player = item.get_by_test_id("callback-voicemail")
    duration = player.evaluate(
        "a => new Promise(r => { a.preload = 'auto'; a.muted = true;"
        " a.onloadedmetadata = () => r(a.duration); a.load(); })"
    )
    assert abs(duration - recording.seconds) < 1.0
    played = player.evaluate(
        "a => new Promise(r => { a.ontimeupdate = () => a.currentTime > 0.5 && r(a.currentTime); a.play(); })"
    )
    assert played > 0.5, "the voicemail plays in the page"
    player.evaluate("a => a.pause()")
    href = item.get_by_test_id("callback-voicemail-download").get_attribute("href") or ""
    ranged = httpx.get(app.url + href, headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 100
    whole = httpx.get(app.url + href)
    assert whole.status_code == 200 and whole.content == recording.mp3
    assert "attachment" in whole.headers.get("content-disposition", "")
    agent_page.screenshot(path=str(SHOTS / "callbacks-voicemail-ar.png"), full_page=True)
    softphone.switch_language()
    expect(item).to_contain_text("Left a voicemail")
    agent_page.screenshot(path=str(SHOTS / "callbacks-voicemail-en.png"), full_page=True)
    softphone.switch_language()

    # an admin deletes the message by hand: a reason is required (and audited); the history says so, and
    # the item stays on the list without its player
    history = History(admin_page).open()
    detail = history.details(call)
    tid(detail.panel, "detail-delete-recording").click()
    expect(tid(detail.panel, "detail-message")).to_contain_text("3")  # say why, at least 3 characters
    admin_page.screenshot(path=str(SHOTS / "detail-delete-recording-ar.png"))
    detail.delete_recording("The customer asked us to delete it")
    detail.close()
    history.switch_language()
    detail = history.details(call)
    expect(tid(detail.panel, "call-recording-status")).to_contain_text("Recording deleted by an admin")
    admin_page.screenshot(path=str(SHOTS / "detail-recording-deleted-en.png"))
    detail.close()
    history.switch_language()
    expect(item.get_by_test_id("callback-voicemail")).to_have_count(0)
    expect(item).to_have_attribute("data-reason", "voicemail")
    assert httpx.get(app.url + href).status_code == 404

    # the agent is back and calls the customer back from the item; once that call is over the item closes
    agent_page.get_by_test_id("availability").select_option("available")
    item.get_by_test_id("callback-call").click()
    phone.wait_for_state("incoming")
    phone.answer()
    softphone.wait_for_state("in-progress")
    softphone.hang_up()
    softphone.wait_for_outcome("completed")
    expect(item).to_have_count(0)
    admin_page.get_by_test_id("availability").select_option("available")  # as the shared app had it
    expect(admin_page.get_by_test_id("availability")).to_have_value("available")
