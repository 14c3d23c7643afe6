"""Settings > Queues: admins add queues and set each one's routing, members, timeouts, numbers and hours."""

from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx

from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.models import CallQueue
from call_center.models.base import utcnow
from call_center.services import agents, numbers, queue, queues
from call_center.services.errors import DomainError
from call_center.state.guard import Access
from call_center.state.session import SessionState

FIELDS = (
    "name_ar",
    "name_en",
    "strategy",
    "ring_seconds",
    "max_wait_seconds",
    "announce_seconds",
    "wrapup_seconds",
    "numbers",
    "closed_message_ar",
    "closed_message_en",
)
MAX_FIELD = 600


def _blank() -> dict[str, str]:
    return {name: "" for name in FIELDS}


class QueuesAdminState(SessionState):
    access: ClassVar[str] = Access.ADMIN  # every handler: admins only (the guard checks)

    rows: list[dict[str, Any]] = []
    agent_options: list[dict[str, Any]] = []  # id, name
    form_open: bool = False
    editing: str = ""  # the queue being changed ("" while adding one)
    form: dict[str, str] = _blank()
    form_hours: list[str] = [""] * queues.DAYS
    form_members: list[int] = []
    form_error: str = ""
    notice: str = ""

    def _reload(self) -> None:
        settings = get_settings()
        now = utcnow()
        with session_scope() as db:
            names = {a.id: a.name for a in agents.list_agents(db)}
            self.agent_options = [{"id": a.id, "name": a.name} for a in agents.list_agents(db) if a.is_active]
            self.rows = [
                {
                    "code": c.code,
                    "name_ar": c.name_ar,
                    "name_en": c.name_en,
                    "strategy": c.strategy,
                    "ring_seconds": c.ring_seconds,
                    "max_wait_seconds": c.max_wait_seconds,
                    "wrapup_seconds": c.wrapup_seconds,
                    "members": ", ".join(sorted(names.get(i, "?") for i in c.members)) if c.members else "",
                    "numbers": ", ".join(
                        numbers.display(n)
                        for n in ([settings.COMPANY_NUMBER] if c.code == queues.DEFAULT else [])
                        + queues.numbers_of(db, c.code)
                    ),
                    "always_open": c.hours is None,
                    "open_now": queues.is_open(c.hours, now, settings.zone),
                    "waiting": queue.waiting_count(db, c.code),
                    "removable": c.code != queues.DEFAULT,
                }
                for c in queues.all_configs(db)
            ]

    @rx.event
    def load(self):
        self.form_open = False
        self.notice = self.form_error = ""
        self._reload()

    @rx.event
    def open_new(self):
        self.form_open, self.editing, self.form_error, self.notice = True, "", "", ""
        self.form, self.form_hours, self.form_members = _blank(), [""] * queues.DAYS, []

    @rx.event
    def open_edit(self, code: str):
        code = str(code)[:40]
        with session_scope() as db:
            found = next((c for c in queues.all_configs(db) if c.code == code), None)
            if found is None:
                return
            row = db.get(CallQueue, code)
            own = {name: getattr(row, name) for name in queues.LIMITS} if row is not None else {}
            self.form = {
                "name_ar": found.name_ar,
                "name_en": found.name_en,
                "strategy": (row.strategy or "") if row is not None else "",
                **{name: "" if own.get(name) is None else str(own[name]) for name in queues.LIMITS},
                "numbers": ", ".join(numbers.display(n) for n in queues.numbers_of(db, code)),
                "closed_message_ar": found.closed_message_ar,
                "closed_message_en": found.closed_message_en,
            }
            self.form_hours = queues.hours_text(found.hours)
            self.form_members = sorted(found.members or ())
        self.form_open, self.editing, self.form_error, self.notice = True, code, "", ""

    @rx.event
    def close_form(self):
        self.form_open, self.form_error = False, ""

    @rx.event
    def set_form(self, name: str, value: str):
        if name in FIELDS:
            self.form = {**self.form, name: str(value)[:MAX_FIELD]}

    @rx.event
    def set_hour(self, day: int, value: str):
        day = int(day)
        if 0 <= day < queues.DAYS:
            hours = list(self.form_hours)
            hours[day] = str(value)[:20]
            self.form_hours = hours

    @rx.event
    def toggle_member(self, agent_id: int, on: bool):
        members = set(self.form_members)
        members.add(int(agent_id)) if on else members.discard(int(agent_id))
        self.form_members = sorted(members)

    @rx.event
    def save(self):
        form = queues.QueueForm(
            **{name: self.form.get(name, "") for name in FIELDS},
            members=tuple(self.form_members),
            hours=tuple(self.form_hours),
        )
        try:
            with session_scope() as db:
                queues.save(db, form, self.editing or None)
        except DomainError as exc:
            self.form_error = exc.code
            return
        self.form_open, self.form_error, self.notice = False, "", "queues.saved"
        self._reload()

    @rx.event
    def remove(self, code: str):
        try:
            with session_scope() as db:
                queues.remove(db, str(code)[:40])
        except DomainError as exc:
            self.notice, self.form_error = "", exc.code
            return
        self.form_open, self.notice = False, "queues.removed"
        self._reload()
