"""The agent's working day in a real browser: dialer, in-call controls, live history, player and download."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.helpers import PHONE, agent_on, dial, heard, phone_on, ready_recording
from tests.support import appdb
from tests.support.server import ROOT


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
    expect(page.get_by_role("button", name="اتصال", exact=True)).to_be_disabled()
    # the dialpad types too
    number.fill("")
    for key in "0100":
        page.get_by_role("group", name="لوحة الأرقام").get_by_role("button", name=key, exact=True).click()
    expect(number).to_have_value("0100")


def test_a_full_call_with_controls_live_history_player_and_download(app, launch, new_page, voices):
    watcher = new_page()  # a second agent page, already open on the history
    log_in(watcher, app, path="/history")
    before = watcher.locator("tbody tr").count()

    agent = agent_on(new_page(launch(voices["agent"])), app)
    phone = phone_on(new_page(launch(voices["customer"])), app)
    dial(agent, PHONE)
    # the new call shows up live on the other page (no reload): first ringing, then in progress
    expect(watcher.locator("tbody tr")).to_have_count(before + 1, timeout=5000)
    expect(watcher.locator("tbody tr").first).to_contain_text("+20 100 000 0001")

    phone.get_by_role("button", name="رد").click()
    expect(agent.locator("#call-state")).to_have_text("مكالمة جارية", timeout=10000)
    expect(watcher.locator("tbody tr").first).to_contain_text("جارية")
    assert heard(phone, 2) > 0.01

    # mute: the customer stops hearing the agent, then hears again
    agent.get_by_role("button", name="كتم الصوت").click()
    expect(agent.get_by_role("button", name="إلغاء الكتم")).to_have_attribute("aria-pressed", "true")
    agent.wait_for_timeout(1200)
    assert heard(phone, 2) < 0.005, "muted: nothing reaches the customer"
    agent.get_by_role("button", name="إلغاء الكتم").click()
    assert heard(phone, 3) > 0.01

    # DTMF digits reach the other side
    agent.get_by_role("button", name="لوحة النغمات").click()
    keypad = agent.get_by_role("group", name="لوحة النغمات")
    for key in ("4", "2", "#"):
        keypad.get_by_role("button", name=key, exact=True).click()
    expect(phone.locator("#sim-digits-received")).to_have_text("42#")
    expect(agent.locator("#digits-sent")).to_have_text("42#")

    # hold: on hold the customer no longer hears the agent's voice (hold tone instead); resume brings it back
    agent.get_by_role("button", name="انتظار").click()
    expect(agent.locator("#call-state")).to_have_text("في الانتظار")
    agent.get_by_role("button", name="استئناف").click()
    expect(agent.locator("#call-state")).to_have_text("مكالمة جارية")
    assert heard(phone, 3) > 0.01

    agent.get_by_role("button", name="إنهاء المكالمة").click()
    expect(phone.get_by_text("انتهت المكالمة")).to_be_visible(timeout=10000)
    call = appdb.latest_call(app)
    recording = ready_recording(app, call["id"])
    assert recording["status"] == "ready"

    # the recording appears on the open history page by itself, with a player and a download
    row = watcher.locator(f'tr[data-call-id="{call["id"]}"]')
    expect(row.locator("audio")).to_have_count(1, timeout=5000)
    expect(row).to_contain_text("مكتملة")
    audio = row.locator("audio")
    duration = audio.evaluate(
        "a => new Promise(r => { a.preload = 'auto'; a.muted = true;"
        " a.onloadedmetadata = () => r(a.duration); a.load(); })"
    )
    assert abs(duration - recording["duration_seconds"]) < 1.0
    position = audio.evaluate(
        "a => new Promise(r => { a.onseeked = () => r(a.currentTime); a.currentTime = a.duration / 2; })"
    )
    assert abs(position - duration / 2) < 0.5, "seeking works (the server answers Range requests)"

    with watcher.expect_download() as info:
        row.get_by_role("link", name="تنزيل التسجيل").click()
    download = info.value
    assert re.fullmatch(r"call-\d{4}-\d{2}-\d{2}-\d{4}-\+201000000001\.mp3", download.suggested_filename)
    stored = (app.data_dir.resolve() / "recordings" / recording["storage_key"]).read_bytes()
    assert Path(download.path()).read_bytes() == stored

    # nobody else gets it: no session -> 401, another agent -> 403; the admin who made the call -> 200
    url = f"{app.url}/api/recordings/{recording['id']}.mp3"
    assert httpx.get(url).status_code == 401
    admin_cookies = {c["name"]: c["value"] for c in agent.context.cookies()}
    assert httpx.get(url, cookies=admin_cookies).status_code == 200
    other = _new_agent(app, "other-agent@almasar.test")
    assert httpx.get(url, cookies=other).status_code == 403


def _new_agent(app, email: str, password: str = "other-password-1") -> dict[str, str]:
    """An agent created by the app's own command, logged in through the API; its cookies."""
    subprocess.run(
        [sys.executable, "-m", "call_center", "create-agent", "--email", email, "--name", "Other",
         "--password", password],
        cwd=ROOT, env=app.env, check=True, capture_output=True,
    )  # fmt: skip
    response = httpx.post(
        f"{app.url}/api/auth/login", json={"email": email, "password": password}, headers={"Origin": app.url}
    )
    return {"cc_session": response.cookies["cc_session"]}


def test_contacts_click_to_call_and_names_in_history(app, launch, new_page, voices):
    agent = agent_on(new_page(launch(voices["agent"])), app)
    phone = phone_on(new_page(launch(voices["customer"])), app, "+201000000003")
    agent.get_by_role("link", name="جهات الاتصال").click()
    agent.get_by_role("button", name="إضافة جهة اتصال").click()
    agent.get_by_label("الاسم").fill("شركة النيل للتوريدات")
    agent.get_by_label("رقم الهاتف").fill("01000000003")
    agent.get_by_label("ملاحظات").fill("عميل منذ 2019")
    agent.get_by_role("button", name="حفظ").click()
    row = agent.get_by_role("row").filter(has_text="شركة النيل للتوريدات")
    expect(row).to_contain_text("+20 100 000 0003")

    row.get_by_role("button", name="اتصال شركة النيل للتوريدات").click()
    expect(phone.get_by_text("مكالمة من")).to_be_visible(timeout=10000)
    expect(agent.locator(".remote-name")).to_have_text("شركة النيل للتوريدات")
    phone.get_by_role("button", name="رفض").click()
    expect(agent.locator("#call-outcome")).to_be_visible(timeout=10000)
    agent.get_by_role("link", name="سجل المكالمات").click()
    expect(agent.locator("tbody tr").first).to_contain_text("شركة النيل للتوريدات")
    expect(agent.locator("tbody tr").first).to_contain_text("مشغول")

    # the history searches by name and number, and filters by status
    agent.get_by_label("بحث بالرقم أو الاسم").fill("النيل")
    agent.get_by_role("button", name="بحث").click()
    expect(agent.locator("tbody tr")).to_have_count(1)
    agent.get_by_label("الحالة", exact=True).select_option("completed")
    expect(agent.get_by_text("لا توجد مكالمات تطابق التصفية.")).to_be_visible()
    agent.get_by_role("button", name="مسح التصفية").click()
    expect(agent.locator("tbody tr").first).to_be_visible()


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
