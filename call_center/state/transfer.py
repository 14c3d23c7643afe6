"""The transfer panel of the call in progress: pick an available agent or type a number, then a cold or a
warm transfer; during a warm one, complete, cancel or bring everyone together. The steps are the
call-control layer's (services.transfers); what the panel shows of a transfer comes back from the server
through the softphone's event stream (SoftphoneState._on_transfer)."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx
from sqlmodel import Session

from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.models import Agent, TransferMode
from call_center.services import agents, numbers, transfers
from call_center.services.errors import DomainError
from call_center.state.softphone import SoftphoneState


class TransferPanelState(SoftphoneState):
    panel_open: bool = False
    targets: list[dict[str, str]] = []  # agents who can take the call now: id, name
    target_number: str = ""
    target_number_display: str = ""
    error: str = ""  # an i18n key

    def _agent(self) -> Agent:
        with session_scope() as db:
            agent = agents.get_agent(db, self.agent_id)
            db.expunge(agent)
        return agent

    def _load_targets(self) -> None:
        with session_scope() as db:
            found = transfers.transfer_targets(db, agents.get_agent(db, self.agent_id))
            self.targets = [{"id": str(a.id), "name": a.name} for a in found]

    @rx.event
    def toggle_panel(self):
        self.panel_open = not self.panel_open
        self.error = ""
        if self.panel_open:
            self._load_targets()

    @rx.event
    def refresh_targets(self):
        self._load_targets()

    @rx.event
    def set_target_number(self, value: str):
        self.target_number = value[:40]
        self.target_number_display = ""
        if self.target_number.strip():
            try:
                self.target_number_display = numbers.destination(self.target_number, get_settings()).display
                self.error = ""
            except DomainError as exc:
                self.error = exc.code

    def _start(self, mode: str, *, agent_id: int | None = None, number: str | None = None) -> None:
        if mode not in TransferMode.ALL:
            return
        try:
            with session_scope() as db:
                transfers.start(
                    db, self.call_sid, self._agent(), mode=mode, to_agent_id=agent_id, to_number=number
                )
        except DomainError as exc:
            self.error = exc.code
            if exc.code == "transfer.error.agent_unavailable":
                self._load_targets()
            return
        self.error, self.panel_open, self.target_number, self.target_number_display = "", False, "", ""

    @rx.event
    def to_agent(self, agent_id: str, mode: str):
        if agent_id.isdigit():
            self._start(mode, agent_id=int(agent_id))

    @rx.event
    def to_number(self, mode: str):
        self._start(mode, number=self.target_number)

    def _step(self, action: Callable[[Session, str, Agent], None]) -> None:
        try:
            with session_scope() as db:
                action(db, self.call_sid, self._agent())
        except DomainError as exc:
            self.error = exc.code
            return
        self.error = ""

    @rx.event
    def complete(self):
        self._step(transfers.complete)

    @rx.event
    def cancel(self):
        self._step(transfers.cancel)

    @rx.event
    def talk_to_all(self):
        self._step(transfers.talk_to_all)
