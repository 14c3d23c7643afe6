"""The local provider as the app sees it: the browser engine's configuration and the server's part of call
control, carried out by the media server (`control.py` drives it, `carrier.py` is inside it)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from call_center.core.config import get_settings
from call_center.models import Agent, Call
from call_center.telephony.base import Capability, TelephonyProvider
from call_center.telephony.local import control


class LocalProvider(TelephonyProvider):
    name = "local"
    capabilities = frozenset({Capability.HOLD, Capability.TRANSFER, Capability.MONITOR, Capability.ECHO})

    def browser_config(self, agent: Agent) -> dict[str, Any]:
        settings = get_settings()
        return {
            "provider": self.name,
            "identity": agent.identity,
            "echo_number": settings.ECHO_NUMBER,
            "company_number": settings.COMPANY_NUMBER,
        }

    # The browser phones' signaling (/api/local/...) -------------------------------------------------------
    def place_call(self, db: Session, device: control.Device, to: str, offer: str) -> dict[str, Any]:
        if device.is_phone:
            return control.phone_calls_company(db, device, offer, to)
        return control.place_call(db, device.agent, to, offer)

    def answer(self, db: Session, device: control.Device, call_sid: str, offer: str) -> dict[str, Any]:
        return control.answer(db, device, call_sid, offer)

    def reject(self, db: Session, device: control.Device, call_sid: str) -> None:
        control.reject(db, device, call_sid)

    def hangup(self, db: Session, device: control.Device, call_sid: str) -> None:
        control.hangup(db, device, call_sid)

    def send_digits(self, db: Session, device: control.Device, call_sid: str, digits: str) -> None:
        control.send_digits(db, device, call_sid, digits)

    def monitor(
        self, db: Session, device: control.Device, call_sid: str, offer: str, mode: str
    ) -> dict[str, Any]:
        return control.monitor(db, device, call_sid, offer, mode)

    # Primitives of the call-control layer -----------------------------------------------------------------
    def ring_agents(self, db: Session, call: Call, agents: list[Agent]) -> None:
        control.ring_agents(db, call, agents)

    def signal_customer(self, db: Session, call: Call, message: dict[str, Any]) -> None:
        control.signal_customer(db, call, message)

    def announce_position(self, db: Session, call: Call, position: int) -> None:
        control.announce_position(db, call, position)

    def end_unanswered(self, db: Session, call: Call, reason: str) -> None:
        control.end_unanswered(db, call, reason)

    def hold_customer(self, db: Session, call: Call, on: bool) -> None:
        control.hold_customer(db, call, on)

    def invite(
        self, db: Session, call: Call, *, agent: Agent | None, number: str | None, ring_timeout: int, tag: str
    ) -> str:
        return control.invite(db, call, agent=agent, number=number, ring_timeout=ring_timeout, tag=tag)

    def cancel_invite(self, db: Session, call: Call, leg: str) -> None:
        control.cancel_invite(db, call, leg)

    def remove_party(self, db: Session, call: Call, leg: str) -> None:
        control.remove_party(db, call, leg)

    def set_monitor(self, db: Session, call: Call, leg: str, *, muted: bool, coach: str | None) -> None:
        control.set_monitor(db, call, leg, muted=muted, coach=coach)
