"""The live wallboard's figures (/wallboard): per queue and per agent, now and today.

`board` reads them in a few column queries: who waits in which queue (and since when), each agent's open
state span (what `agent_states.track` recorded), the call each agent is on, and today's calls (in
TIMEZONE) counted by `reports.report`, so "service level" and "abandonment" mean on the wallboard exactly
what they mean on the dashboard. The pages do not query on their own: `Boards` keeps one board per process,
read again at most once per event burst (every open wallboard of the process shares it), and the pages
are told over the event bus when something changed (calls, agent states). Elapsed times tick in the
browser from the seconds given here, so nothing is re-sent every second.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from call_center.core.config import get_settings
from call_center.models import (
    Agent,
    AgentState,
    AgentStateSpan,
    Call,
    CallParty,
    Contact,
    PartyKind,
    QueueEntry,
    QueueOutcome,
)
from call_center.services import agent_states, queue, queues, reports

# What changes a board: calls (ringing, answered, ended), callers entering and leaving queues, agents' states.
TOPICS = ("call.updated", queue.TOPIC, agent_states.TOPIC)
# The agents' states the queue tiles count: ringing is already taken by a call.
BUSY = (AgentState.ON_CALL, AgentState.RINGING)


@dataclass
class QueueTile:
    code: str
    name_ar: str
    name_en: str
    waiting: int = 0
    longest_wait: float = 0.0  # seconds the longest-waiting caller has waited (at `Board.at`)
    available: int = 0
    on_call: int = 0  # on a call or ringing
    ringing: int = 0  # of those, ringing (a waiting caller is being offered to them)
    wrap_up: int = 0
    away: int = 0
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    service_level: float | None = None
    abandonment: float | None = None
    average_wait: float | None = None  # seconds, over today's answered and abandoned calls (not short ones)


@dataclass
class AgentTile:
    agent_id: int
    name: str
    state: str
    reason: str | None
    in_state: float  # seconds
    calls_today: int = 0
    call_id: int | None = None
    customer_number: str = ""
    customer_name: str = ""
    call_seconds: float | None = None  # since the call was answered (None while it rings)
    monitoring: str = ""  # a supervisor monitoring a call: whose call it is (its agent's name)


@dataclass
class Board:
    at: datetime
    queues: list[QueueTile] = field(default_factory=list)
    agents: list[AgentTile] = field(default_factory=list)
    plain: dict[str, Any] | None = None  # the pages' copy (state.wallboard.as_state), made once


STATE_ORDER = {s: i for i, s in enumerate(
    (AgentState.ON_CALL, AgentState.RINGING, AgentState.WRAP_UP, AgentState.AVAILABLE, AgentState.AWAY,
     AgentState.OFFLINE)
)}  # fmt: skip


def board(db: Session, now: datetime) -> Board:
    """Every queue's tile and every active agent's, as of `now`."""
    settings = get_settings()
    local = now.astimezone(settings.zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    since, until = midnight, midnight + timedelta(days=1)
    configs = queues.all_configs(db)
    agents = [a for a in db.exec(select(Agent).order_by(col(Agent.name))) if a.is_active]
    spans = {
        s.agent_id: s for s in db.exec(select(AgentStateSpan).where(col(AgentStateSpan.ended_at).is_(None)))
    }
    today, waited, handled = _today(db, since, until)

    tiles: list[AgentTile] = []
    for agent in agents:
        span = spans.get(agent.id or 0)
        state = span.state if span is not None else AgentState.OFFLINE
        tiles.append(
            AgentTile(
                agent_id=agent.id or 0,
                name=agent.name,
                state=state,
                reason=span.reason if span is not None else None,
                in_state=max(0.0, (now - span.started_at).total_seconds()) if span is not None else 0.0,
                calls_today=handled.get(agent.id or 0, 0),
                call_id=span.call_id if span is not None and state in (*BUSY, AgentState.WRAP_UP) else None,
            )
        )
    _with_calls(db, tiles, now)
    tiles.sort(key=lambda t: (STATE_ORDER.get(t.state, 9), -t.in_state, t.name))

    waiting = db.execute(
        sa.select(col(QueueEntry.queue), sa.func.count(), sa.func.min(col(QueueEntry.entered_at)))
        .where(col(QueueEntry.outcome) == QueueOutcome.WAITING)
        .group_by(col(QueueEntry.queue))
    ).all()
    waits = {code: (int(count), oldest) for code, count, oldest in waiting}
    known = {c.code for c in configs}
    by_state = {t.agent_id: t.state for t in tiles}
    result = []
    for config in configs:
        tile = QueueTile(config.code, config.name_ar, config.name_en)
        count, oldest = waits.get(config.code, (0, None))
        if config.code == queues.DEFAULT:  # a queue since removed: its callers count in the default's
            for code, (more, first) in waits.items():
                if code not in known:
                    count += more
                    oldest = min(x for x in (oldest, first) if x is not None)
        tile.waiting = count
        tile.longest_wait = max(0.0, (now - _aware(oldest)).total_seconds()) if oldest is not None else 0.0
        members = config.members if config.members is not None else set(by_state)
        for agent_id in members:
            now_in = by_state.get(agent_id)
            if now_in == AgentState.AVAILABLE:
                tile.available += 1
            elif now_in in BUSY:
                tile.on_call += 1
                tile.ringing += now_in == AgentState.RINGING
            elif now_in == AgentState.WRAP_UP:
                tile.wrap_up += 1
            elif now_in == AgentState.AWAY:
                tile.away += 1
        totals, (wait_sum, wait_count) = reports.Totals(), (0.0, 0)
        for code in [config.code] + (
            [c for c in today if c not in known] if config.code == queues.DEFAULT else []
        ):
            _add(totals, today.get(code))
            extra_sum, extra_count = waited.get(code, (0.0, 0))
            wait_sum, wait_count = wait_sum + extra_sum, wait_count + extra_count
        tile.offered, tile.answered, tile.abandoned = totals.offered, totals.answered, totals.abandoned
        tile.service_level, tile.abandonment = totals.service_level, totals.abandonment
        tile.average_wait = wait_sum / wait_count if wait_count else None
        result.append(tile)
    return Board(now, result, tiles)


def _today(
    db: Session, since: datetime, until: datetime
) -> tuple[dict[str, reports.Totals], dict[str, tuple[float, int]], dict[int, int]]:
    """Today's queue figures per queue (counted as reports.report counts them: short abandons and calls
    while closed left out), the waits to average (answered and counted abandons) per queue, and the calls
    each agent handled: three aggregate queries over today's calls (Call.created_at's index), so the board
    costs the same at 50 calls or 50,000."""
    settings = get_settings()
    outcome, wait = col(Call.queue_outcome), sa.func.coalesce(col(Call.wait_seconds), 0)
    short = (outcome == QueueOutcome.ABANDONED) & (wait < settings.SHORT_ABANDON_SECONDS)
    counted = outcome.is_not(None) & outcome.not_in((QueueOutcome.CLOSED, QueueOutcome.WAITING)) & ~short
    answered = counted & (outcome == QueueOutcome.ANSWERED)
    abandoned = counted & (outcome == QueueOutcome.ABANDONED)

    def n(condition: Any) -> Any:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    today = (col(Call.created_at) >= since) & (col(Call.created_at) < until)
    queue = sa.func.coalesce(col(Call.queue), queues.DEFAULT)
    rows = db.execute(
        sa.select(queue, n(counted), n(answered), n(answered & (wait <= settings.SL_THRESHOLD_SECONDS)),
                  n(abandoned), n(short), sa.func.sum(sa.case((answered, wait), else_=0)),
                  sa.func.sum(sa.case((answered | abandoned, wait), else_=0)), n(answered | abandoned))
        .where(today, outcome.is_not(None))
        .group_by(queue)
    ).all()  # fmt: skip
    totals: dict[str, reports.Totals] = {}
    waits: dict[str, tuple[float, int]] = {}
    for code, offered, took, in_sl, gave_up, quick, wait_answered, wait_all, wait_n in rows:
        totals[code] = reports.Totals(
            offered=int(offered or 0), answered=int(took or 0), answered_in_sl=int(in_sl or 0),
            abandoned=int(gave_up or 0), short_abandoned=int(quick or 0),
            missed=int(offered or 0) - int(took or 0) - int(gave_up or 0),
            wait_answered=float(wait_answered or 0),
        )  # fmt: skip
        waits[code] = (float(wait_all or 0), int(wait_n or 0))
    handled = db.execute(
        sa.select(col(Call.agent_id), sa.func.count())
        .where(today, col(Call.agent_id).is_not(None), col(Call.answered_at).is_not(None))
        .group_by(col(Call.agent_id))
    ).all()
    return totals, waits, {int(agent_id): int(count) for agent_id, count in handled}


def _add(into: reports.Totals, more: reports.Totals | None) -> None:
    if more is None:
        return
    for name in ("offered", "answered", "answered_in_sl", "abandoned", "short_abandoned", "missed"):
        setattr(into, name, getattr(into, name) + getattr(more, name))
    into.wait_answered += more.wait_answered


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _with_calls(db: Session, tiles: list[AgentTile], now: datetime) -> None:
    """The customer and talk time of the call each busy agent is on (or wrapping up)."""
    ids = [t.call_id for t in tiles if t.call_id]
    if not ids:
        return
    rows = db.execute(
        sa.select(col(Call.id), col(Call.customer_number), col(Call.answered_at), col(Call.ended_at),
                  col(Contact.name))
        .join(Contact, col(Contact.id) == col(Call.contact_id), isouter=True)
        .where(col(Call.id).in_(ids))
    ).all()  # fmt: skip
    found = {r[0]: r for r in rows}
    agent_of_call = aliased(Agent)
    watching = {
        (call_id, supervisor): name
        for call_id, supervisor, name in db.execute(
            sa.select(col(CallParty.call_id), col(CallParty.agent_id), col(agent_of_call.name))
            .join(Call, col(Call.id) == col(CallParty.call_id))
            .join(agent_of_call, col(agent_of_call.id) == col(Call.agent_id), isouter=True)
            .where(col(CallParty.call_id).in_(ids), col(CallParty.kind) == PartyKind.SUPERVISOR,
                   col(CallParty.left_at).is_(None))
        ).all()
    }  # fmt: skip
    for tile in tiles:
        row = found.get(tile.call_id or 0)
        if row is None:
            continue
        if (tile.call_id, tile.agent_id) in watching:
            tile.monitoring = watching[(tile.call_id, tile.agent_id)] or "—"
        _, number, answered, ended, name = row
        tile.customer_number, tile.customer_name = number, name or ""
        if answered is not None:
            end = _aware(ended) if ended is not None else now
            tile.call_seconds = max(0.0, (end - _aware(answered)).total_seconds())


class Boards:
    """One board per process, shared by every open wallboard. A page that heard of a change published at
    `since` (the bus event's time) asks for a board read after it: the first page reads it (one at a
    time), the others take the same board."""

    def __init__(self, read: Any = None) -> None:
        self._read = read or _read
        self._lock = asyncio.Lock()
        self._board: Board | None = None
        self._read_at = 0.0  # when the board's read started (wall clock, like BusEvent.published_at)
        self.reads = 0

    async def latest(self, since: float = 0.0) -> Board:
        """A board whose read started after `since` (a change committed before then is on it)."""
        async with self._lock:
            board: Board | None = self._board
            if board is None or self._read_at <= since:
                started = time.time()
                board = await asyncio.to_thread(self._read)
                self._board = board
                self._read_at = started
                self.reads += 1
            assert board is not None
            return board


def _read() -> Board:
    from call_center.core.db import session_scope
    from call_center.models.base import utcnow

    with session_scope() as db:
        return board(db, utcnow())


_boards: Boards | None = None


def boards() -> Boards:
    global _boards
    if _boards is None:
        _boards = Boards()
    return _boards
