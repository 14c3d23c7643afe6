"""After-call work: when a call ends, its agent has WRAPUP_SECONDS to say what it was about.

During wrap-up the agent is not offered calls (services.presence), picks a disposition, writes notes and
tags; they can end it early or extend it once. Notes, disposition and tags are saved with the call, whenever
the agent saves them (during wrap-up or later): what was typed is never lost because the time ran out.

The agent's open pages hear of wrap-up on their account topic (`{"type": "wrapup"}`); the agent clock
(`expire_due`, every second in each worker) ends wrap-ups whose time is up, so an agent who closed the page
still becomes available on time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from call_center.core import tags as tag_rules
from call_center.core.config import get_settings
from call_center.models import (
    Agent,
    AgentState,
    AgentStateSpan,
    Call,
    CallParty,
    CallStatus,
    QueueEntry,
    Role,
)
from call_center.models.base import utcnow
from call_center.services import agent_states, calls, dispositions, queues
from call_center.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from call_center.services.events import queue_event

logger = logging.getLogger(__name__)

MAX_NOTES = 4000


def _topic(agent_id: int) -> str:
    from call_center.services.agents import account_topic

    return account_topic(agent_id)


def _tell(db: Session, agent_id: int) -> None:
    queue_event(db, _topic(agent_id), {"type": "wrapup", "agent_id": agent_id})


def start(db: Session, call: Call, agent_id: int | None = None, *, at: datetime | None = None) -> bool:
    """The call ended (or `agent_id` left it): that agent wraps it up. Only a conversation with a
    customer needs it: not a call nobody answered (busy, no answer, a refused number; its disposition can
    still be set from the history) and not the echo test line. Flushes; returns whether wrap-up started."""
    agent_id = agent_id or call.agent_id
    settings = get_settings()
    seconds = _seconds_for(db, call.id)
    if (
        not agent_id
        or seconds <= 0
        or call.answered_at is None
        or call.customer_number == settings.ECHO_NUMBER
    ):
        return False
    agent = db.get(Agent, agent_id)
    if agent is None:
        return False
    if agent.wrapup_call_id == call.id or _wrapped_before(db, agent_id, call.id or 0):
        return False  # once per call and agent (a late or repeated event of an ended call)
    begin = at or utcnow()
    agent.wrapup_call_id = call.id
    agent.wrapup_until = begin + timedelta(seconds=seconds)
    agent.wrapup_extended = False
    db.add(agent)
    db.flush()
    agent_states.track(db, agent_id, at=begin)
    _tell(db, agent_id)
    logger.info("agent %s wraps up call %s for %d s", agent_id, call.id, seconds)
    return True


def _seconds_for(db: Session, call_id: int | None) -> int:
    """The wrap-up time of a call: its queue's (an inbound call that queued), else WRAPUP_SECONDS."""
    code = db.exec(select(QueueEntry.queue).where(QueueEntry.call_id == call_id)).first() if call_id else None
    return queues.wrapup_seconds(db, code)


def _wrapped_before(db: Session, agent_id: int, call_id: int) -> bool:
    query = select(AgentStateSpan.id).where(
        AgentStateSpan.agent_id == agent_id,
        AgentStateSpan.call_id == call_id,
        AgentStateSpan.state == AgentState.WRAP_UP,
    )
    return db.exec(query).first() is not None


def finish(
    db: Session, agent_id: int, *, at: datetime | None = None, expected_call: int | None = None
) -> bool:
    """End the agent's wrap-up (early, or when its time is up). Only the wrap-up of `expected_call` when
    given (so a late timer cannot end the next call's). Flushes; returns whether one ended."""
    query = update(Agent).where(col(Agent.id) == agent_id, col(Agent.wrapup_call_id).is_not(None))
    if expected_call is not None:
        query = query.where(col(Agent.wrapup_call_id) == expected_call)
    result = db.exec(query.values(wrapup_call_id=None, wrapup_until=None, wrapup_extended=False))
    if not getattr(result, "rowcount", 0):
        return False
    db.flush()
    agent_states.track(db, agent_id, at=at)
    _tell(db, agent_id)
    return True


def extend(db: Session, agent_id: int) -> datetime:
    """Once per wrap-up: as long again (the call's queue's wrap-up time, else WRAPUP_SECONDS). Returns the
    new end."""
    agent = db.get(Agent, agent_id)
    if agent is None or agent.wrapup_call_id is None or agent.wrapup_until is None:
        raise Conflict("wrapup.error.none", "you are not in wrap-up")
    if agent.wrapup_extended:
        raise Conflict("wrapup.error.extended", "wrap-up can be extended once")
    more = _seconds_for(db, agent.wrapup_call_id) or get_settings().WRAPUP_SECONDS
    agent.wrapup_until = max(agent.wrapup_until, utcnow()) + timedelta(seconds=more)
    agent.wrapup_extended = True
    db.add(agent)
    db.flush()
    _tell(db, agent_id)
    return agent.wrapup_until


def expire_due(db: Session, now: datetime | None = None) -> int:
    """End every wrap-up whose time is up, as of when it was up. Returns how many ended."""
    now = now or utcnow()
    due = db.exec(
        select(Agent.id, Agent.wrapup_call_id, Agent.wrapup_until).where(
            col(Agent.wrapup_call_id).is_not(None), col(Agent.wrapup_until) <= now
        )
    ).all()
    ended = 0
    for agent_id, call_id, until in due:
        if finish(db, agent_id or 0, at=until, expected_call=call_id):
            ended += 1
    return ended


def may_edit(db: Session, agent: Agent, call: Call) -> bool:
    """The call's agent, an agent who took part in it, or an admin."""
    if agent.role == Role.ADMIN or call.agent_id == agent.id:
        return True
    query = select(CallParty.id).where(CallParty.agent_id == agent.id, CallParty.call_id == call.id)
    return db.exec(query).first() is not None


def save(
    db: Session, agent: Agent, call_id: int, *, disposition: str | None, notes: str, tags: str | list[str]
) -> Call:
    """Keep what the call was about with the call. Flushes; the history hears it when `db` commits."""
    call = db.get(Call, call_id)
    if call is None:
        raise NotFound("error.not_found", f"no call {call_id}")
    if not may_edit(db, agent, call):
        raise Forbidden("error.forbidden", "only the call's agents can wrap it up")
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise InvalidInput("wrapup.error.notes_long", f"notes are limited to {MAX_NOTES} characters")
    call.disposition = dispositions.check_usable(db, disposition)
    call.notes = notes or None
    call.tags = tag_rules.store(tags)
    call.updated_at = utcnow()
    db.add(call)
    db.flush()
    calls.publish_call(db, call)
    return call


def current(db: Session, agent_id: int) -> dict[str, Any] | None:
    """The agent's wrap-up now, as the page shows it (None: not in wrap-up)."""
    agent = db.get(Agent, agent_id)
    if agent is None or agent.wrapup_call_id is None or agent.wrapup_until is None:
        return None
    call = db.get(Call, agent.wrapup_call_id)
    if call is None or call.status not in CallStatus.TERMINAL:
        return None
    return {
        "call_id": call.id,
        "until": agent.wrapup_until,
        "extended": agent.wrapup_extended,
        "call": call,
    }
