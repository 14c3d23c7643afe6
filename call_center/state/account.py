"""My account (every agent): change my own password; the other places I am signed in are signed out."""

from __future__ import annotations

from typing import Any

import reflex as rx

from call_center.core.db import session_scope
from call_center.services import agents
from call_center.services.errors import DomainError
from call_center.state.session import SessionState


class AccountState(SessionState):
    password_error: str = ""
    password_notice: str = ""
    display_notice: str = ""
    display_error: str = ""

    @rx.event
    def load(self):
        self.password_error = self.password_notice = self.display_notice = self.display_error = ""

    @rx.event
    def set_digits(self, digits: str):
        """Western or Arabic-Indic digits on my Arabic pages (dates, numbers, durations)."""
        try:
            with session_scope() as db:
                agents.set_preference(db, self.agent_id, "digits", str(digits))
        except DomainError as exc:
            self.display_error, self.display_notice = exc.code, ""
            return
        self.digits, self.display_error, self.display_notice = str(digits), "", "account.digits_saved"

    @rx.event
    def change_password(self, form: dict[str, Any]):
        old, new, again = (
            str(form.get(k, "")) for k in ("old_password", "new_password", "new_password_again")
        )
        self.password_notice = ""
        if new != again:
            self.password_error = "account.error.mismatch"
            return
        try:
            with session_scope() as db:
                agents.change_own_password(
                    db, self.agent_id, old=old, new=new, current_token=self._session_token()
                )
        except DomainError as exc:
            self.password_error = exc.code
            return
        self.password_error, self.password_notice = "", "account.password_changed"
