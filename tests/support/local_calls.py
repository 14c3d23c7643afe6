"""Calls through the local provider's app side, with the media server's control channel recorded
(tests/integration/test_queue.py, test_callbacks.py): the app's own code decides and records everything;
the media server's reports are fed back through the app's `control.handle_callback`."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from call_center.api.routes.devices import _presence_connect
from call_center.models import Agent, Call, CallOffer
from call_center.models.base import utcnow
from call_center.services import agents
from call_center.telephony.local import control
from tests.conftest import make_agent


class MediaRecorder:
    """Stands in for the media server's control channel: records each request, answers like it."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def request(self, op: str, **args: Any) -> dict[str, Any]:
        self.requests.append((op, args))
        return {"sdp": "v=0 (answer)"}

    def ops(self, op: str) -> list[dict[str, Any]]:
        return [args for name, args in self.requests if name == op]


def record_media(monkeypatch: pytest.MonkeyPatch) -> MediaRecorder:
    recorder = MediaRecorder()
    monkeypatch.setattr(control, "client", lambda: recorder)
    return recorder


def online_agent(db: Session, email: str) -> Agent:
    """An available agent whose softphone's event stream is open (what the stream's route records)."""
    agent = make_agent(db, email=email)
    agents.set_availability(db, agent.id, "available")
    db.commit()
    _presence_connect(control.Device(agent.identity, agent))
    return agent


def calls_in(db: Session, number: str, to: str | None = None) -> Call:
    """A simulated phone with `number` calls the company (control.phone_calls_company): COMPANY_NUMBER, or
    `to`, one of the numbers an admin mapped to a queue."""
    tester = db.exec(select(Agent).where(Agent.email == "tester@example.com")).first()
    tester = tester or make_agent(db, email="tester@example.com")
    phone = control.Device(control.phone_identity(number), tester, number)
    reply = control.phone_calls_company(db, phone, "v=0 (offer)", to)
    return db.get(Call, reply["call_id"])


def media_reports(db: Session, call: Call, status: str, **extra: Any) -> None:
    """What the media server reports about a call (signed in real life: test_local_signaling)."""
    body = {"type": "status", "sid": call.provider_call_sid, "status": status, "at": utcnow().isoformat()}
    control.handle_callback(db, {"event_id": f"{call.provider_call_sid}:{status}", **body, **extra})
    db.commit()


def ringing(db: Session, call: Call) -> list[int]:
    db.expire_all()
    query = select(CallOffer.agent_id).where(CallOffer.call_id == call.id, CallOffer.outcome == "ringing")
    return list(db.exec(query))
