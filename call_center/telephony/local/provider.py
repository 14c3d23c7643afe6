"""The local provider as the app sees it: the browser engine's configuration and the server's part of call
control, carried out by the media server (`control.py` drives it, `carrier.py` is inside it)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from call_center.core.config import get_settings
from call_center.models import Agent, Call
from call_center.telephony.base import TelephonyProvider
from call_center.telephony.local import control


class LocalProvider(TelephonyProvider):
    name = "local"
    supports_hold = True

    def browser_config(self, agent: Agent) -> dict[str, Any]:
        settings = get_settings()
        return {
            "provider": self.name,
            "identity": agent.identity,
            "echo_number": settings.ECHO_NUMBER,
            "company_number": settings.COMPANY_NUMBER,
        }

    def place_call(self, db: Session, device: control.Device, to: str, offer: str) -> dict[str, Any]:
        if device.is_phone:
            return control.phone_calls_company(db, device, offer)
        return control.place_call(db, device.agent, to, offer)

    def answer(self, db: Session, device: control.Device, call_sid: str, offer: str) -> dict[str, Any]:
        return control.answer(db, device, call_sid, offer)

    def reject(self, db: Session, device: control.Device, call_sid: str) -> None:
        control.reject(db, device, call_sid)

    def hangup(self, db: Session, device: control.Device, call_sid: str) -> None:
        control.hangup(db, device, call_sid)

    def hold(self, db: Session, device: control.Device, call_sid: str, on: bool) -> None:
        control.hold(db, device, call_sid, on)

    def send_digits(self, db: Session, device: control.Device, call_sid: str, digits: str) -> None:
        control.send_digits(db, device, call_sid, digits)

    def ring_agents(self, db: Session, call: Call, agents: list[Agent]) -> None:
        control.offer_to_agents(db, call, agents)
