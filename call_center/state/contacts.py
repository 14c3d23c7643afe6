"""Contacts page: list, search, add, edit, delete; click-to-call goes through the softphone."""

from __future__ import annotations

from typing import Any

import reflex as rx

from call_center.core import locale
from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.models import Contact
from call_center.services import contacts, dispositions, history, numbers
from call_center.services.errors import DomainError
from call_center.state.session import SessionState

PAGE = 50
CALLS = 20  # a contact's latest calls shown on the contacts page


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
    calls_for: int = 0  # the contact whose calls are shown (0: none)
    calls_name: str = ""
    contact_calls: list[dict[str, Any]] = []

    @rx.var
    def total_label(self) -> str:
        return locale.plural("count.contacts", self.total, self.lang, self.digits)

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

    @rx.event
    def show_calls(self, contact_id: int):
        """The contact's calls (those this agent may see, as in the history), newest first, with what each
        was about: disposition, notes and tags."""
        from call_center.state.history import row_for

        if self.calls_for == int(contact_id):
            self.calls_for, self.contact_calls = 0, []  # the same button again: hide them
            return
        with session_scope() as db:
            viewer = self._current_agent()
            contact = db.get(Contact, int(contact_id))
            if viewer is None or contact is None:
                return
            wanted = history.CallFilter(search=contact.phone)
            found, _ = history.list_calls(db, viewer, wanted, page_size=CALLS)
            names = {lang: dispositions.names(db, lang) for lang in ("ar", "en")}
            self.calls_for, self.calls_name = contact.id or 0, contact.name
        rows = []
        for call in found:
            row = row_for(call, viewer.digits)
            for lang in ("ar", "en"):  # (the page picks its language's)
                row[f"disposition_{lang}"] = names[lang].get(row["disposition"], row["disposition"])
            rows.append(row)
        self.contact_calls = rows

    @rx.event
    def hide_calls(self):
        self.calls_for, self.contact_calls = 0, []
