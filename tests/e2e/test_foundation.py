"""The app shell in a real browser: login, refusal, redirects, language and direction, agent admin."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import log_in


def test_anonymous_page_visit_goes_to_login(app, new_page):
    page = new_page()
    page.goto(f"{app.url}/history")
    expect(page).to_have_url(re.compile(r"/login/?\?next=/history$"))
    expect(page.get_by_role("heading", name="تسجيل الدخول")).to_be_visible()
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "ar"


def test_anonymous_api_calls_get_401(app):
    for path in ("/api/calls", "/api/calls/token", "/api/auth/me"):
        assert httpx.get(f"{app.url}{path}").status_code == 401, path
    assert httpx.get(f"{app.url}/api/health").status_code == 200


def test_wrong_password_is_refused_with_a_clear_message(app, new_page):
    page = new_page()
    page.goto(f"{app.url}/login")
    page.get_by_label("البريد الإلكتروني").fill("admin@almasar.test")
    page.get_by_label("كلمة المرور").fill("not-the-password")
    page.get_by_role("button", name="دخول").click()
    expect(page.get_by_role("alert")).to_have_text("البريد الإلكتروني أو كلمة المرور غير صحيحة.")
    expect(page.get_by_label("البريد الإلكتروني")).to_have_value("admin@almasar.test")
    assert "cc_session" not in {c["name"] for c in page.context.cookies()}


def test_login_then_language_switch_flips_direction_and_is_remembered(app, new_page):
    page = new_page()
    log_in(page, app)
    expect(page).to_have_url(re.compile(r"/call-center/?$"))
    expect(page.get_by_role("heading", name="مركز الاتصال", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.dir") == "rtl"
    cookie = next(c for c in page.context.cookies() if c["name"] == "cc_session")
    assert cookie["httpOnly"] and not page.evaluate("document.cookie").count("cc_session")

    page.get_by_role("button", name="التبديل إلى الإنجليزية").click()
    expect(page.get_by_role("heading", name="Call center", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.dir") == "ltr"
    assert page.locator(".app").get_attribute("dir") == "ltr"

    # remembered per agent: a new browser logging in as the same agent gets English
    other = new_page()
    log_in(other, app)
    expect(other.get_by_role("heading", name="Call center", exact=True)).to_be_visible()
    assert other.evaluate("document.documentElement.dir") == "ltr"
    other.get_by_role("button", name="Switch to Arabic").click()
    expect(other.get_by_role("heading", name="مركز الاتصال", exact=True)).to_be_visible()
    assert other.evaluate("document.documentElement.dir") == "rtl"


def test_admin_adds_and_disables_an_agent(app, new_page):
    admin = new_page()
    log_in(admin, app, path="/settings")
    admin.goto(f"{app.url}/settings")
    admin.get_by_role("button", name="إضافة موظف").click()
    admin.get_by_label("الاسم").fill("منى علي")
    admin.get_by_label("البريد الإلكتروني").fill("mona@almasar.test")
    admin.get_by_label("كلمة المرور").fill("mona-password-1")
    admin.get_by_role("button", name="حفظ").click()
    row = admin.get_by_role("row").filter(has_text="mona@almasar.test")
    expect(row).to_contain_text("منى علي")
    expect(row).to_contain_text("مفعل")

    agent = new_page()
    log_in(agent, app, email="mona@almasar.test", password="mona-password-1")
    expect(agent.get_by_text("منى علي")).to_be_visible()
    # an agent (not admin) has no Settings in the navigation, and the page sends them back
    nav = agent.get_by_role("navigation")
    expect(nav.get_by_role("link", name="حسابي")).to_be_visible()
    expect(nav.get_by_role("link", name="الإعدادات")).to_have_count(0)
    agent.goto(f"{app.url}/settings")
    expect(agent).to_have_url(re.compile(r"/call-center/?$"))
    cookies = {c["name"]: c["value"] for c in agent.context.cookies()}

    admin.get_by_role("button", name="تعطيل منى علي").click()
    expect(row).to_contain_text("معطل")
    # disabling ends the agent's sessions: the API refuses them and the open page is signed out by itself
    assert httpx.get(f"{app.url}/api/calls", cookies=cookies).status_code == 401
    expect(agent).to_have_url(re.compile(r"/login"))
    expect(agent.get_by_role("alert")).to_contain_text("انتهت الجلسة")


def test_logout_returns_to_login(app, new_page):
    page = new_page()
    log_in(page, app)
    page.get_by_role("button", name="تسجيل الخروج").click()
    expect(page.get_by_role("status")).to_have_text("تم تسجيل الخروج.")
    page.goto(f"{app.url}/call-center")
    expect(page).to_have_url(re.compile(r"/login"))


def test_changing_my_password_signs_out_my_other_browsers_at_once(app, new_page):
    admin = new_page()
    log_in(admin, app, path="/settings")
    admin.get_by_role("button", name="إضافة موظف").click()
    admin.get_by_label("الاسم").fill("سارة")
    admin.get_by_label("البريد الإلكتروني").fill("sara@almasar.test")
    admin.get_by_label("كلمة المرور").fill("sara-password-1")
    admin.get_by_role("button", name="حفظ").click()
    expect(admin.get_by_role("row").filter(has_text="sara@almasar.test")).to_be_visible()

    laptop, phone = new_page(), new_page()
    log_in(laptop, app, email="sara@almasar.test", password="sara-password-1", path="/account")
    log_in(phone, app, email="sara@almasar.test", password="sara-password-1", path="/history")
    laptop.get_by_label("كلمة المرور الحالية").fill("wrong-password-0")
    laptop.get_by_label("كلمة المرور الجديدة", exact=True).fill("sara-new-password-2")
    laptop.get_by_label("أعد كتابة كلمة المرور الجديدة").fill("sara-new-password-2")
    laptop.get_by_role("button", name="تغيير كلمة المرور").click()
    expect(laptop.get_by_role("alert")).to_have_text("كلمة المرور الحالية غير صحيحة.")

    laptop.get_by_label("كلمة المرور الحالية").fill("sara-password-1")
    laptop.get_by_label("كلمة المرور الجديدة", exact=True).fill("sara-new-password-2")
    laptop.get_by_label("أعد كتابة كلمة المرور الجديدة").fill("sara-new-password-2")
    laptop.get_by_role("button", name="تغيير كلمة المرور").click()
    expect(laptop.get_by_role("status")).to_contain_text("تم تغيير كلمة المرور")
    expect(phone).to_have_url(re.compile(r"/login"))  # the other browser, without touching it
    laptop.goto(f"{app.url}/history")
    expect(laptop).to_have_url(re.compile(r"/history"))  # this one stays signed in
