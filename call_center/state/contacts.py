"""Contacts page: list, search, add, edit, delete; click-to-call goes through the softphone."""

from __future__ import annotations

from typing import Any

import reflex as rx

from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.services import contacts, numbers
from call_center.services.errors import DomainError
from call_center.state.session import SessionState

PAGE = 50


class ContactsState(SessionState):
    rows: list[dict[str, Any]] = []
    total: int = 0
    query: str = ""
    form_open: bool = False
    editing_id: int = 0
    form_name: str = ""
    form_phone: str = ""
    form_notes: str = ""
    form_error: str = ""
    notice: str = ""
    confirm_delete: int = 0

    def _reload(self) -> None:
        region = get_settings().DEFAULT_REGION
        with session_scope() as db:
            found, self.total = contacts.search(db, self.query, limit=PAGE)
        self.rows = [
            {
                "id": c.id,
                "name": c.name,
                "phone": c.phone,
                "display": numbers.display(c.phone, region),
                "notes": c.notes,
            }
            for c in found
        ]

    @rx.event
    def load(self):
        self.form_open = False
        self.notice = ""
        self._reload()
        number = str(self.router.url.query_parameters.get("add", ""))[:32]
        if number:  # "Add to contacts" from a call of an unknown number: the form, with the number in it
            self.form_open, self.editing_id, self.form_error = True, 0, ""
            self.form_name, self.form_notes = "", ""
            self.form_phone = numbers.display(number, get_settings().DEFAULT_REGION)

    @rx.event
    def search(self, form: dict[str, Any]):
        self.query = str(form.get("q", ""))[:60]
        self._reload()

    @rx.event
    def open_new(self):
        self.form_open, self.editing_id, self.form_error = True, 0, ""
        self.form_name = self.form_phone = self.form_notes = ""

    @rx.event
    def open_edit(self, contact_id: int):
        row = next((r for r in self.rows if r["id"] == contact_id), None)
        if row is not None:
            self.form_open, self.editing_id, self.form_error = True, contact_id, ""
            self.form_name, self.form_phone, self.form_notes = row["name"], row["display"], row["notes"]

    @rx.event
    def close_form(self):
        self.form_open = False

    @rx.event
    def save(self, form: dict[str, Any]):
        name, phone, notes = str(form.get("name", "")), str(form.get("phone", "")), str(form.get("notes", ""))
        try:
            with session_scope() as db:
                if self.editing_id:
                    contacts.update_contact(db, self.editing_id, name=name, phone=phone, notes=notes)
                else:
                    contacts.create(db, name=name, phone=phone, notes=notes)
        except DomainError as exc:
            self.form_error = exc.code
            return None
        self.form_open, self.notice = False, "agents.saved"
        self._reload()
        return None

    @rx.event
    def ask_delete(self, contact_id: int):
        self.confirm_delete = contact_id

    @rx.event
    def cancel_delete(self):
        self.confirm_delete = 0

    @rx.event
    def delete(self):
        try:
            with session_scope() as db:
                contacts.delete(db, self.confirm_delete)
        except DomainError as exc:
            self.notice = exc.code
        self.confirm_delete = 0
        self._reload()
        return None
