"""Messages to browser phones, whichever provider carries the call: every softphone (local or Twilio) keeps
an event stream to the server (GET /api/local/events today) that listens on its device topic."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from call_center.services.events import queue_event


def device_topic(identity: str) -> str:
    return f"device.{identity}"


def agent_identity(agent_id: int) -> str:
    return f"agent_{agent_id}"


def status(
    call_sid: str | None, status: str, *, reason: str | None = None, by: str | None = None
) -> dict[str, Any]:
    """A softphone's "where this call stands" message (both engines read it the same way)."""
    return {"type": "status", "call_sid": call_sid, "status": status, "reason": reason, "by": by}


def tell_agent(db: Session, agent_id: int, message: dict[str, Any]) -> None:
    """Queue a message for an agent's softphone(s) (sent when `db` commits)."""
    queue_event(db, device_topic(agent_identity(agent_id)), message)


def tell_agents(db: Session, agent_ids: list[int], message: dict[str, Any]) -> None:
    for agent_id in agent_ids:
        tell_agent(db, agent_id, message)
