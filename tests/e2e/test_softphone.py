"""The agent's working day in a real browser: dialer, in-call controls, live history, player and download."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import expect

from call_center.testing import Contacts, History, HistoryRow, Softphone, recording_of
from tests.e2e.conftest import log_in
from tests.e2e.helpers import PHONE


def test_number_validation_and_formatting(app, new_page):
    page = new_page()
    log_in(page, app)
    number = page.get_by_label("رقم العميل")
    number.fill("01001234567")
    expect(page.locator("#number-feedback")).to_have_text("+20 100 123 4567")
    expect(page.get_by_role("button", name="اتصال", exact=True)).to_be_enabled(timeout=15000)
    number.fill("0100")
    expect(page.get_by_role("alert").filter(has_text="رقم غير صالح")).to_be_visible()
    expect(page.get_by_role("button", name="اتصال", exact=True)).to_be_disabled()
    number.fill("+447911123456")  # a UK mobile: valid, but not in ALLOWED_COUNTRIES (EG)
    expect(page.get_by_role("alert")).to_have_text("الاتصال بهذه الدولة غير مسموح.")
    # a refusal of policy can still be "called": the attempt is kept as a failed call with its reason
    page.get_by_role("button", name="اتصال", exact=True).click()
    refused = app.wait_for_call(customer_number="+447911123456")
    assert refused["status"] == "failed" and refused["hangup_reason"] == "dial.error.country"
    # the dialpad types too
    number.fill("")
    for key in "0100":
        page.get_by_role("group", name="لوحة الأرقام").get_by_role("button", name=key, exact=True).click()
    expect(number).to_have_value("0100")


def test_a_full_call_with_controls_live_history_player_and_download(app, agent_page, test_phone, new_page):
    watcher = History(new_page(), app)  # an admin page, already open on the history
    log_in(watcher.page, app, path="/history")
    before = watcher.rows.count()

    softphone, phone = Softphone(agent_page, app), test_phone(PHONE)
    softphone.dial(PHONE)
    # the new call shows up live on the other page (no reload): first ringing, then in progress
    expect(watcher.rows).to_have_count(before + 1)
    expect(watcher.rows.first).to_contain_text("+20 100 000 0001")

    phone.answer()
    softphone.wait_for_state("in-progress")
    expect(agent_page.locator("#call-state")).to_have_text("مكالمة جارية")
    watcher_row = HistoryRow(watcher.rows.first).wait_for_status("in-progress")
    expect(watcher_row.locator).to_contain_text("جارية")
    assert phone.heard(2) > 0.01

    # mute: the customer stops hearing the agent, then hears again
    agent_page.get_by_role("button", name="كتم الصوت").click()
    expect(agent_page.get_by_role("button", name="إلغاء الكتم")).to_have_attribute("aria-pressed", "true")
    agent_page.wait_for_timeout(1200)  # let what was already on its way drain
    assert phone.heard(2) < 0.005, "muted: nothing reaches the customer"
    agent_page.get_by_role("button", name="إلغاء الكتم").click()
    assert phone.heard(3) > 0.01

    # DTMF digits reach the other side
    softphone.send_digits("42#")
    expect(phone.page.locator('[data-testid="phone-digits-received"]')).to_have_text("42#")
    expect(agent_page.locator("#digits-sent")).to_have_text("42#")
    expect(agent_page.get_by_role("group", name="لوحة النغمات")).to_be_visible()

    # hold: on hold the customer no longer hears the agent's voice (hold tone instead); resume brings it back
    agent_page.get_by_role("button", name="انتظار").click()
    softphone.wait_for_state("on-hold")
    expect(agent_page.locator("#call-state")).to_have_text("في الانتظار")
    agent_page.get_by_role("button", name="استئناف").click()
    softphone.wait_for_state("in-progress")
    assert phone.heard(3) > 0.01

    softphone.hang_up()
    phone.wait_for_state("ended")
    call = app.latest_call()
    recording = recording_of(app, call)

    # the recording appears on the open history page by itself, with a player and a download
    row = watcher.row(call).wait_for_recording()
    row.wait_for_status("completed")
    expect(row.locator).to_contain_text("مكتملة")
    duration = row.recording.evaluate(
        "a => new Promise(r => { a.preload = 'auto'; a.muted = true;"
        " a.onloadedmetadata = () => r(a.duration); a.load(); })"
    )
    assert abs(duration - recording.seconds) < 1.0
    position = row.recording.evaluate(
        "a => new Promise(r => { a.onseeked = () => r(a.currentTime); a.currentTime = a.duration / 2; })"
    )
    assert abs(position - duration / 2) < 0.5, "seeking works (the server answers Range requests)"

    with watcher.page.expect_download() as info:
        row.locator.get_by_role("link", name="تنزيل التسجيل").click()
    download = info.value
    assert re.fullmatch(r"call-\d{4}-\d{2}-\d{2}-\d{4}-\+201000000001\.mp3", download.suggested_filename)
    assert Path(download.path()).read_bytes() == recording.mp3

    # nobody else gets it: no session -> 401, another agent -> 403; the agent who made the call -> 200
    url = f"{app.url}/api/recordings/{recording.id}.mp3"
    assert httpx.get(url).status_code == 401
    mine = {c["name"]: c["value"] for c in agent_page.context.cookies()}
    assert httpx.get(url, cookies=mine).status_code == 200
    other = app.create_agent("other-agent@almasar.test", "Other", "other-password-1")
    assert httpx.get(url, cookies=app.login(other.email, other.password)).status_code == 403


def test_contacts_click_to_call_and_names_in_history(app, agent_page, test_phone):
    phone = test_phone("+201000000003")
    contacts = Contacts(agent_page, app)
    contacts.open()
    agent_page.get_by_role("button", name="إضافة جهة اتصال").click()
    agent_page.get_by_label("الاسم").fill("شركة النيل للتوريدات")
    agent_page.get_by_label("رقم الهاتف").fill("01000000003")
    agent_page.get_by_label("ملاحظات").fill("عميل منذ 2019")
    agent_page.get_by_role("button", name="حفظ").click()
    expect(contacts.row("شركة النيل للتوريدات")).to_contain_text("+20 100 000 0003")
    expect(agent_page.get_by_role("button", name="اتصال شركة النيل للتوريدات")).to_be_visible()

    softphone = contacts.call("شركة النيل للتوريدات")
    phone.wait_for_state("incoming")
    expect(agent_page.locator('[data-testid="call-remote-name"]')).to_have_text("شركة النيل للتوريدات")
    phone.reject()
    softphone.wait_for_outcome("busy")
    softphone.go("history")
    history = History(agent_page, app)
    expect(history.rows.first).to_contain_text("شركة النيل للتوريدات")
    expect(history.rows.first).to_have_attribute("data-status", "busy")
    expect(history.rows.first).to_contain_text("مشغول")

    # the history searches by name and number, and filters by status
    history.search("النيل")
    expect(history.rows).to_have_count(1)
    agent_page.get_by_label("الحالة", exact=True).select_option("completed")
    expect(agent_page.get_by_text("لا توجد مكالمات تطابق التصفية.")).to_be_visible()
    agent_page.get_by_role("button", name="مسح التصفية").click()
    expect(history.rows.first).to_be_visible()

    # what the call was about, set from the history, shows on the contact's page with their calls
    call = app.latest_call()
    detail = history.details(call)
    detail.edit(disposition="call-back-later", notes="يفضل الاتصال بعد الظهر")
    detail.close()
    contacts.open()
    calls = contacts.calls("شركة النيل للتوريدات")
    expect(calls).to_have_count(1)
    expect(calls.first).to_have_attribute("data-call-id", str(call["id"]))
    expect(calls.first).to_contain_text("مشغول")
    expect(calls.first.get_by_test_id("contact-call-disposition")).to_have_text("معاودة الاتصال لاحقًا")
    expect(calls.first.get_by_test_id("contact-call-notes")).to_have_text("يفضل الاتصال بعد الظهر")
    agent_page.screenshot(path="test-results/screens/contact-calls-ar.png", full_page=True)
    softphone.switch_language()
    expect(calls.first.get_by_test_id("contact-call-disposition")).to_have_text("Call back later")
    agent_page.screenshot(path="test-results/screens/contact-calls-en.png", full_page=True)
    softphone.switch_language()


def test_english_ui_mirrors_to_ltr(app, new_page):
    page = new_page()
    log_in(page, app, path="/history")
    page.get_by_role("button", name="التبديل إلى الإنجليزية").click()
    expect(page.get_by_role("heading", name="Call history")).to_be_visible()
    assert page.evaluate("document.documentElement.dir") == "ltr"
    page.get_by_role("link", name="Call center").click()
    expect(page.get_by_label("Customer number")).to_be_visible()
    page.get_by_role("button", name="Switch to Arabic").click()
    expect(page.get_by_label("رقم العميل")).to_be_visible()
