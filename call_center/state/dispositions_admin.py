"""Settings > Dispositions: admins add dispositions and turn them on and off."""

from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx

from call_center.core.db import session_scope
from call_center.services import dispositions
from call_center.services.errors import DomainError
from call_center.state.guard import Access
from call_center.state.session import SessionState


class DispositionsAdminState(SessionState):
    access: ClassVar[str] = Access.ADMIN  # every handler: admins only (the guard checks)

    rows: list[dict[str, Any]] = []
    error: str = ""
    notice: str = ""

    def _reload(self) -> None:
        with session_scope() as db:
            self.rows = [
                {"code": d.code, "name_ar": d.name_ar, "name_en": d.name_en, "is_active": d.is_active}
                for d in dispositions.list_dispositions(db)
            ]

    @rx.event
    def load(self):
        self.error = self.notice = ""
        self._reload()

    @rx.event
    def add(self, form: dict[str, Any]):
        try:
            with session_scope() as db:
                dispositions.create(
                    db, name_ar=str(form.get("name_ar", "")), name_en=str(form.get("name_en", ""))
                )
        except DomainError as exc:
            self.error, self.notice = exc.code, ""
            return
        self.error, self.notice = "", "dispositions.added"
        self._reload()

    @rx.event
    def set_active(self, code: str, active: bool):
        try:
            with session_scope() as db:
                dispositions.set_active(db, str(code)[:40], bool(active))
        except DomainError as exc:
            self.error, self.notice = exc.code, ""
            return
        self.error = ""
        self._reload()
