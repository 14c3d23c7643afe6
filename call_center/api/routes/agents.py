"""Agents' state timelines (available, ringing, on call, wrap-up, away, offline) for reports and the CRM."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from call_center.api.deps import Reader, SessionDep
from call_center.models import Agent, Role
from call_center.models.base import utcnow
from call_center.services import agent_states

router = APIRouter(prefix="/api/agents", tags=["agents"])


class StateSpan(BaseModel):
    state: str
    reason: str | None
    call_id: int | None
    started_at: datetime
    ended_at: datetime | None


class AgentStates(BaseModel):
    agent_id: int
    since: datetime
    until: datetime
    spans: list[StateSpan]
    seconds: dict[str, float]  # time in each state within [since, until)


@router.get("/{agent_id:int}/states", response_model=AgentStates)
def states(
    agent_id: int,
    viewer: Reader,
    db: SessionDep,
    since: Annotated[
        datetime | None, Query(description="ISO 8601 with a time zone; default: 24 h ago")
    ] = None,
    until: Annotated[datetime | None, Query(description="default: now")] = None,
) -> AgentStates:
    """An agent's states over a period. Agents see their own; admins (and their API keys) everyone's."""
    if (viewer.role != Role.ADMIN and viewer.id != agent_id) or db.get(Agent, agent_id) is None:
        # like a call: another agent's states are "not found" for an agent, not a hint that they exist
        raise HTTPException(404, {"code": "error.not_found", "message": f"no agent {agent_id} for you"})
    for value in (since, until):
        if value is not None and value.tzinfo is None:
            raise HTTPException(
                422, {"code": "error.generic", "message": "times need a time zone, e.g. +02:00"}
            )
    until = until or utcnow()
    since = since or until - timedelta(days=1)
    spans = [
        StateSpan(
            state=s.state, reason=s.reason, call_id=s.call_id, started_at=s.started_at, ended_at=s.ended_at
        )
        for s in agent_states.timeline(db, agent_id, since, until)
    ]
    seconds = agent_states.seconds_per_state(db, agent_id, since, until)
    return AgentStates(agent_id=agent_id, since=since, until=until, spans=spans, seconds=seconds)
