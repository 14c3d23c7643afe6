"""The inbound queue in real Chromium on the local provider, with the production strategy (longest-idle):

- three callers queue while the only agent is busy, and each sees its place in line; one hangs up and is
  recorded as abandoned with its wait, and shows up on the callback list; the others move up; the agent
  frees up and gets the caller who waited longest, and later calls the one who gave up back from the
  list, which closes the item;
- across two agents (Hoda, then Omar), the one available longest is rung first, alone; one who lets the
  call ring out is skipped, the next one rung, and after QUEUE_MAX_MISSES misses in a row they are set to
  away with a notice on their screen.

Everything checked is what the app did: the phones' pages, the softphones, GET /api/calls and the call's
timeline (queued, rang, missed, answered...)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from call_center.testing import (
    History,
    QueuesAdmin,
    Softphone,
    WrapUp,
    agent_voice,
    colleague_voice,
    log_in,
)
from call_center.testing.server import ADMIN_EMAIL, ADMIN_PASSWORD, Account, DisposableApp, start_app
from tests.support import appdb

RING_SECONDS = 8
SALES = "+20225550100"  # a second inbound number, mapped to the Sales queue by the admin
SHOTS = Path("test-results/screens")  # ignored by git
SHOTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="module")
def call_center_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DisposableApp]:
    app = start_app(
        tmp_path_factory.mktemp("queue-app") / "data",
        {
            "QUEUE_STRATEGY": "longest-idle",
            "QUEUE_RING_SECONDS": str(RING_SECONDS),
            "QUEUE_MAX_MISSES": "2",
            "QUEUE_ANNOUNCE_SECONDS": "10",
            "WRAPUP_SECONDS": "30",
        },
    )
    yield app
    app.stop()


@pytest.fixture(scope="module")
def call_center_accounts(call_center_app: DisposableApp) -> dict[str, Account]:
    return {
        "admin": Account(ADMIN_EMAIL, ADMIN_PASSWORD, "admin"),
        "agent": call_center_app.create_agent("sara@almasar.test", "Sara Agent", "sara-password-1"),
        "second": call_center_app.create_agent("hoda@almasar.test", "Hoda Agent", "hoda-password-1"),
        "colleague": call_center_app.create_agent("omar@almasar.test", "Omar Colleague", "omar-password-1"),
    }


@pytest.fixture(scope="module")
def app(call_center_app: DisposableApp) -> DisposableApp:
    return call_center_app


def _position(phone) -> object:
    return phone.page.get_by_test_id("phone-queue-position")


def _steps(app: DisposableApp, call_id: int) -> list[tuple[str, int | None]]:
    return [(s["what"], s.get("agent_id")) for s in app.timeline(call_id)]


def test_callers_queue_hear_their_place_and_the_longest_waiting_is_served_first(
    app, agent_page, test_phone, call_center_accounts
):
    softphone = Softphone(agent_page, app)
    first = test_phone("+201000000041")
    first.call_company()
    softphone.incoming().wait().accept()
    softphone.wait_for_state("in-progress")

    # the agent is busy: three callers queue, in the order they called
    waiting = [test_phone(f"+20100000004{n}") for n in (2, 3, 4)]
    for place, phone in enumerate(waiting, start=1):
        phone.call_company()
        expect(_position(phone)).to_have_attribute("data-position", str(place))
    waiting[0].page.screenshot(path=str(SHOTS / "phone-queued-ar.png"), full_page=True)
    expect(agent_page.get_by_test_id("incoming-call")).to_have_count(0)

    # the second in line gives up: abandoned, with the wait; the third moves up
    waiting[1].hang_up()
    abandoned = app.wait_for_call(customer_number="+201000000043", queue_outcome="abandoned")
    assert abandoned["agent_id"] is None and abandoned["wait_seconds"] is not None
    assert [w for w, _ in _steps(app, abandoned["id"])] == ["queued", "abandoned"]
    expect(_position(waiting[2])).to_have_attribute("data-position", "2")
    expect(_position(waiting[0])).to_have_attribute("data-position", "1")
    # ... and is on the agents' callback list (live, without a reload)
    item = agent_page.locator('[data-testid="callback-item"][data-number="+201000000043"]')
    expect(item).to_have_attribute("data-reason", "abandoned")

    # the agent finishes the call and its wrap-up: the caller who waited longest rings them
    first.hang_up()
    softphone.wait_for_outcome("completed")
    WrapUp(agent_page).wait().finish()
    incoming = softphone.incoming().wait()
    assert "+20 100 000 0042" in incoming.caller
    incoming.accept()
    softphone.wait_for_state("in-progress")
    waiting[0].wait_for_state("in-progress")
    expect(_position(waiting[2])).to_have_attribute("data-position", "1")
    served = app.wait_for_call(customer_number="+201000000042", status="in-progress")
    assert served["queue_outcome"] == "answered" and served["wait_seconds"] >= 0
    me = served["agent_id"]
    assert [s for s in _steps(app, served["id"]) if s[0] != "queued"] == [("rang", me), ("answered", me)]
    waiting[0].hang_up()
    softphone.wait_for_outcome("completed")
    waiting[2].hang_up()
    WrapUp(agent_page).wait().finish()

    # the agent calls the one who gave up back, from the list; the item closes once the call is over
    third = agent_page.locator('[data-testid="callback-item"][data-number="+201000000044"]')
    expect(third).to_have_attribute("data-reason", "abandoned")
    agent_page.screenshot(path=str(SHOTS / "callbacks-ar.png"), full_page=True)
    softphone.switch_language()
    agent_page.screenshot(path=str(SHOTS / "callbacks-en.png"), full_page=True)
    softphone.switch_language()
    item.get_by_test_id("callback-call").click()
    waiting[1].answer()
    softphone.wait_for_state("in-progress")
    expect(item).to_have_attribute("data-status", "claimed")
    waiting[1].hang_up()
    softphone.wait_for_outcome("completed")
    expect(item).to_have_count(0)
    back = app.latest_call()
    assert back["direction"] == "outbound" and back["customer_number"] == "+201000000043"
    WrapUp(agent_page).wait(back).finish()
    # the history says the served call waited in the queue
    row = History(agent_page, app).open().row(served)
    expect(row.locator.get_by_test_id("call-queue")).to_have_attribute("data-outcome", "answered")
    expect(row.locator.get_by_test_id("call-queue-name")).to_have_text("قائمة الانتظار العامة")


def _signed_in(new_page, open_browser, app, account, voice) -> Page:  # type: ignore[no-untyped-def]
    page = log_in(new_page(open_browser(voice)), app, account)
    Softphone(page, app).wait_registered()
    return page


def test_longest_idle_rings_one_agent_skips_one_who_lets_it_ring_out_and_sets_them_away(
    app, new_page, open_browser, test_phone, call_center_accounts
):
    # two agents of their own (the first test's agent may still be wrapping up if it failed)
    agent_page = _signed_in(new_page, open_browser, app, call_center_accounts["second"], agent_voice())
    colleague_page = _signed_in(
        new_page, open_browser, app, call_center_accounts["colleague"], colleague_voice()
    )
    sara, omar = Softphone(agent_page, app), Softphone(colleague_page, app)
    # Sara has been available longer than Omar: Omar comes back from a break now
    colleague_page.get_by_test_id("availability").select_option("away:break")
    colleague_page.get_by_test_id("availability").select_option("available")
    expect(colleague_page.locator(".availability .status-dot")).to_have_class("status-dot status-available")

    phone = test_phone("+201000000051")
    phone.call_company()
    sara.incoming().wait()  # only Sara rings ...
    expect(colleague_page.get_by_test_id("incoming-call")).to_have_count(0)
    # ... she lets it ring out (QUEUE_RING_SECONDS): Omar is rung next and answers
    ring = omar.incoming().wait()
    expect(agent_page.get_by_test_id("incoming-call")).to_have_count(0)
    sara.wait_for_notice("call.notice.missed")
    ring.accept()
    omar.wait_for_state("in-progress")
    call = app.wait_for_call(customer_number="+201000000051", status="in-progress")
    sara_id = next(s for s in app.timeline(call["id"]) if s["what"] == "missed")["agent_id"]
    omar_id = call["agent_id"]
    assert sara_id != omar_id
    assert [s for s in _steps(app, call["id"]) if s[0] != "queued"] == [
        ("rang", sara_id), ("missed", sara_id), ("rang", omar_id), ("answered", omar_id),
    ]  # fmt: skip

    # Omar is busy: a second caller rings Sara alone; a second miss in a row sets her away, with a notice
    second = test_phone("+201000000052")
    second.call_company()
    sara.incoming().wait()
    expect(agent_page.get_by_test_id("away-notice")).to_be_visible(timeout=(RING_SECONDS + 15) * 1000)
    expect(agent_page.get_by_test_id("availability")).to_have_value("away:missed")
    agent_page.screenshot(path=str(SHOTS / "away-missed-ar.png"), full_page=True)
    expect(_position(second)).to_have_attribute("data-position", "1")  # still waiting, nobody to ring

    # Omar finishes: the waiting caller rings him
    phone.hang_up()
    omar.wait_for_outcome("completed")
    WrapUp(colleague_page).wait().finish()
    omar.incoming().wait().accept()
    second.wait_for_state("in-progress")
    second.hang_up()
    omar.wait_for_outcome("completed")
    WrapUp(colleague_page).wait().finish()  # (the next test needs Omar available)
    # Sara is back: choosing Available clears the notice
    agent_page.get_by_test_id("availability").select_option("available")
    expect(agent_page.get_by_test_id("away-notice")).to_have_count(0)


def _closed_now() -> list[str]:
    """Opening hours that are closed now whatever the day: one minute, two hours from now (Cairo time)."""
    start = datetime.now(ZoneInfo("Africa/Cairo")).replace(second=0, microsecond=0) + timedelta(hours=2)
    return [f"{start:%H:%M}-{start + timedelta(minutes=1):%H:%M}"] * 7


def test_an_admin_sets_up_a_queue_whose_number_rings_only_its_members_and_closes_outside_its_hours(
    app, admin_page, new_page, open_browser, test_phone, call_center_accounts
):
    """A new queue, from the admin's page: its own number, members, routing and wrap-up time; a call to
    that number rings only its member; outside its hours the caller hears the closed message and becomes a
    callback."""
    admin = QueuesAdmin(admin_page, app).open()
    assert admin.codes() == ["default"]
    admin.save(
        name_ar="المبيعات", name_en="Sales", strategy="ring-all", wrapup_seconds="0", numbers="02 2555 0100",
        members=["Omar Colleague"],
    )  # fmt: skip
    row = admin.row("sales")
    expect(row).to_contain_text("Omar Colleague")
    expect(row).to_contain_text("2555")
    admin_page.screenshot(path=str(SHOTS / "settings-queues-ar.png"), full_page=True)
    Softphone(admin_page, app).switch_language()
    admin_page.screenshot(path=str(SHOTS / "settings-queues-en.png"), full_page=True)
    Softphone(admin_page, app).switch_language()

    hoda_page = _signed_in(new_page, open_browser, app, call_center_accounts["second"], agent_voice())
    omar_page = _signed_in(new_page, open_browser, app, call_center_accounts["colleague"], colleague_voice())
    omar = Softphone(omar_page, app)
    phone = test_phone("+201000000061")  # (opened after the number was mapped: it offers it)
    phone.call_company(SALES)
    ring = omar.incoming().wait()
    for other in (hoda_page, admin_page):  # both available, neither a member: ring-all rings Omar alone
        expect(other.get_by_test_id("incoming-call")).to_have_count(0)
    ring.accept()
    omar.wait_for_state("in-progress")
    phone.wait_for_state("in-progress")
    call = app.wait_for_call(customer_number="+201000000061", status="in-progress")
    assert call["to_number"] == SALES and call["queue_outcome"] == "answered"
    assert [s for s in _steps(app, call["id"]) if s[0] != "queued"] == [
        ("rang", call["agent_id"]), ("answered", call["agent_id"]),
    ]  # fmt: skip
    phone.hang_up()
    omar.wait_for_outcome("completed")
    app.wait_for_call(customer_number="+201000000061", status="completed")
    spans = appdb.rows(
        app,
        "SELECT state FROM agent_state_span WHERE agent_id = ? AND call_id = ?",
        call["agent_id"],
        call["id"],
    )
    assert "wrap-up" not in {s["state"] for s in spans}  # the queue's own wrap-up time is 0 (the app's: 30)
    expect(WrapUp(omar_page).panel).to_have_count(0)

    # Outside its hours: the caller hears the closed tone, sees the queue's closed message, is called back
    admin.open()
    admin.row("sales").get_by_test_id("queue-edit").click()
    form = admin_page.get_by_test_id("queue-form")
    expect(form.get_by_test_id("queue-form-name-en")).to_have_value("Sales")
    form.screenshot(path=str(SHOTS / "settings-queue-form-ar.png"))
    Softphone(admin_page, app).switch_language()
    form.screenshot(path=str(SHOTS / "settings-queue-form-en.png"))
    Softphone(admin_page, app).switch_language()
    admin.save(
        "sales",
        hours=_closed_now(),
        closed_message_ar="قسم المبيعات مغلق الآن",
        closed_message_en="Sales is closed",
    )
    expect(admin.row("sales").get_by_test_id("queue-open")).to_have_attribute("data-open", "false")
    caller = test_phone("+201000000062")
    caller.call_company(SALES)
    expect(caller.page.get_by_test_id("phone-closed")).to_contain_text("قسم المبيعات مغلق الآن")
    caller.page.screenshot(path=str(SHOTS / "phone-closed-ar.png"), full_page=True)
    caller.wait_for_state("ended")
    closed = app.wait_for_call(customer_number="+201000000062", status="no-answer")
    assert (closed["queue_outcome"], closed["hangup_reason"]) == ("closed", "queue.reason.closed")
    expect(omar_page.get_by_test_id("incoming-call")).to_have_count(0)
    item = omar_page.locator('[data-testid="callback-item"][data-number="+201000000062"]')
    expect(item).to_be_visible()
    history = History(admin_page, app).open()  # (an agent's history lists the calls they took)
    expect(history.row(closed).locator.get_by_test_id("call-queue")).to_have_attribute(
        "data-outcome", "closed"
    )
    assert closed["queue"] == "sales"
    expect(history.row(closed).locator.get_by_test_id("call-queue-name")).to_have_text("المبيعات")
    admin_page.screenshot(path=str(SHOTS / "history-closed-ar.png"), full_page=True)

    admin.open()
    admin.remove("sales")
    assert admin.codes() == ["default"]
