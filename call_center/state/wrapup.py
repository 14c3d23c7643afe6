"""The agent's wrap-up panel on the call-center page: after a call, its disposition, notes and tags.

The server decides when wrap-up starts and ends (services.wrapup); this state shows it. It is loaded with
the page and again whenever the agent's account topic says wrap-up changed (SessionState.watch_session).
The panel stays, with what the agent typed, after the time is up, until it is saved.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from call_center.core import tags as tag_rules
from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.models import Call, Contact
from call_center.models.base import utcnow
from call_center.services import agents, dispositions, numbers, wrapup
from call_center.services.errors import DomainError
from call_center.state.session import SessionState


class WrapupState(SessionState):
    call_id: int = 0
    customer: str = ""  # the number as shown
    customer_name: str = ""  # from Contacts, if any
    until_ms: int = 0  # wrap-up ends then (browser milliseconds); 0: not in wrap-up (the panel may stay)
    extended: bool = False
    disposition: str = ""
    notes: str = ""
    tags: str = ""
    options: list[dict[str, str]] = []
    message: str = ""  # an i18n key: saved, or why not
    message_kind: str = ""

    @rx.var
    def open(self) -> bool:
        return self.call_id > 0

    @rx.var
    def in_wrapup(self) -> bool:
        return self.until_ms > 0

    def _load_now(self) -> None:
        """What the server says now. A wrap-up of a new call replaces the panel; the end of the current
        one only stops its countdown (the panel keeps what was typed)."""
        with session_scope() as db:
            found = wrapup.current(db, self.agent_id)
            self.options = [
                {"code": d.code, "name_ar": d.name_ar, "name_en": d.name_en}
                for d in dispositions.list_dispositions(db, active_only=True)
            ]
            if found is None:
                self.until_ms = 0
                return
            call: Call = found["call"]
            if call.id != self.call_id:
                self.call_id = call.id or 0
                self.disposition = call.disposition or ""
                self.notes = call.notes or ""
                self.tags = ", ".join(tag_rules.parse(call.tags))
                self.message = self.message_kind = ""
                self.customer = numbers.display(call.customer_number, get_settings().DEFAULT_REGION)
                contact = db.get(Contact, call.contact_id) if call.contact_id else None
                self.customer_name = contact.name if contact is not None else ""
            self.until_ms = int(found["until"].timestamp() * 1000)
            self.extended = bool(found["extended"])

    @rx.event
    def load(self):
        self._load_now()

    @rx.event
    def time_up(self):
        """The countdown reached zero in the browser: ask the server (whose clock decides)."""
        if self.until_ms and self.until_ms <= int(utcnow().timestamp() * 1000) + 500:
            self._load_now()

    @rx.event
    def set_disposition(self, value: str):
        self.disposition = str(value)[:40]

    @rx.event
    def set_notes(self, value: str):
        self.notes = str(value)[: wrapup.MAX_NOTES + 1]

    @rx.event
    def set_tags(self, value: str):
        self.tags = str(value)[:500]

    def _save(self) -> bool:
        if not self.call_id:
            return False
        try:
            with session_scope() as db:
                agent = agents.get_agent(db, self.agent_id)
                wrapup.save(
                    db, agent, self.call_id, disposition=self.disposition or None, notes=self.notes,
                    tags=self.tags,
                )  # fmt: skip
        except DomainError as exc:
            self.message, self.message_kind = exc.code, "error"
            return False
        self.message, self.message_kind = "wrapup.saved", "ok"
        return True

    @rx.event
    def save(self):
        self._save()

    @rx.event
    def done(self):
        """Save, end wrap-up now (if it still runs) and close the panel."""
        if not self._save():
            return
        with session_scope() as db:
            wrapup.finish(db, self.agent_id, expected_call=self.call_id)
        self._close()

    @rx.event
    def extend(self):
        try:
            with session_scope() as db:
                until = wrapup.extend(db, self.agent_id)
        except DomainError as exc:
            self.message, self.message_kind = exc.code, "error"
            return
        self.until_ms, self.extended = int(until.timestamp() * 1000), True

    def _close(self) -> None:
        self.call_id = self.until_ms = 0
        self.customer = self.customer_name = self.disposition = self.notes = self.tags = ""
        self.extended = False


def option_label(option: Any, lang: Any) -> Any:
    return rx.cond(lang == "ar", option["name_ar"], option["name_en"])
