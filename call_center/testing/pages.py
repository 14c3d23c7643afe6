"""Page objects: the call center's screens as a tester talks about them.

They find controls by `data-testid` (stable across languages; the list is in docs/testing.md) and read
state from `data-*` attributes (`data-state="ringing"`, `data-status="busy"`), so a flow works in Arabic
and in English alike. Every wait is for a condition, bounded by Playwright's expect timeout.

    softphone = Softphone(agent_page)
    softphone.dial("01000000001")
    phone.wait_for_state("incoming"); phone.reject()
    softphone.wait_for_outcome("busy")
    assert History(agent_page).open().row(app.latest_call()).status == "busy"
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import numpy as np
from playwright.sync_api import Locator, Page, expect

from call_center.testing.server import Account, CallCenterApp


def ring_wait_ms(app: CallCenterApp, margin_s: float = 15.0) -> float:
    """How long to wait for what follows a ring that runs out (a no-answer, a transfer nobody took): the
    app's RING_TIMEOUT_SECONDS (30 unless the app was started with another) plus a margin."""
    env = getattr(app, "env", None) or {}
    return (float(env.get("RING_TIMEOUT_SECONDS", 30)) + margin_s) * 1000


def tid(page: Page | Locator, name: str) -> Locator:
    return page.locator(f'[data-testid="{name}"]')


def log_in(page: Page, app: CallCenterApp, account: Account, path: str = "/call-center") -> Page:
    """Sign in through the real login form, then land on `path`."""
    page.goto(f"{app.url}{path}")
    tid(page, "login-email").fill(account.email)
    tid(page, "login-password").fill(account.password)
    tid(page, "login-submit").click()
    expect(page.get_by_role("navigation")).to_be_visible()
    expect(page).to_have_url(re.compile(re.escape(path.split("?")[0]) + r"/?(\?.*)?$"))
    return page


class Screen:
    """What every signed-in page has: navigation, language, the agent."""

    path = "/"

    def __init__(self, page: Page, app: CallCenterApp | None = None):
        self.page = page
        self.app = app

    def open(self) -> Screen:
        base = self.app.url if self.app else re.sub(r"(https?://[^/]+).*", r"\1", self.page.url)
        self.page.goto(f"{base}{self.path}")
        expect(tid(self.page, "app")).to_be_visible()
        return self

    @property
    def language(self) -> str:
        return tid(self.page, "app").first.get_attribute("data-lang") or ""

    def switch_language(self) -> str:
        """Arabic <-> English; the new language."""
        before = self.language
        tid(self.page, "language-switch").click()
        expect(tid(self.page, "app").first).not_to_have_attribute("data-lang", before)
        return self.language

    def capture_next_call(self, seconds: float = 8.0) -> None:
        """Record the first `seconds` of what this page will hear in its next call, from the moment the call's
        audio arrives (before the answer is even shown): what a call starts with, such as the recording
        notice, whatever the machine's load. Read it with `captured()`."""
        self.page.evaluate("s => window.almasarPhone && window.almasarPhone.captureNext(s)", seconds)

    def captured(self) -> tuple[int, np.ndarray]:
        """(rate, samples) of `capture_next_call`, once its seconds are over (waits for them)."""
        got = self.page.evaluate(
            "() => window.almasarPhone ? window.almasarPhone.capturedNext() : {rate: 8000, samples: []}"
        )
        return int(round(got["rate"])), np.asarray(got["samples"], dtype=np.float32)

    def heard(self, seconds: float = 4.0) -> float:
        """How loud what this page plays from its call is (RMS over `seconds`)."""
        return heard(self.page, seconds)

    def listen(self, seconds: float = 5.0) -> tuple[int, np.ndarray]:
        """What this page hears from its call (any phone: an agent's, a supervisor's, the test phone's),
        for `sounds_like` / `tone_share`."""
        return listen(self.page, seconds)

    def silence_microphone(self, on: bool = True) -> None:
        """This page's speaker stops talking (its microphone track is disabled, as the mute button does,
        on any phone: the test phone has no such button), so what others hear of it is silence. For
        telling who hears whom when several voices are in one call."""
        self.page.evaluate("on => window.almasarPhone && window.almasarPhone.mute(on)", on)

    # Monitoring a call (a supervisor; the bar follows them on every page) -------------------------------
    @property
    def monitoring(self) -> str:
        """The mode this supervisor monitors a call in now (listen, whisper, barge), or ""."""
        bar = tid(self.page, "monitor-bar")
        if not bar.count() or bar.get_attribute("data-state") != "live":
            return ""
        return bar.get_attribute("data-mode") or ""

    def switch_monitoring(self, mode: str) -> None:
        """listen, whisper or barge, while monitoring."""
        tid(self.page, f"monitor-mode-{mode}").click()
        expect(tid(self.page, "monitor-bar")).to_have_attribute("data-mode", mode)
        expect(tid(self.page, f"monitor-mode-{mode}")).to_have_attribute("aria-pressed", "true")

    def stop_monitoring(self) -> None:
        tid(self.page, "monitor-stop").click()
        expect(tid(self.page, "monitor-bar")).to_have_count(0)

    def go(self, where: str) -> None:
        """Follow a navigation link: call-center, history, contacts, account, settings, phone."""
        tid(self.page, f"nav-{where}").click()
        expect(self.page).to_have_url(re.compile(f"/{where}/?$"))


class IncomingCall:
    """The banner that rings on every agent page."""

    def __init__(self, page: Page):
        self.page = page
        self.banner = tid(page, "incoming-call")

    def wait(self) -> IncomingCall:
        expect(self.banner).to_be_visible()
        return self

    @property
    def caller(self) -> str:
        return tid(self.banner, "incoming-from").inner_text()

    def accept(self) -> None:
        tid(self.banner, "incoming-accept").click()

    def try_accept(self) -> bool:
        """Press Answer if the call still rings here, without waiting: in a race another agent may have
        answered first and the banner is gone already. Whether it was pressed."""
        return bool(
            self.page.evaluate(
                """() => { const b = document.querySelector('[data-testid="incoming-call"] '
                  + '[data-testid="incoming-accept"]'); if (b) b.click(); return !!b; }"""
            )
        )

    def reject(self) -> None:
        tid(self.banner, "incoming-reject").click()

    @property
    def transfer_from(self) -> str:
        """The agent transferring this call (empty for a new call)."""
        line = tid(self.banner, "incoming-transfer-from")
        return line.inner_text() if line.count() else ""


class Softphone(Screen):
    """The agent's phone on the call-center page (dialer, call in progress, outcome)."""

    path = "/call-center"

    def wait_registered(self) -> Softphone:
        expect(tid(self.page, "phone-status")).to_have_attribute("data-registered", "true")
        return self

    def dial(self, number: str) -> None:
        tid(self.page, "dial-number").fill(number)
        tid(self.page, "dial-call").click()

    @property
    def state(self) -> str:
        """idle, connecting, ringing, in-progress, on-hold, or ended."""
        state = tid(self.page, "call-state")
        if state.count():
            return state.get_attribute("data-state") or ""
        return "ended" if tid(self.page, "call-outcome").count() else "idle"

    def wait_for_state(self, state: str) -> None:
        expect(tid(self.page, "call-state")).to_have_attribute("data-state", state)

    @property
    def outcome(self) -> str:
        """How the last call ended: completed, busy, no-answer, failed, canceled."""
        return tid(self.page, "call-outcome").get_attribute("data-outcome") or ""

    def wait_for_outcome(self, outcome: str, timeout_ms: float | None = None) -> None:
        """Wait for the call's outcome; after a ring that runs out give `timeout_ms` (see `ring_wait_ms`)."""
        expect(tid(self.page, "call-outcome")).to_have_attribute("data-outcome", outcome, timeout=timeout_ms)

    @property
    def error(self) -> str:
        """The i18n key of the phone's error (e.g. call.error.unreachable), or ""."""
        box = tid(self.page, "device-error")
        return (box.get_attribute("data-code") or "") if box.count() else ""

    def wait_for_error(self, code: str) -> None:
        expect(tid(self.page, "device-error")).to_have_attribute("data-code", code)

    @property
    def number_error(self) -> str:
        feedback = tid(self.page, "number-feedback")
        return feedback.inner_text() if feedback.get_attribute("role") == "alert" else ""

    def hang_up(self) -> None:
        tid(self.page, "call-hangup").click()

    def mute(self) -> None:
        tid(self.page, "call-mute").click()

    def hold(self) -> None:
        tid(self.page, "call-hold").click()

    def send_digits(self, digits: str) -> None:
        keypad = tid(self.page, "call-keypad")
        if keypad.get_attribute("aria-pressed") != "true":
            keypad.click()
        for digit in digits:
            key = {"*": "star", "#": "hash"}.get(digit, digit)
            tid(self.page, f"call-key-{key}").click()

    def resume(self) -> None:
        tid(self.page, "call-hold").click()

    @property
    def on_hold(self) -> bool:
        return tid(self.page, "call-hold").get_attribute("aria-pressed") == "true"

    def incoming(self) -> IncomingCall:
        return IncomingCall(self.page)

    @property
    def notice(self) -> str:
        """Why the last call left this phone (an i18n key, e.g. call.notice.answered_elsewhere), or ""."""
        box = tid(self.page, "call-notice")
        return (box.get_attribute("data-notice") or "") if box.count() else ""

    def wait_for_notice(self, key: str) -> None:
        expect(tid(self.page, "call-notice")).to_have_attribute("data-notice", key)

    @property
    def microphone_open(self) -> bool:
        return bool(self.page.evaluate("window.almasarPhone ? window.almasarPhone.microphoneOpen() : false"))

    # Transfers ---------------------------------------------------------------------------------------
    @property
    def monitored_by(self) -> list[tuple[str, str]]:
        """Who monitors the call in progress, as this agent is told: [(supervisor's name, mode)]."""
        box = tid(self.page, "call-monitored")
        if not box.count():
            return []
        return [
            (item.locator("strong").inner_text(), item.get_attribute("data-mode") or "")
            for item in box.locator(".monitored-by").all()
        ]

    def wait_for_monitored(self, mode: str | None) -> None:
        """Until the softphone says a supervisor monitors the call in `mode` (None: nobody does)."""
        box = tid(self.page, "call-monitored")
        if mode is None:
            expect(box).to_have_count(0)
        else:
            expect(box.locator(f'.monitored-by[data-mode="{mode}"]')).to_have_count(1)

    def _open_transfer(self) -> Locator:
        panel = tid(self.page, "transfer-panel")
        if not panel.count():
            tid(self.page, "call-transfer").click()
        expect(panel).to_be_visible()
        return panel

    def transfer_targets(self) -> list[str]:
        """The agents the call can go to now (the transfer panel's list)."""
        panel = self._open_transfer()
        return [t.get_attribute("data-agent-name") or "" for t in tid(panel, "transfer-target").all()]

    def transfer_to(self, agent_name: str, mode: str = "cold") -> None:
        """Transfer the call to an agent: mode "cold" (they take it at once) or "warm" (talk first)."""
        panel = self._open_transfer()
        target = panel.locator(f'[data-testid="transfer-target"][data-agent-name="{agent_name}"]')
        tid(target, f"transfer-agent-{mode}").click()

    def transfer_to_number(self, number: str, mode: str = "cold") -> None:
        panel = self._open_transfer()
        tid(panel, "transfer-number").fill(number)
        tid(panel, f"transfer-number-{mode}").click()

    @property
    def transfer_state(self) -> str:
        """The transfer I started: ringing, consulting, conference, or "" (none)."""
        box = tid(self.page, "transfer-status")
        return (box.get_attribute("data-state") or "") if box.count() else ""

    def wait_for_transfer(self, state: str) -> None:
        expect(tid(self.page, "transfer-status")).to_have_attribute("data-state", state)

    def complete_transfer(self) -> None:
        tid(self.page, "transfer-complete").click()

    def cancel_transfer(self) -> None:
        tid(self.page, "transfer-cancel").click()

    def talk_to_all(self) -> None:
        tid(self.page, "transfer-talk-all").click()

    @property
    def transfer_notice(self) -> str:
        """How my last transfer ended when it did not complete (an i18n key), or ""."""
        box = tid(self.page, "transfer-notice")
        return (box.get_attribute("data-reason") or "") if box.count() else ""

    def wait_for_transfer_notice(self, key: str, timeout_ms: float | None = None) -> None:
        expect(tid(self.page, "transfer-notice")).to_have_attribute("data-reason", key, timeout=timeout_ms)


class QueuesAdmin:
    """Settings > Queues, for an admin: add or change a queue (name, routing, members, timeouts, inbound
    numbers, opening hours, closed message) and remove one. Fields left out stay as they are; "" empties
    one (the company's default)."""

    def __init__(self, page: Page, app: CallCenterApp):
        self.page, self.app = page, app

    @property
    def section(self) -> Locator:
        return tid(self.page, "queues-section")

    def open(self) -> QueuesAdmin:
        self.page.goto(self.app.url + "/settings")
        expect(self.section).to_be_visible()
        return self

    def row(self, code: str) -> Locator:
        return self.section.locator(f'[data-testid="queue-row"][data-code="{code}"]')

    def codes(self) -> list[str]:
        rows = self.section.get_by_test_id("queue-row")
        return [rows.nth(i).get_attribute("data-code") or "" for i in range(rows.count())]

    def save(
        self,
        code: str | None = None,
        *,
        members: list[str] | None = None,
        hours: list[str] | None = None,
        **fields: str,
    ) -> None:
        """Add a queue (`code` None) or change `code`'s. `fields`: name_ar, name_en, strategy (a strategy
        or "" for the company's), ring_seconds, max_wait_seconds, announce_seconds, wrapup_seconds, numbers,
        closed_message_ar, closed_message_en. `members`: agents' names (all others unticked); `hours`: seven
        "HH:MM-HH:MM" or "" (Monday first). Fails with the form's own error when it is refused."""
        if code is None:
            tid(self.section, "queue-add").click()
        else:
            tid(self.row(code), "queue-edit").click()
        form = tid(self.section, "queue-form")
        expect(form).to_be_visible()
        for name, value in fields.items():
            testid = f"queue-form-{name.replace('_', '-')}"
            if name == "strategy":
                tid(form, testid).select_option(value)
            else:
                tid(form, testid).fill(value)
        if members is not None:
            boxes = form.get_by_test_id("queue-form-member")
            for i in range(boxes.count()):
                box = boxes.nth(i)
                want = box.locator("xpath=..").inner_text().strip() in members
                if box.is_checked() != want:  # (the server's state ticks it: wait for it, then go on)
                    box.click()
                    expect(box).to_be_checked(checked=want)
        if hours is not None:
            for day, text in enumerate(hours):
                form.locator(f'[data-testid="queue-form-hours"][data-day="{day}"]').fill(text)
        tid(form, "queue-save").click()
        done = tid(self.section, "queue-notice").or_(tid(self.section, "queue-error"))
        expect(done).to_be_visible()
        error = tid(self.section, "queue-error")
        if error.count():
            raise AssertionError(f"the queue was not saved: {error.inner_text()}")

    def remove(self, code: str) -> None:
        tid(self.row(code), "queue-remove").click()
        expect(self.row(code)).to_have_count(0)


class WrapUp:
    """The wrap-up panel that follows a call on the call-center page (when WRAPUP_SECONDS > 0):

    wrap = WrapUp(agent_page).wait()
    wrap.choose("complaint"); wrap.write_notes("refund promised"); wrap.tag("vip", "refund")
    wrap.finish()          # saves and ends wrap-up: the agent takes calls again
    """

    def __init__(self, page: Page):
        self.page = page
        self.panel = tid(page, "wrapup-panel")

    def wait(self, call: dict[str, Any] | int | None = None) -> WrapUp:
        """Until the panel is there (for `call`, when given)."""
        expect(self.panel).to_be_visible()
        if call is not None:
            expect(self.panel).to_have_attribute(
                "data-call-id", str(call if isinstance(call, int) else call["id"])
            )
        return self

    @property
    def running(self) -> bool:
        """Whether the wrap-up time is still running (False: it is over, the panel waits to be saved)."""
        return self.panel.get_attribute("data-state") == "running"

    def wait_until_over(self, timeout_ms: float | None = None) -> None:
        expect(self.panel).to_have_attribute("data-state", "over", timeout=timeout_ms)

    def seconds_left(self) -> int:
        return int(self.panel.locator("[data-seconds-left]").get_attribute("data-seconds-left") or 0)

    @property
    def customer(self) -> str:
        return tid(self.page, "wrapup-customer").inner_text()

    def choose(self, disposition: str) -> None:
        """A disposition by its code (sale, inquiry, complaint, call-back-later, wrong-number, ...)."""
        tid(self.page, "wrapup-disposition").select_option(disposition)

    def dispositions(self) -> list[str]:
        codes = (
            tid(self.page, "wrapup-disposition")
            .locator("option")
            .evaluate_all("options => options.map(o => o.value)")
        )
        return [c for c in codes if c]

    def write_notes(self, text: str) -> None:
        tid(self.page, "wrapup-notes").fill(text)

    def tag(self, *tags: str) -> None:
        tid(self.page, "wrapup-tags").fill(", ".join(tags))

    def save(self) -> None:
        """Save and stay in wrap-up."""
        tid(self.page, "wrapup-save").click()
        expect(tid(self.page, "wrapup-message")).to_have_attribute("data-kind", "ok")

    def extend(self) -> None:
        before = self.seconds_left()
        tid(self.page, "wrapup-extend").click()
        expect(tid(self.page, "wrapup-extend")).to_be_disabled()
        assert self.seconds_left() > before

    def finish(self) -> None:
        """Save and end wrap-up now; the panel closes."""
        tid(self.page, "wrapup-done").click()
        expect(self.panel).to_have_count(0)


class HistoryRow:
    def __init__(self, locator: Locator):
        self.locator = locator

    @property
    def status(self) -> str:
        return self.locator.get_attribute("data-status") or ""

    def wait_for_status(self, status: str) -> HistoryRow:
        expect(self.locator).to_have_attribute("data-status", status)
        return self

    def wait_for_recording(self) -> HistoryRow:
        expect(tid(self.locator, "call-recording")).to_have_count(1)
        return self

    @property
    def recording(self) -> Locator:
        return tid(self.locator, "call-recording")

    @property
    def download(self) -> Locator:
        return tid(self.locator, "call-download")

    def text(self) -> str:
        return self.locator.inner_text()

    @property
    def disposition(self) -> str:
        """The wrap-up disposition's code ("" when none)."""
        found = tid(self.locator, "call-disposition")
        return (found.get_attribute("data-disposition") or "") if found.count() else ""

    @property
    def tags(self) -> list[str]:
        found = tid(self.locator, "call-tags")
        return [t.lstrip("#") for t in found.inner_text().split()] if found.count() else []

    @property
    def notes(self) -> str:
        found = tid(self.locator, "call-notes")
        return found.get_attribute("title") or "" if found.count() else ""


class CallDetail:
    """One call's detail view over the history (History.details(call)): its timeline, recording, what it
    was about (editable) and the customer's previous calls."""

    def __init__(self, page: Page):
        self.page = page
        self.panel = tid(page, "call-detail")

    def steps(self) -> list[str]:
        """What happened, in order: started, queued, rang, answered, hold, resume, transfer-..., ended."""
        expect(tid(self.panel, "detail-step").first).to_be_visible()
        return [s.get_attribute("data-what") or "" for s in tid(self.panel, "detail-step").all()]

    def previous_calls(self) -> Locator:
        return tid(self.panel, "detail-previous-call")

    def edit(self, disposition: str | None = None, notes: str | None = None, tags: str | None = None) -> None:
        """Change what the call was about and save it."""
        if disposition is not None:
            tid(self.panel, "detail-disposition").select_option(disposition)
        if notes is not None:
            tid(self.panel, "detail-notes").fill(notes)
        if tags is not None:
            tid(self.panel, "detail-tags").fill(tags)
        tid(self.panel, "detail-save").click()
        expect(tid(self.panel, "detail-message")).to_be_visible()

    def delete_recording(self, reason: str) -> None:
        """An admin deletes the call's recording, saying why (audited); waits until the view says so."""
        tid(self.panel, "detail-delete-reason").fill(reason)
        tid(self.panel, "detail-delete-recording").click()
        expect(tid(self.panel, "call-recording-status")).to_have_attribute("data-status", "deleted")

    def close(self) -> None:
        tid(self.panel, "detail-close").click()
        expect(self.panel).to_have_count(0)


class History(Screen):
    """The call history page (live: rows appear and change by themselves)."""

    path = "/history"

    def open(self) -> History:
        super().open()
        expect(tid(self.page, "history-live")).to_be_visible()
        return self

    def row(self, call: dict[str, Any] | int) -> HistoryRow:
        call_id = call if isinstance(call, int) else call["id"]
        locator = self.page.locator(f'[data-testid="history-row"][data-call-id="{call_id}"]')
        expect(locator).to_be_visible()
        return HistoryRow(locator)

    @property
    def rows(self) -> Locator:
        return tid(self.page, "history-row")

    def details(self, call: dict[str, Any] | int) -> CallDetail:
        """Open a call's detail view."""
        call_id = call if isinstance(call, int) else call["id"]
        tid(self.row(call).locator, "call-details").click()
        detail = CallDetail(self.page)
        expect(detail.panel).to_have_attribute("data-call-id", str(call_id))
        return detail

    def search(self, text: str, tag: str = "") -> None:
        """By number, name or words of the wrap-up notes (and one tag, when given)."""
        tid(self.page, "history-search").fill(text)
        tid(self.page, "history-filter-tag").fill(tag)
        tid(self.page, "history-search-button").click()

    def filter(self, name: str, value: str) -> None:
        """name: direction, status, recording, agent, disposition, from, to."""
        control = tid(self.page, f"history-filter-f_{name}")
        if control.get_attribute("type") == "date":
            control.fill(value)
        else:
            control.select_option(value)


class Contacts(Screen):
    path = "/contacts"

    def add(self, name: str, phone: str, notes: str = "") -> None:
        tid(self.page, "contact-add").click()
        tid(self.page, "contact-name").fill(name)
        tid(self.page, "contact-phone").fill(phone)
        tid(self.page, "contact-notes").fill(notes)
        tid(self.page, "contact-save").click()
        expect(self.row(name)).to_be_visible()

    def row(self, name: str) -> Locator:
        return tid(self.page, "contact-row").filter(has_text=name)

    def search(self, text: str) -> None:
        tid(self.page, "contacts-search").fill(text)
        tid(self.page, "contacts-search-button").click()

    def calls(self, name: str) -> Locator:
        """Show the contact's calls on the page; their items (`data-call-id`, newest first), each with its
        status, disposition (`contact-call-disposition`) and notes (`contact-call-notes`)."""
        tid(self.row(name), "contact-calls").click()
        panel = tid(self.page, "contact-calls-panel")
        expect(panel).to_contain_text(name)
        return panel.get_by_test_id("contact-call-item")

    def call(self, name: str) -> Softphone:
        tid(self.row(name), "contact-call").click()
        expect(self.page).to_have_url(re.compile(r"/call-center/?$"))
        return Softphone(self.page, self.app)


class Reports(Screen):
    """The KPI dashboard (/reports; supervisors and admins): range, queue and agent filters, the headline
    figures (`kpi(key)`: service_level, abandonment, asa, aht, occupancy, offered, answered, abandoned,
    handled, outbound, ...), the charts and the per-agent table."""

    path = "/reports"

    def open(self) -> Reports:
        super().open()
        expect(tid(self.page, "reports")).to_be_visible()
        return self

    def set_range(self, first: str, last: str) -> None:
        """Days as YYYY-MM-DD, in the company's time zone."""
        tid(self.page, "reports-f_from").fill(first)
        tid(self.page, "reports-f_to").fill(last)

    def preset(self, days: int) -> None:
        """0: today, 1: yesterday, 7 or 30: the last days up to today."""
        tid(self.page, f"reports-preset-{days}").click()

    def kpi(self, key: str) -> str:
        """A headline figure as the page shows it (e.g. "85.0%", "00:42", "12")."""
        box = self.page.locator(f'[data-testid="kpi"][data-kpi="{key}"]')
        expect(box).to_be_visible()
        return tid(box, "kpi-value").inner_text()

    def bars(self, chart: str = "volume") -> Locator:
        """The bars a chart drew (chart: volume, dispositions)."""
        return tid(self.page, f"reports-{chart}").locator(".recharts-bar-rectangle")

    def agent_row(self, name: str) -> Locator:
        return tid(self.page, "reports-agent-row").filter(has_text=name)

    def export(self, table: str | None = None) -> Path:
        """Download the dashboard as shown: every table as an XLSX workbook, or one `table` (summary, days,
        agents, dispositions, hours) as CSV. The file's path (Playwright removes it with the context)."""
        link = tid(self.page, f"reports-export-csv-{table}" if table else "reports-export-xlsx")
        with self.page.expect_download() as download:
            link.click()
        return Path(download.value.path())


class Wallboard(Screen):
    """The live wallboard (/wallboard; supervisors and admins): a tile per queue, a row per agent, pushed
    live. `queue(code)` is a queue's tile ("default" for the general queue); `agent(name)` an agent's row.

        board = Wallboard(page, app).open()
        board.wait_for_waiting("default", 1)
        board.wait_for_agent_state("Sara", "on-call")
    """

    path = "/wallboard"

    def open(self) -> Wallboard:
        super().open()
        expect(tid(self.page, "wallboard")).to_be_visible()
        return self

    def queue(self, code: str = "default") -> Locator:
        return self.page.locator(f'[data-testid="wb-queue"][data-queue="{code}"]')

    def figure(self, code: str, name: str) -> str:
        """A queue tile's figure as shown: waiting, longest, available, on-call, wrap-up, away, offered,
        sl, abandonment, average-wait."""
        return tid(self.queue(code), f"wb-{name}").locator(".kpi-value").inner_text()

    def wait_for_waiting(self, code: str, count: int, timeout_ms: float = 15_000) -> None:
        expect(self.queue(code)).to_have_attribute("data-waiting", str(count), timeout=timeout_ms)

    def agent(self, name: str) -> Locator:
        return self.page.locator(f'[data-testid="wb-agent"][data-agent-name="{name}"]')

    def agent_state(self, name: str) -> str:
        """available, ringing, on-call, wrap-up, away, offline."""
        return self.agent(name).get_attribute("data-state") or ""

    def wait_for_agent_state(self, name: str, state: str, timeout_ms: float = 15_000) -> None:
        expect(self.agent(name)).to_have_attribute("data-state", state, timeout=timeout_ms)

    def seconds(self, locator: Locator) -> int:
        """What a ticking time (longest wait, time in state, call length) shows now, in seconds."""
        return int(locator.locator(".elapsed").first.get_attribute("data-seconds") or 0)

    def monitor(self, agent_name: str, mode: str = "listen") -> None:
        """Listen to, whisper to or barge into the call `agent_name` is on (their row's button), and wait
        until this page's phone is in the call. The buttons wait for the page's phone to be registered."""
        self.agent(agent_name).get_by_test_id(f"wb-{mode}").click()
        bar = tid(self.page, "monitor-bar")
        try:
            expect(bar).to_have_attribute("data-state", "live")
        except AssertionError as exc:
            error = tid(self.page, "monitor-error")
            why = error.get_attribute("data-code") if error.count() else "no error shown"
            raise AssertionError(f"monitoring {agent_name}'s call did not start: {why}") from exc
        expect(bar).to_have_attribute("data-mode", mode)

    def large_type(self, on: bool = True) -> None:
        """The TV mode: large type, no navigation."""
        box = tid(self.page, "wallboard")
        if (box.get_attribute("data-large") == "true") != on:
            tid(self.page, "wb-large").click()
        expect(box).to_have_attribute("data-large", "true" if on else "false")


class TestPhone(Screen):
    """A simulated customer handset (/phone): it rings, answers, rejects, hangs up, calls the company."""

    __test__ = False  # not a test class, whatever pytest thinks of the name
    path = "/phone"

    def use_number(self, number: str) -> TestPhone:
        """Register this handset with `number` (E.164 or national) and wait until it can take calls."""
        field = tid(self.page, "phone-number")
        registration = tid(self.page, "phone-registration")
        field.fill(number)
        tid(self.page, "phone-use-number").click()
        if number.startswith("+"):
            # The new registration, not the old one still showing "registered" before the page has heard
            # of the change (a call placed in between was lost, 2026-12-02).
            expect(registration).to_have_attribute("data-number", number)
        return self.wait_registered()

    def wait_registered(self) -> TestPhone:
        expect(tid(self.page, "phone-registration")).to_have_attribute("data-registered", "true")
        return self

    @property
    def number(self) -> str:
        return tid(self.page, "phone-registered-number").inner_text()

    def wait_for_voicemail(self, timeout_ms: float = 60_000) -> TestPhone:
        """Nobody took the call (the queue's wait is over): the caller hears the tone and may speak."""
        expect(tid(self.page, "phone-voicemail")).to_be_visible(timeout=timeout_ms)
        return self

    @property
    def state(self) -> str:
        """idle, incoming, connecting, ringing, in-progress, ended."""
        return tid(self.page, "phone-screen").get_attribute("data-state") or ""

    def wait_for_state(self, state: str) -> None:
        expect(tid(self.page, "phone-screen")).to_have_attribute("data-state", state)

    @property
    def outcome(self) -> str:
        return tid(self.page, "phone-screen").get_attribute("data-outcome") or ""

    def answer(self) -> None:
        self.wait_for_state("incoming")
        tid(self.page, "phone-accept").click()

    def reject(self) -> None:
        self.wait_for_state("incoming")
        tid(self.page, "phone-reject").click()

    def hang_up(self) -> None:
        tid(self.page, "phone-hangup").click()

    def call_company(self, number: str | None = None) -> None:
        """Call the company number (or `number`, E.164: one an admin mapped to a queue; the phone reads the
        list when its page opens); returns once the company's side has the call (the phone rings or is
        answered). A call that could not start fails here, with the phone's own error."""
        if number is not None:
            choice = tid(self.page, "phone-company-number")
            if not choice.count() or not choice.locator(f'option[value="{number}"]').count():
                raise AssertionError(
                    f"{number} is not among this phone's company numbers: map it to a queue in Settings, "
                    "then open the phone"
                )
            choice.select_option(number)
        tid(self.page, "phone-call-company").click()
        try:
            expect(tid(self.page, "phone-screen")).to_have_attribute(
                "data-state", re.compile(r"^(ringing|in-progress)$")
            )
        except AssertionError as exc:
            error = tid(self.page, "phone-error")
            why = error.inner_text() if error.count() else "no error shown"
            raise AssertionError(f"the test phone's call to the company did not start: {why}") from exc

    @property
    def digits_received(self) -> str:
        return tid(self.page, "phone-digits-received").inner_text()


def listen(page: Page, seconds: float = 5.0) -> tuple[int, np.ndarray]:
    """(rate, samples) of the remote audio the page plays over `seconds`: who or what it hears, for
    `sounds_like(samples, rate, voice)` and `tone_share(samples, rate, HOLD_TONE)`."""
    got = page.evaluate(
        "s => window.almasarPhone ? window.almasarPhone.captureRemote(s) : {rate: 8000, samples: []}", seconds
    )
    return int(round(got["rate"])), np.asarray(got["samples"], dtype=np.float32)


def heard(page: Page, seconds: float = 4.0) -> float:
    """The loudest level of the remote audio the page played over a few seconds (WebAudio analyser; speech
    has pauses, so look for a while). Above ~0.01 someone is heard; silence stays near 0."""
    best, deadline = 0.0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        best = max(best, float(page.evaluate("window.almasarPhone ? window.almasarPhone.remoteLevel() : 0")))
        page.wait_for_timeout(100)
    return best
