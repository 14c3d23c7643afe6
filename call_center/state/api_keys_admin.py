"""Settings > API keys (admins): create (shown once) and revoke keys for the CRM."""

from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx

from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.services import api_keys
from call_center.services.errors import DomainError
from call_center.state.guard import Access
from call_center.state.session import SessionState


def _when(value: Any) -> str:
    return f"{value.astimezone(get_settings().zone):%Y-%m-%d %H:%M}" if value else ""


class ApiKeysState(SessionState):
    access: ClassVar[str] = Access.ADMIN  # every handler: admins only (the guard checks)

    keys: list[dict[str, Any]] = []
    new_key: str = ""
    error: str = ""

    def _reload(self) -> None:
        with session_scope() as db:
            self.keys = [
                {
                    "id": k.id,
                    "name": k.name,
                    "prefix": k.prefix,
                    "created": _when(k.created_at),
                    "last_used": _when(k.last_used_at),
                    "revoked": k.revoked_at is not None,
                }
                for k in api_keys.list_keys(db)
            ]

    @rx.event
    def load(self):
        self.new_key = self.error = ""
        self._reload()

    @rx.event
    def create(self, form: dict[str, Any]):
        agent = self._current_agent()
        if agent is None:  # signed out between the guard and here
            return
        try:
            with session_scope() as db:
                _, self.new_key = api_keys.create_key(db, agent, str(form.get("name", "")))
        except DomainError as exc:
            self.error = exc.code
            return
        self.error = ""
        self._reload()

    @rx.event
    def revoke(self, key_id: int):
        with session_scope() as db:
            api_keys.revoke_key(db, key_id)
        self.new_key = ""
        self._reload()
