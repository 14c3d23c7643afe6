"""A supervisor monitoring a live call (from the wallboard): listen, whisper, barge, stop.

The server decides (services.monitoring); the supervisor's own browser phone carries the leg
(`window.almasarPhone.monitor`), so what they hear plays on the page they are on, and the monitoring bar in
the frame follows them from page to page until they stop or the call ends (SoftphoneState's monitor_*
fields, set from the phone's monitor-started / monitor-ended events).
"""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.services import agents, call_control, monitoring, numbers
from call_center.services.errors import DomainError
from call_center.state.guard import Access
from call_center.state.softphone import SoftphoneState, _phone_call


class MonitorState(SoftphoneState):
    access: ClassVar[str] = Access.SUPERVISOR

    @rx.event
    def start(self, call_id: int, mode: str):
        """Listen to, whisper to or barge into the call `call_id` (a wallboard row's current call)."""
        if self.monitor_sid or self.in_call:
            self.monitor_error = "monitor.error.busy"
            return None
        try:
            with session_scope() as db:
                supervisor = agents.get_agent(db, self.agent_id)
                call = monitoring.check_start(db, supervisor, int(call_id), str(mode))
                sid, agent = str(call.provider_call_sid), call_control.agent_name(db, call)
                customer = call_control.caller_name(db, call.customer_number) or numbers.display(
                    call.customer_number, get_settings().DEFAULT_REGION
                )
        except (DomainError, ValueError) as exc:
            self.monitor_error = getattr(exc, "code", "error.generic")
            return None
        self.monitor_sid, self.monitor_call_id, self.monitor_mode = sid, int(call_id), str(mode)
        self.monitor_state, self.monitor_agent, self.monitor_customer = "connecting", agent, customer
        self.monitor_error = ""
        return _phone_call("monitor", sid, str(mode))

    @rx.event
    def switch_mode(self, mode: str):
        if not self.monitor_sid or mode == self.monitor_mode:
            return
        try:
            with session_scope() as db:
                monitoring.change(db, agents.get_agent(db, self.agent_id), self.monitor_sid, str(mode))
        except DomainError as exc:
            self.monitor_error = exc.code
            return
        self.monitor_mode, self.monitor_error = str(mode), ""

    @rx.event
    def stop(self):
        """Leave the call (the phone hangs up its monitoring leg; the call goes on). The bar goes at once,
        also when the page's phone has no leg any more (the page was reloaded while monitoring)."""
        if not self.monitor_sid:
            return None
        self._on_monitor_ended({"call_sid": self.monitor_sid})
        return None if self.in_call else _phone_call("hangup")  # (never hang up a call of one's own)

    @rx.event
    def dismiss_error(self):
        self.monitor_error = ""
