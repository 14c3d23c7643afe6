"""Settings > Agents: admins add, edit, disable and re-enable agents."""

from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx

from call_center.core.db import session_scope
from call_center.models import Role
from call_center.services import agents
from call_center.services.errors import DomainError
from call_center.state.guard import Access
from call_center.state.session import SessionState


class AgentsAdminState(SessionState):
    access: ClassVar[str] = Access.ADMIN  # every handler: admins only (the guard checks)

    rows: list[dict[str, Any]] = []
    form_open: bool = False
    editing_id: int = 0
    form_name: str = ""
    form_email: str = ""
    form_role: str = Role.AGENT
    form_error: str = ""
    list_error: str = ""
    notice: str = ""

    def _reload(self) -> None:
        with session_scope() as db:
            self.rows = [
                {
                    "id": a.id,
                    "name": a.name,
                    "email": a.email,
                    "role": a.role,
                    "is_active": a.is_active,
                    "availability": a.availability,
                }
                for a in agents.list_agents(db)
            ]

    @rx.event
    def load(self):
        self.form_open = False
        self.notice = self.list_error = ""
        self._reload()

    @rx.event
    def open_new(self):
        self.form_open, self.editing_id, self.form_error = True, 0, ""
        self.form_name, self.form_email, self.form_role = "", "", Role.AGENT

    @rx.event
    def open_edit(self, agent_id: int):
        row = next((r for r in self.rows if r["id"] == agent_id), None)
        if row is None:
            return
        self.form_open, self.editing_id, self.form_error = True, agent_id, ""
        self.form_name, self.form_email, self.form_role = row["name"], row["email"], row["role"]

    @rx.event
    def close_form(self):
        self.form_open = False

    @rx.event
    def save(self, form: dict[str, Any]):
        name = str(form.get("name", ""))
        email = str(form.get("email", ""))
        role = str(form.get("role", Role.AGENT))
        password = str(form.get("password", ""))
        try:
            with session_scope() as db:
                if self.editing_id:
                    agents.update_agent(
                        db,
                        self.editing_id,
                        actor_id=self.agent_id,
                        name=name,
                        email=email,
                        role=role,
                        password=password or None,
                    )
                else:
                    agents.create_agent(db, email=email, name=name, password=password, role=role)
        except DomainError as exc:
            self.form_error = exc.code
            return
        self.form_open = False
        self.notice = "agents.saved"
        self._reload()

    @rx.event
    def set_active(self, agent_id: int, active: bool):
        try:
            with session_scope() as db:
                agents.update_agent(db, agent_id, actor_id=self.agent_id, is_active=active)
        except DomainError as exc:
            self.list_error, self.notice = exc.code, ""
            return
        self.list_error, self.notice = "", "agents.saved"
        self._reload()
