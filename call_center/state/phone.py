"""The simulated customer phone (/phone, local provider only): rings, answers, rejects, dials the company."""

from __future__ import annotations

import time
from typing import Any

import reflex as rx

from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.core.i18n import normalise_language
from call_center.services import numbers, queues
from call_center.services.errors import DomainError
from call_center.state.session import SessionState
from call_center.state.softphone import KEYS, _phone_call
from call_center.telephony.local.control import issue_phone_token

DEFAULT_NUMBER = "+201000000001"


class PhoneState(SessionState):
    number_input: str = DEFAULT_NUMBER
    number: str = ""  # the registered number (E.164); the page's phone is on while it is set
    device_token: str = ""  # the server's signed registration of this phone, for this agent's session
    number_error: str = ""
    registered: bool = False
    state: str = "idle"  # idle, incoming, connecting, ringing, in-progress, ended
    remote: str = ""
    remote_name: str = ""
    started_ms: int = 0
    outcome: str = ""
    digits_received: str = ""
    digits_sent: str = ""
    queue_position: int = 0  # while the company's queue holds this call: the place in line
    voicemail: bool = False  # nobody took the call: the caller is leaving a message
    closed: bool = False  # the queue is closed now: the caller hears the closed tone, then the line hangs up
    closed_message_ar: str = ""  # the queue's own closed message ("": the standard one)
    closed_message_en: str = ""
    company_choice: str = ""  # the company number this phone dials ("": COMPANY_NUMBER)
    company_numbers: list[dict[str, str]] = []  # COMPANY_NUMBER and the numbers admins mapped to queues
    error: str = ""

    @rx.var
    def company_number(self) -> str:
        return numbers.display(get_settings().COMPANY_NUMBER)

    @rx.event
    def set_company_choice(self, value: str):
        self.company_choice = str(value)[:32]

    @rx.var
    def number_display(self) -> str:
        return numbers.display(self.number) if self.number else ""

    @rx.var
    def closed_message(self) -> str:
        return self.closed_message_ar if normalise_language(self.lang) == "ar" else self.closed_message_en

    @rx.event
    def load(self):
        with session_scope() as db:
            extra = queues.inbound_numbers(db)
        main = get_settings().COMPANY_NUMBER
        self.company_numbers = [
            {"value": n, "label": numbers.display(n)} for n in [main, *[x for x in extra if x != main]]
        ]
        if self.company_choice not in [n["value"] for n in self.company_numbers]:
            self.company_choice = main
        if not self.number:
            self._register(self.number_input)

    def _register(self, raw: str) -> None:
        try:
            e164 = numbers.to_e164(raw, get_settings().DEFAULT_REGION)
        except DomainError:
            self.number_error = "phone.error.number"
            return
        self.number_error = ""
        if e164 != self.number or not self.device_token:
            self.registered = False
            self.number = e164
            self.number_input = numbers.display(e164)
            self.device_token = issue_phone_token(self.agent_id, e164)

    @rx.event
    def set_number_input(self, value: str):
        self.number_input = value[:40]

    @rx.event
    def use_number(self):
        self._register(self.number_input)

    @rx.event
    def call_company(self):
        if self.state in ("connecting", "ringing", "in-progress"):
            return None
        if not self.registered:  # (a new number is still registering: say so rather than lose the click)
            self.error = "phone.error.not_registered"
            return None
        self._reset("connecting")
        dialled = self.company_choice or get_settings().COMPANY_NUMBER
        self.remote = numbers.display(dialled)
        return _phone_call("connect", dialled)

    @rx.event
    def answer(self):
        self.state = "connecting"
        return _phone_call("accept")

    @rx.event
    def reject(self):
        self.state = "idle"
        return _phone_call("reject")

    @rx.event
    def hangup(self):
        return _phone_call("hangup")

    @rx.event
    def press_key(self, key: str):
        if key in KEYS and self.state == "in-progress":
            self.digits_sent += key
            return _phone_call("sendDigits", key)
        return None

    def _reset(self, state: str) -> None:
        self.state = state
        self.outcome = self.error = self.remote_name = ""
        self.digits_received = self.digits_sent = ""
        self.started_ms = self.queue_position = 0
        self.voicemail = self.closed = False
        self.closed_message_ar = self.closed_message_en = ""

    @rx.event
    def on_device_event(self, event: dict[str, Any]):
        kind = str(event.get("type", ""))
        if kind == "registered":
            self.registered = True
        elif kind == "incoming":
            self._reset("incoming")
            self.remote = numbers.display(str(event.get("from", "")))
            self.remote_name = str(event.get("caller_name") or "")
        elif kind == "cancel" and self.state == "incoming":
            self.state, self.outcome = "ended", "canceled"
        elif kind == "ringing":
            self.state = "ringing"
        elif kind == "queue":
            self.queue_position = max(0, int(event.get("position") or 0))
            self.voicemail = bool(event.get("voicemail"))
            if event.get("closed"):
                self.closed = True
                self.closed_message_ar = str(event.get("message_ar") or "")[:300]
                self.closed_message_en = str(event.get("message_en") or "")[:300]
        elif kind == "accepted":
            self.state, self.queue_position = "in-progress", 0
            self.started_ms = int(event.get("at") or time.time() * 1000)
        elif kind == "disconnected":
            self.state, self.outcome = "ended", str(event.get("status") or "completed")
            self.queue_position = 0
            self.voicemail = False
        elif kind == "dtmf":
            self.digits_received += str(event.get("digits", ""))
        elif kind == "error":
            code = str(event.get("code", ""))
            self.error = (
                code
                if code.startswith(("call.error.", "dial.error."))
                else "device.error."
                + (code if code in ("mic-denied", "mic-missing", "mic-busy", "signaling-lost") else "generic")
            )
            if self.state == "connecting":
                self.state, self.outcome = "ended", "failed"
