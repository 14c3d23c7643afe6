"""Agent states over time: available, ringing, on call, wrap-up, away (with a reason) and offline.

What an agent chose (`Agent.availability`: available, away with a reason, offline) and what their calls
and softphone make of it give one state at any moment (`effective`). `track` records it as a span of time
(`agent_state_span`): the open span is closed and a new one opened only when the state changes, so time
per state per agent is a sum over spans. A partial unique index allows one open span per agent, so two
workers tracking the same agent at once cannot both open one.

Every change is also published (`agent.state` on the bus) for live views.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from call_center.models import (
    Agent,
    AgentState,
    AgentStateSpan,
    Availability,
    Call,
    CallParty,
    CallStatus,
    CallTransfer,
    TransferState,
)
from call_center.models.base import utcnow
from call_center.services import offers, presence
from call_center.services.events import queue_event

TOPIC = "agent.state"
LIVE = (CallStatus.QUEUED, CallStatus.INITIATED, CallStatus.RINGING, CallStatus.IN_PROGRESS)


@dataclass(frozen=True)
class State:
    state: str
    reason: str | None = None
    call_id: int | None = None


def effective(db: Session, agent: Agent, now: datetime | None = None) -> State:
    """The agent's state now. Calls come first (an agent who chose "away" while on a call is on the call),
    then wrap-up, then what they chose; no softphone connected is offline."""
    now = now or utcnow()
    agent_id = agent.id or 0
    if not agent.is_active or agent.availability == Availability.OFFLINE:
        return State(AgentState.OFFLINE)
    on_call = db.exec(
        select(Call.id).where(col(Call.agent_id) == agent_id, col(Call.status).in_(LIVE)).limit(1)
    ).first()
    if on_call is None:
        on_call = db.exec(
            select(CallParty.call_id)
            .join(Call, col(Call.id) == col(CallParty.call_id))
            .where(
                col(CallParty.agent_id) == agent_id,
                col(CallParty.left_at).is_(None),
                col(Call.status).in_(LIVE),
            )
            .limit(1)
        ).first()
    if on_call is not None:
        return State(AgentState.ON_CALL, call_id=on_call)
    if not presence.is_online(db, agent.identity):
        return State(AgentState.OFFLINE)
    ringing = offers.ringing_calls(db, agent_id)
    if not ringing:
        ringing = list(
            db.exec(
                select(CallTransfer.call_id).where(
                    col(CallTransfer.to_agent_id) == agent_id, CallTransfer.state == TransferState.RINGING
                )
            )
        )
    if ringing:
        return State(AgentState.RINGING, call_id=ringing[0])
    if agent.wrapup_call_id is not None and agent.wrapup_until is not None and agent.wrapup_until > now:
        return State(AgentState.WRAP_UP, call_id=agent.wrapup_call_id)
    if agent.availability == Availability.AWAY:
        return State(AgentState.AWAY, reason=agent.away_reason)
    return State(AgentState.AVAILABLE)


def open_span(db: Session, agent_id: int) -> AgentStateSpan | None:
    query = select(AgentStateSpan).where(
        AgentStateSpan.agent_id == agent_id, col(AgentStateSpan.ended_at).is_(None)
    )
    return db.exec(query).first()


def track(db: Session, agent_id: int, *, at: datetime | None = None) -> State | None:
    """Record the agent's state if it changed (`at`: when it did, if known; else now). Flushes; the live
    update goes out when `db` commits. Returns the new state, or None when nothing changed."""
    agent = db.get(Agent, agent_id)
    if agent is None:
        return None
    db.refresh(agent)
    now = at or utcnow()
    current = effective(db, agent, now)
    span = open_span(db, agent_id)
    if span is not None and (span.state, span.reason, span.call_id) == (
        current.state,
        current.reason,
        current.call_id,
    ):
        return None
    if span is None and current.state == AgentState.OFFLINE:
        return None  # nothing recorded yet and still offline: no span to open
    try:
        with db.begin_nested():
            if span is not None:
                span.ended_at = max(now, span.started_at)
                db.add(span)
                db.flush()
            started = max(now, span.started_at) if span is not None else now
            db.add(
                AgentStateSpan(
                    agent_id=agent_id,
                    state=current.state,
                    reason=current.reason,
                    call_id=current.call_id,
                    started_at=started,
                )
            )
            db.flush()
    except IntegrityError:  # another worker recorded the same change first
        return None
    from call_center.services.agents import account_topic

    queue_event(db, account_topic(agent_id), {"type": "state", "state": current.state})
    queue_event(
        db,
        TOPIC,
        {"agent_id": agent_id, "state": current.state, "reason": current.reason,
         "call_id": current.call_id, "since": now.isoformat()},
    )  # fmt: skip
    return current


def track_many(db: Session, agent_ids: list[int] | set[int]) -> None:
    for agent_id in dict.fromkeys(agent_ids):
        if agent_id:
            track(db, agent_id)


def timeline(
    db: Session, agent_id: int, since: datetime | None = None, until: datetime | None = None
) -> list[AgentStateSpan]:
    """An agent's spans, oldest first (those overlapping [since, until) when given)."""
    query = select(AgentStateSpan).where(AgentStateSpan.agent_id == agent_id)
    if until is not None:
        query = query.where(col(AgentStateSpan.started_at) < until)
    if since is not None:
        query = query.where((col(AgentStateSpan.ended_at).is_(None)) | (col(AgentStateSpan.ended_at) > since))
    return list(db.exec(query.order_by(col(AgentStateSpan.started_at), col(AgentStateSpan.id))))


def seconds_per_state(db: Session, agent_id: int, since: datetime, until: datetime) -> dict[str, float]:
    """Time (seconds) the agent spent in each state within [since, until)."""
    totals: dict[str, float] = dict.fromkeys(AgentState.ALL, 0.0)
    for span in timeline(db, agent_id, since, until):
        start = max(span.started_at, since)
        end = min(span.ended_at or utcnow(), until)
        if end > start:
            totals[span.state] = totals.get(span.state, 0.0) + (end - start).total_seconds()
    return totals
