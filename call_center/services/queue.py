"""The inbound queue: callers wait, hear their position, and reach agents by the queue's strategy.

A customer's call enters the queue (`enter`) instead of ringing every agent. `dispatch` then does, in one
transaction that holds the queue's lock (an UPDATE of its `queue_state` row, so two workers never offer at
once):

1. offers that rang QUEUE_RING_SECONDS without an answer end as missed; the agent is told, and after
   QUEUE_MAX_MISSES misses in a row set to away (reason "missed") with a notice on their screen;
2. callers who waited QUEUE_MAX_WAIT_SECONDS, or who have nobody logged in to wait for, leave the queue
   (the call ends, with the reason);
3. calls with no ringing offer are matched to available agents (`routing.assign`: pure, property-tested)
   and rung through the call-control layer;
4. callers whose position changed, or who were told it QUEUE_ANNOUNCE_SECONDS ago, hear it again (the
   provider's `announce_position`; the simulated phone shows it too).

It runs when a call enters, when an agent declines or answers, when a call ends, and every second from
each worker's agent clock (timeouts, agents coming back). Everything it decides is recorded: the entry's
outcome and wait on the call (`queue_outcome`, `wait_seconds`), offers, agent states.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from call_center.core.config import get_settings
from call_center.models import (
    Agent,
    AgentState,
    AgentStateSpan,
    Availability,
    AwayReason,
    Call,
    CallOffer,
    CallStatus,
    OfferOutcome,
    QueueEntry,
    QueueOutcome,
    QueueState,
)
from call_center.models.base import utcnow
from call_center.services import agent_states, devices, offers, presence, queues, routing
from call_center.services.events import queue_event

logger = logging.getLogger(__name__)

DEFAULT = queues.DEFAULT
TOPIC = "queue.updated"  # a caller entered or left a queue (live views: the wallboard)
LOCK = "*"  # the queue_state row every round locks: one round at a time across queues and workers
MISSED = "missed"  # the softphone's cancel reason when an offer rang out
TIMEOUT_REASON = "queue.reason.timeout"
NO_AGENTS_REASON = "call.error.no_agents"


def _provider() -> Any:
    from call_center.telephony import get_provider

    return get_provider()


def entry_of(db: Session, call_id: int) -> QueueEntry | None:
    return db.exec(select(QueueEntry).where(QueueEntry.call_id == call_id)).first()


def queue_of(db: Session, call: Call) -> str:
    """The queue the call waits in (or would): its entry's, else the one its dialled number maps to."""
    entry = entry_of(db, call.id or 0)
    return entry.queue if entry is not None else queues.for_number(db, call.to_number)


def enter(db: Session, call: Call, queue: str | None = None) -> QueueEntry:
    """The call waits in the queue its number maps to (once, however often the provider asks). Commits."""
    found = entry_of(db, call.id or 0)
    if found is not None:
        return found
    entry = QueueEntry(call_id=call.id or 0, queue=queue or queues.for_number(db, call.to_number))
    db.add(entry)
    queue_event(db, TOPIC, {"call_id": call.id, "queue": entry.queue, "outcome": entry.outcome})
    db.commit()
    logger.info("call %s from %s queues in %r", call.id, call.customer_number, entry.queue)
    return entry


def closed(db: Session, call: Call, now: datetime | None = None) -> queues.QueueConfig | None:
    """Outside its queue's opening hours the call does not queue: it is recorded as having come while
    closed (entry outcome "closed", no wait) and the queue's settings are returned for its closed message;
    None while the queue is open. Commits when closed."""
    now = now or utcnow()
    code = queue_of(db, call)
    config = queues.config(db, code)
    if queues.is_open(config.hours, now, get_settings().zone):
        return None
    entry = entry_of(db, call.id or 0) or QueueEntry(call_id=call.id or 0, queue=code, entered_at=now)
    if entry.outcome == QueueOutcome.WAITING:
        db.add(entry)
        db.flush()
        _leave(db, entry, call, QueueOutcome.CLOSED, now)
        db.commit()
        logger.info("call %s from %s: the queue %r is closed", call.id, call.customer_number, code)
    return config


def anyone_logged_in(db: Session, queue: str | None = None) -> bool:
    """Whether an agent could take a queue call at some point: active, not offline, softphone connected
    (and a member of `queue`, when it has members)."""
    since = utcnow() - presence.ONLINE_WINDOW
    online = select(presence.DevicePresence.agent_id).where(
        col(presence.DevicePresence.last_seen_at) >= since
    )
    query = select(Agent.id).where(
        col(Agent.is_active), Agent.availability != Availability.OFFLINE, col(Agent.id).in_(online)
    )
    members = queues.config(db, queue).members if queue else None
    if members is not None:
        query = query.where(col(Agent.id).in_(members))
    return db.exec(query.limit(1)).first() is not None


def _state(db: Session, name: str, now: datetime) -> QueueState:
    """Lock the row `name` of queue_state for this transaction (an UPDATE), creating it the first time."""
    result = db.exec(update(QueueState).where(col(QueueState.name) == name).values(dispatched_at=now))
    if not getattr(result, "rowcount", 0):
        db.add(QueueState(name=name, dispatched_at=now))
        db.flush()
    state = db.get(QueueState, name)
    assert state is not None
    return state


def _lock(db: Session, queue: str, now: datetime) -> QueueState:
    """Take the one dispatch lock (an agent may serve several queues: two rounds never offer at once),
    then the queue's own row (round-robin's turn)."""
    _state(db, LOCK, now)
    return _state(db, queue, now)


def _waiting(db: Session, queue: str) -> list[tuple[QueueEntry, Call]]:
    query = (
        select(QueueEntry, Call)
        .join(Call, col(Call.id) == col(QueueEntry.call_id))
        .where(QueueEntry.queue == queue, QueueEntry.outcome == QueueOutcome.WAITING)
        .order_by(col(QueueEntry.entered_at), col(QueueEntry.id))
    )
    return list(db.exec(query))


def _candidates(db: Session, now: datetime, members: frozenset[int] | None) -> list[routing.Candidate]:
    """Agents who can be offered a queue call now (presence.available_agents: available, connected, not
    on a call or rung for a transfer, not in wrap-up; and not ringing for another call; members of the
    queue when it has members), with how long they have been available and their calls today."""
    ringing = set(db.exec(select(CallOffer.agent_id).where(CallOffer.outcome == OfferOutcome.RINGING)).all())
    ids = [
        a.id or 0
        for a in presence.available_agents(db)
        if a.id not in ringing and (members is None or a.id in members)
    ]  # one call rings at a time
    if not ids:
        return []
    since = dict(
        db.exec(
            select(AgentStateSpan.agent_id, AgentStateSpan.started_at).where(
                col(AgentStateSpan.agent_id).in_(ids),
                col(AgentStateSpan.ended_at).is_(None),
                AgentStateSpan.state == AgentState.AVAILABLE,
            )
        ).all()
    )
    midnight = now.astimezone(get_settings().zone).replace(hour=0, minute=0, second=0, microsecond=0)
    today = dict(
        db.exec(
            select(CallOffer.agent_id, func.count())
            .where(
                col(CallOffer.agent_id).in_(ids),
                CallOffer.outcome == OfferOutcome.ANSWERED,
                col(CallOffer.offered_at) >= midnight,
            )
            .group_by(col(CallOffer.agent_id))
        ).all()
    )
    return [
        routing.Candidate(
            agent_id=i, available=True, idle_since=since.get(i), calls_today=int(today.get(i, 0))
        )
        for i in ids
    ]


def _let_go(
    db: Session, call_ids: list[int], now: datetime, ring_seconds: int
) -> dict[int, tuple[frozenset[int], frozenset[int]]]:
    """For each call: the agents who let it ring out or declined it, and those of them who did so less
    than the queue's ring time ago (not offered it again yet)."""
    rest = now - timedelta(seconds=ring_seconds)
    rows = db.exec(
        select(CallOffer.call_id, CallOffer.agent_id, CallOffer.ended_at).where(
            col(CallOffer.call_id).in_(call_ids),
            col(CallOffer.outcome).in_((OfferOutcome.MISSED, OfferOutcome.DECLINED)),
        )
    ).all()
    missed: dict[int, set[int]] = {}
    resting: dict[int, set[int]] = {}
    for call_id, agent_id, ended_at in rows:
        missed.setdefault(call_id, set()).add(agent_id)
        if ended_at is not None and ended_at > rest:
            resting.setdefault(call_id, set()).add(agent_id)
    return {
        call_id: (frozenset(agents), frozenset(resting.get(call_id, ())))
        for call_id, agents in missed.items()
    }


def _expire_offers(
    db: Session, calls: list[Call], now: datetime, ring_seconds: int
) -> list[tuple[Call, int, str | None]]:
    """Offers that rang the queue's ring time end as missed; returns (call, agent, the provider's leg
    ringing them, to stop) of each."""
    settings = get_settings()
    cutoff = now - timedelta(seconds=ring_seconds)
    by_id = {c.id: c for c in calls}
    rows = db.exec(
        select(CallOffer.call_id, CallOffer.agent_id).where(
            col(CallOffer.call_id).in_(list(by_id)),
            CallOffer.outcome == OfferOutcome.RINGING,
            col(CallOffer.offered_at) <= cutoff,
        )
    ).all()
    missed: list[tuple[Call, int, str | None]] = []
    for call_id, agent_id in rows:
        call = by_id[call_id]
        leg = offers.leg_of(db, call_id, agent_id)
        offers.end_offer(db, call_id, agent_id, OfferOutcome.MISSED)
        devices.tell_agents(
            db, [agent_id], {"type": "cancel", "call_sid": call.provider_call_sid, "reason": MISSED}
        )
        agent = db.get(Agent, agent_id)
        if agent is not None:
            agent.missed_in_row += 1
            if (
                agent.missed_in_row >= settings.QUEUE_MAX_MISSES
                and agent.availability == Availability.AVAILABLE
            ):
                agent.availability, agent.away_reason = Availability.AWAY, AwayReason.MISSED
                logger.info(
                    "agent %s missed %d queue calls in a row: set to away", agent_id, agent.missed_in_row
                )
            db.add(agent)
            db.flush()
        agent_states.track(db, agent_id, at=now)
        missed.append((call, agent_id, leg))
    return missed


def _leave(db: Session, entry: QueueEntry, call: Call, outcome: str, now: datetime) -> None:
    entry.outcome, entry.left_at = outcome, now
    db.add(entry)
    call.queue_outcome, call.queue = outcome, entry.queue
    call.wait_seconds = max(0, int((now - entry.entered_at).total_seconds()))
    db.add(call)
    queue_event(db, TOPIC, {"call_id": call.id, "queue": entry.queue, "outcome": outcome})
    db.flush()


@dataclass
class Round:
    """What one round decided (recorded, committed), for `_act` to carry out."""

    plan: list[tuple[int, list[int]]] = field(default_factory=list)
    announce: list[tuple[Call, int]] = field(default_factory=list)
    to_end: list[tuple[Call, str]] = field(default_factory=list)
    calls: dict[int | None, Call] = field(default_factory=dict)
    rung_out: list[tuple[Call, int, str | None]] = field(default_factory=list)


def waiting_queues(db: Session) -> list[str]:
    """The queues with callers waiting, the one whose caller has waited longest first."""
    query = (
        select(QueueEntry.queue, func.min(QueueEntry.entered_at))
        .where(QueueEntry.outcome == QueueOutcome.WAITING)
        .group_by(col(QueueEntry.queue))
    )
    return [name for name, _ in sorted(db.exec(query).all(), key=lambda row: row[1])]


def dispatch(
    db: Session, queue: str | None = None, now: datetime | None = None
) -> list[tuple[int, list[int]]]:
    """One round of `queue`, or of every queue with callers waiting, the longest wait first (see the
    module docstring). Commits; returns the offers made."""
    plan: list[tuple[int, list[int]]] = []
    for name in [queue] if queue is not None else waiting_queues(db):
        decided = decide(db, name, now)
        _act(db, decided)
        plan += decided.plan
    return plan


def decide(db: Session, queue: str = DEFAULT, now: datetime | None = None) -> Round:
    """Steps 1-3 of a round, recorded under the dispatch lock and committed (nothing told yet)."""
    now = now or utcnow()
    if not waiting_count(db, queue):
        return Round()  # nothing waits: no lock, no write (this runs every second in every worker)
    config = queues.config(db, queue)  # (a queue removed since: the default's rules)
    state = _lock(db, queue, now)
    waiting = _waiting(db, queue)
    if not waiting:
        db.commit()
        return Round()
    rung_out = _expire_offers(db, [c for _, c in waiting], now, config.ring_seconds)
    to_end: list[tuple[Call, str]] = []
    staying: list[tuple[QueueEntry, Call]] = []
    nobody = not anyone_logged_in(db, queue)
    for entry, call in waiting:
        if call.status in CallStatus.TERMINAL:
            _leave(db, entry, call, QueueOutcome.ABANDONED, call.ended_at or now)  # (missed by call_ended)
        elif now - entry.entered_at >= timedelta(seconds=config.max_wait_seconds):
            _leave(db, entry, call, QueueOutcome.TIMEOUT, now)
            to_end.append((call, TIMEOUT_REASON))
        elif nobody:
            _leave(db, entry, call, QueueOutcome.NO_AGENTS, now)
            to_end.append((call, NO_AGENTS_REASON))
        else:
            staying.append((entry, call))
    ringing = set(
        db.exec(
            select(CallOffer.call_id).where(
                col(CallOffer.call_id).in_([c.id for _, c in staying]),
                CallOffer.outcome == OfferOutcome.RINGING,
            )
        ).all()
    )
    unoffered = [(e, c) for e, c in staying if c.id not in ringing]
    let_go = _let_go(db, [c.id or 0 for _, c in unoffered], now, config.ring_seconds)
    none: tuple[frozenset[int], frozenset[int]] = (frozenset(), frozenset())
    plan = routing.assign(
        config.strategy,
        [routing.Waiting(c.id or 0, e.entered_at, *let_go.get(c.id or 0, none)) for e, c in unoffered],
        _candidates(db, now, config.members),
        state.last_offered_agent,
    )
    if plan:
        state.last_offered_agent = plan[-1][1][-1]
        db.add(state)
    for call_id, agent_ids in plan:  # recorded under the lock: the next dispatcher sees them ringing
        offers.open_offers(db, call_id, agent_ids)
    announce: list[tuple[Call, int]] = []
    for position, (entry, call) in enumerate(staying, start=1):
        due = entry.announced_at is None or now - entry.announced_at >= timedelta(
            seconds=config.announce_seconds
        )
        if entry.position != position or due:
            entry.position, entry.announced_at = position, now
            db.add(entry)
            announce.append((call, position))
    db.commit()
    return Round(plan, announce, to_end, {c.id: c for _, c in staying}, rung_out)


def _act(db: Session, decided: Round) -> None:
    """What the round decided, done through the call-control layer and the provider (after the commit:
    the provider's callbacks may come back before this returns)."""
    from call_center.services import call_control

    provider = _provider()
    for call, agent_id, leg in decided.rung_out:  # (local phones were told already; Twilio has legs)
        if leg:
            provider.stop_ringing(db, call, agent_id, leg)
    for call, reason in decided.to_end:
        try:
            provider.end_unanswered(db, call, reason)
        except Exception:  # the call may be gone already; the fold keeps whichever end came first
            logger.exception("call %s: ending it (%s) failed", call.id, reason)
    for call_id, agent_ids in decided.plan:
        agents = [a for a in (db.get(Agent, i) for i in agent_ids) if a is not None]
        call_control.ring_offered(db, decided.calls[call_id], agents)
    for call, position in decided.announce:
        try:
            provider.announce_position(db, call, position)
        except Exception:  # an announcement is not worth failing the round for
            logger.exception("call %s: announcing position %d failed", call.id, position)
        call_control.signal(db, call, {"type": "queue", "position": position})
    db.commit()


def answered(db: Session, call: Call, agent_id: int) -> None:
    """An agent took a queued call: it leaves the queue, and their run of misses ends. Flushes."""
    entry = entry_of(db, call.id or 0)
    if entry is not None and entry.outcome == QueueOutcome.WAITING:
        _leave(db, entry, call, QueueOutcome.ANSWERED, utcnow())
    db.execute(update(Agent).where(col(Agent.id) == agent_id).values(missed_in_row=0))


def call_ended(db: Session, call: Call) -> None:
    """The call ended while it waited (the caller hung up): abandoned, with the wait. Flushes."""
    entry = entry_of(db, call.id or 0)
    if entry is not None and entry.outcome == QueueOutcome.WAITING:
        _leave(db, entry, call, QueueOutcome.ABANDONED, call.ended_at or utcnow())
        logger.info("call %s abandoned after %s s in the queue", call.id, call.wait_seconds)
    elif entry is not None and call.queue_outcome != entry.outcome:
        db.refresh(call)  # a queue round (another worker's, the agent clock) recorded it first


def waiting_count(db: Session, queue: str = DEFAULT) -> int:
    query = (
        select(func.count())
        .select_from(QueueEntry)
        .where(QueueEntry.queue == queue, QueueEntry.outcome == QueueOutcome.WAITING)
    )
    return int(db.exec(query).one())


def positions(db: Session, queue: str = DEFAULT) -> Iterable[tuple[int, int]]:
    """(call id, position) of the waiting calls, first in line first."""
    return ((c.id or 0, i) for i, (_, c) in enumerate(_waiting(db, queue), start=1))
