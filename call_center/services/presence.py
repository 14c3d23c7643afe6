"""Which agents can take a call now: active, "available", a softphone connected (its event stream open and
fresh: GET /api/devices/events, on both providers), not on a call, not in one, not rung for a transfer."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, delete, select

from call_center.models import (
    Agent,
    Availability,
    Call,
    CallParty,
    CallStatus,
    CallTransfer,
    DevicePresence,
    TransferState,
)
from call_center.models.base import utcnow

# A connection refreshes its row every HEARTBEAT seconds; rows older than the window are dead connections.
HEARTBEAT = timedelta(seconds=10)
ONLINE_WINDOW = timedelta(seconds=35)
ACTIVE_STATUSES = (CallStatus.QUEUED, CallStatus.INITIATED, CallStatus.RINGING, CallStatus.IN_PROGRESS)


def connect(db: Session, identity: str, agent_id: int | None) -> str:
    """Record a new device connection; returns its id (for heartbeat and disconnect)."""
    row = DevicePresence(id=str(uuid.uuid4()), identity=identity, agent_id=agent_id)
    db.add(row)
    db.flush()
    return row.id


def heartbeat(db: Session, connection_id: str) -> None:
    row = db.get(DevicePresence, connection_id)
    if row is not None:
        row.last_seen_at = utcnow()
        db.add(row)


def disconnect(db: Session, connection_id: str) -> int | None:
    """Forget a device connection; returns its agent's id (None for a simulated phone)."""
    row = db.get(DevicePresence, connection_id)
    db.exec(delete(DevicePresence).where(col(DevicePresence.id) == connection_id))
    return row.agent_id if row is not None else None


def is_online(db: Session, identity: str) -> bool:
    since = utcnow() - ONLINE_WINDOW
    query = select(DevicePresence.id).where(
        DevicePresence.identity == identity, col(DevicePresence.last_seen_at) >= since
    )
    return db.exec(query).first() is not None


def available_agents(db: Session) -> list[Agent]:
    """Agents to ring for an incoming call (all of them ring at once; the first to accept gets it)."""
    since = utcnow() - ONLINE_WINDOW
    online = select(DevicePresence.agent_id).where(col(DevicePresence.last_seen_at) >= since)
    on_call = select(Call.agent_id).where(
        col(Call.status).in_(ACTIVE_STATUSES), col(Call.agent_id).is_not(None)
    )
    # in someone else's call (a transfer they took, a consultation) or being rung for a transfer
    in_a_call = select(CallParty.agent_id).where(
        col(CallParty.left_at).is_(None), col(CallParty.agent_id).is_not(None)
    )
    rung = select(CallTransfer.to_agent_id).where(
        CallTransfer.state == TransferState.RINGING, col(CallTransfer.to_agent_id).is_not(None)
    )
    now = utcnow()
    query = (
        select(Agent)
        .where(
            col(Agent.is_active),
            Agent.availability == Availability.AVAILABLE,
            or_(col(Agent.wrapup_until).is_(None), col(Agent.wrapup_until) <= now),  # not in wrap-up
            col(Agent.id).in_(online),
            col(Agent.id).not_in(on_call),
            col(Agent.id).not_in(in_a_call),
            col(Agent.id).not_in(rung),
        )
        .order_by(col(Agent.last_seen_at))
    )
    return list(db.exec(query))


def purge_stale(db: Session) -> list[int]:
    """Forget dead connections (a worker killed with streams open); returns their agents' ids."""
    stale = col(DevicePresence.last_seen_at) < utcnow() - ONLINE_WINDOW * 4
    agent_ids = [a for a in db.exec(select(DevicePresence.agent_id).where(stale)).all() if a]
    db.exec(delete(DevicePresence).where(stale))
    return agent_ids
