"""The supervisor's numbers over time: service level, speed of answer, abandonment, handle time, occupancy.

The definitions (also on the reports page and in docs/reports.md):

- **offered**: inbound calls that entered a queue in the range, except those that came while it was closed
  (nobody was offered them) and *short abandons* (the caller hung up within SHORT_ABANDON_SECONDS: a
  misdial, not a lost customer);
- **answered**: offered calls an agent took; **abandoned**: offered calls whose caller hung up while
  waiting; the rest of the offered ones left the queue for voicemail (the wait ran out, nobody logged in);
- **service level** = answered within SL_THRESHOLD_SECONDS ÷ answered; the variant counting abandons =
  answered within the threshold ÷ (answered + abandoned);
- **average speed of answer** = mean wait of the answered calls;
- **abandonment rate** = abandoned ÷ offered;
- **average handle time** = (talk + hold + wrap-up) ÷ handled calls, where handled calls are the calls an
  agent answered, inbound or outbound, talk is the answered call's length without its time on hold, and
  wrap-up the agent's after-call work for that call;
- **occupancy** = time on calls and in wrap-up ÷ time signed in and not away (available, ringing, on a
  call, wrap-up), from the agents' state timelines clipped to the range;
- a call belongs to the day and hour (in TIMEZONE) it started in, even when it ends after midnight.

`report(facts, spans, offers, ...)` is the arithmetic, a pure function over per-call facts (unit-tested on
hand-built sets); `load` reads those facts from the database with a few column queries.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.models import (
    AgentState,
    AgentStateSpan,
    Call,
    CallEvent,
    CallOffer,
    Direction,
    OfferOutcome,
    QueueEntry,
    QueueOutcome,
)
from call_center.models.base import utcnow
from call_center.services import agents, dispositions

WORKING = (AgentState.AVAILABLE, AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP)
BUSY = (AgentState.ON_CALL, AgentState.WRAP_UP)


@dataclass(slots=True)
class CallFact:
    """What the reports need of one call (not frozen: tens of thousands are made per report, and a frozen
    dataclass sets each field through object.__setattr__)."""

    id: int
    direction: str
    created_at: datetime
    agent_id: int | None = None
    queue: str | None = None  # inbound calls that queued
    queue_outcome: str | None = None  # answered, abandoned, timeout, no-agents, closed
    wait_seconds: float | None = None
    answered: bool = False  # an agent (or, outbound, the customer) answered
    duration_seconds: float = 0.0  # answered -> ended
    hold_seconds: float = 0.0
    wrapup_seconds: float = 0.0
    disposition: str | None = None


@dataclass(frozen=True)
class Span:
    agent_id: int
    state: str
    start: datetime
    end: datetime


@dataclass
class Totals:
    """Counts and sums a rate is made of (one per day, per agent, or for the whole range)."""

    offered: int = 0
    answered: int = 0
    answered_in_sl: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    missed: int = 0  # offered, left for voicemail (timeout, no agents)
    wait_answered: float = 0.0
    handled: int = 0
    talk: float = 0.0
    hold: float = 0.0
    wrapup: float = 0.0
    outbound: int = 0

    @property
    def service_level(self) -> float | None:
        return self.answered_in_sl / self.answered if self.answered else None

    @property
    def service_level_with_abandons(self) -> float | None:
        base = self.answered + self.abandoned
        return self.answered_in_sl / base if base else None

    @property
    def abandonment(self) -> float | None:
        return self.abandoned / self.offered if self.offered else None

    @property
    def asa(self) -> float | None:
        return self.wait_answered / self.answered if self.answered else None

    @property
    def aht(self) -> float | None:
        return (self.talk + self.hold + self.wrapup) / self.handled if self.handled else None


@dataclass
class AgentRow:
    agent_id: int
    totals: Totals = field(default_factory=Totals)
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(AgentState.ALL, 0.0))
    missed_offers: int = 0

    @property
    def occupancy(self) -> float | None:
        working = sum(self.seconds.get(s, 0.0) for s in WORKING)
        return sum(self.seconds.get(s, 0.0) for s in BUSY) / working if working else None


@dataclass
class Report:
    since: datetime
    until: datetime
    sl_threshold: int
    short_abandon: int
    totals: Totals
    by_day: dict[date, Totals]
    by_hour: list[list[int]]  # [weekday 0=Monday][hour 0-23]: calls that started then
    dispositions: dict[str, int]
    agents: dict[int, AgentRow]

    @property
    def occupancy(self) -> float | None:
        working = sum(r.seconds.get(s, 0.0) for r in self.agents.values() for s in WORKING)
        busy = sum(r.seconds.get(s, 0.0) for r in self.agents.values() for s in BUSY)
        return busy / working if working else None


def _count(totals: Totals, fact: CallFact, sl_threshold: int, short_abandon: int) -> None:
    if fact.direction == Direction.OUTBOUND:
        totals.outbound += 1
    elif fact.queue_outcome is not None and fact.queue_outcome not in (
        QueueOutcome.CLOSED,
        QueueOutcome.WAITING,
    ):
        wait = fact.wait_seconds or 0.0
        if fact.queue_outcome == QueueOutcome.ABANDONED and wait < short_abandon:
            totals.short_abandoned += 1
        else:
            totals.offered += 1
            if fact.queue_outcome == QueueOutcome.ANSWERED:
                totals.answered += 1
                totals.wait_answered += wait
                totals.answered_in_sl += wait <= sl_threshold
            elif fact.queue_outcome == QueueOutcome.ABANDONED:
                totals.abandoned += 1
            else:
                totals.missed += 1
    if fact.answered and fact.agent_id is not None:
        totals.handled += 1
        totals.hold += fact.hold_seconds
        totals.talk += max(0.0, fact.duration_seconds - fact.hold_seconds)
        totals.wrapup += fact.wrapup_seconds


def report(
    facts: Iterable[CallFact],
    spans: Iterable[Span],
    offers: Iterable[tuple[int, str]],
    *,
    since: datetime,
    until: datetime,
    zone: tzinfo,
    sl_threshold: int = 20,
    short_abandon: int = 5,
) -> Report:
    """The report over [since, until): `facts` of the calls that started then, the agents' state `spans`
    (clipped here), and `offers` as (agent id, outcome) of the rings in the range."""
    totals = Totals()
    by_day: dict[date, Totals] = defaultdict(Totals)
    by_hour = [[0] * 24 for _ in range(7)]
    dispositions: Counter[str] = Counter()
    agents: dict[int, AgentRow] = {}

    def row(agent_id: int) -> AgentRow:
        return agents.setdefault(agent_id, AgentRow(agent_id))

    for fact in facts:
        if not since <= fact.created_at < until:
            continue
        local = fact.created_at.astimezone(zone)
        _count(totals, fact, sl_threshold, short_abandon)
        _count(by_day[local.date()], fact, sl_threshold, short_abandon)
        by_hour[local.weekday()][local.hour] += 1
        if fact.disposition:
            dispositions[fact.disposition] += 1
        if fact.agent_id is not None and fact.answered:
            _count(row(fact.agent_id).totals, fact, sl_threshold, short_abandon)
    for span in spans:
        start, end = max(span.start, since), min(span.end, until)
        if end > start:
            seconds = row(span.agent_id).seconds
            seconds[span.state] = seconds.get(span.state, 0.0) + (end - start).total_seconds()
    for agent_id, outcome in offers:
        if outcome == OfferOutcome.MISSED:
            row(agent_id).missed_offers += 1
    return Report(
        since, until, sl_threshold, short_abandon, totals, dict(sorted(by_day.items())), by_hour,
        dict(dispositions.most_common()), dict(sorted(agents.items())),
    )  # fmt: skip


# Reading the facts -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    since: datetime
    until: datetime
    queue: str | None = None  # only calls of this queue (inbound)
    agent_id: int | None = None  # only this agent's calls and states


def load(
    db: Session, scope: Scope, now: datetime
) -> tuple[list[CallFact], list[Span], list[tuple[int, str]]]:
    """The facts, spans and offers of `scope`, with column queries (no ORM objects)."""
    facts = load_facts(db, scope, now)
    span_query = select(
        AgentStateSpan.agent_id, AgentStateSpan.state, AgentStateSpan.started_at, AgentStateSpan.ended_at
    ).where(
        col(AgentStateSpan.started_at) < scope.until,
        (col(AgentStateSpan.ended_at).is_(None)) | (col(AgentStateSpan.ended_at) > scope.since),
    )
    offer_query = select(CallOffer.agent_id, CallOffer.outcome).where(
        col(CallOffer.offered_at) >= scope.since, col(CallOffer.offered_at) < scope.until
    )
    if scope.agent_id:
        span_query = span_query.where(AgentStateSpan.agent_id == scope.agent_id)
        offer_query = offer_query.where(CallOffer.agent_id == scope.agent_id)
    spans = [Span(a, s, start, end or now) for a, s, start, end in db.exec(span_query)]
    return facts, spans, [(a, o) for a, o in db.exec(offer_query)]


def load_facts(db: Session, scope: Scope, now: datetime, *, open_wrapups: bool = True) -> list[CallFact]:
    """The per-call facts of `scope`; without `open_wrapups`, a wrap-up still going adds nothing yet (the
    rollup keeps only what no longer changes with the clock)."""
    query = (
        sa.select(
            *(
                col(c)
                for c in (
                    Call.id,
                    Call.direction,
                    Call.agent_id,
                    Call.duration_seconds,
                    Call.disposition,
                    Call.queue_outcome,
                    Call.wait_seconds,
                    QueueEntry.queue,
                )
            ),
            col(Call.answered_at).is_not(None),  # whether it was answered: no timestamp to read
            _raw_time(db, col(Call.created_at)),
        )  # fmt: skip
        .join(QueueEntry, col(QueueEntry.call_id) == col(Call.id), isouter=True)
        .where(col(Call.created_at) >= scope.since, col(Call.created_at) < scope.until)
    )
    if scope.queue:
        query = query.where(col(QueueEntry.queue) == scope.queue)
    if scope.agent_id:
        query = query.where(col(Call.agent_id) == scope.agent_id)
    # plain rows (the ORM's row loading doubled their cost), unpacked by position below
    rows: Sequence[Any] = db.connection().execute(query).all()
    # the same calls, as a subquery: the database matches their events and spans in one statement each
    # (id lists of 500 cost a statement each, and the span table has no index on call_id to probe)
    ids = query.with_only_columns(col(Call.id)).scalar_subquery()
    holds = _hold_seconds(db, ids)
    wraps = _wrapup_seconds(db, ids, now, scope.since, open_spans=open_wrapups)
    return [
        CallFact(
            id=r[0],
            direction=r[1],
            created_at=_utc(r[9]),
            agent_id=r[2],
            answered=bool(r[8]),
            duration_seconds=float(r[3] or 0),
            disposition=r[4],
            queue_outcome=r[5],
            wait_seconds=None if r[6] is None else float(r[6]),
            queue=r[7],
            hold_seconds=holds.get(r[0], 0.0),
            wrapup_seconds=wraps.get(r[0], 0.0),
        )  # fmt: skip
        for r in rows
    ]


def _raw_time(db: Session, column: Any) -> Any:
    """A timestamp column as the driver gives it: SQLite's text (read below with `datetime.fromisoformat`,
    several times faster than SQLAlchemy's own parsing of a DATETIME), PostgreSQL's aware datetime."""
    return sa.type_coerce(column, sa.String) if db.get_bind().dialect.name == "sqlite" else column


def _utc(value: Any) -> datetime:
    """A `_raw_time` value as an aware datetime (SQLite keeps UTC without a zone: base.UTCDateTime)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def _hold_seconds(db: Session, ids: Any) -> dict[int, float]:
    """Time on hold per call of `ids` (a subquery), from its hold / resume pairs of notes (a hold never
    resumed is not counted: the call's end resumes it, and its length is in the talk time)."""
    held: dict[int, float] = defaultdict(float)
    rows = db.exec(
        select(CallEvent.call_id, CallEvent.status, CallEvent.payload)
        .where(col(CallEvent.call_id).in_(ids), CallEvent.kind == "note")
        .where(col(CallEvent.status).in_(("hold", "resume")))
        .order_by(col(CallEvent.call_id), col(CallEvent.id))
    ).all()
    since: dict[int, datetime] = {}
    for call_id, what, payload in rows:
        at = datetime.fromisoformat(json.loads(payload)["at"])
        if what == "hold":
            since.setdefault(call_id or 0, at)
        elif (call_id or 0) in since:
            held[call_id or 0] += (at - since.pop(call_id or 0)).total_seconds()
    return dict(held)


def _wrapup_seconds(
    db: Session, ids: Any, now: datetime, since: datetime, *, open_spans: bool = True
) -> dict[int, float]:
    """Wrap-up time per call of `ids` (a subquery). A call's wrap-up starts after the call did, so spans
    that started before the range cannot be one of its calls'."""
    spent: dict[int, float] = defaultdict(float)
    query = select(AgentStateSpan.call_id, AgentStateSpan.started_at, AgentStateSpan.ended_at).where(
        AgentStateSpan.state == AgentState.WRAP_UP,
        col(AgentStateSpan.started_at) >= since,
        col(AgentStateSpan.call_id).in_(ids),
    )
    if not open_spans:
        query = query.where(col(AgentStateSpan.ended_at).is_not(None))
    for call_id, start, end in db.exec(query):
        spent[call_id or 0] += ((end or now) - start).total_seconds()
    return dict(spent)


def day_range(first: date, last: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in `zone`."""
    start = datetime(first.year, first.month, first.day, tzinfo=zone)
    end = datetime(last.year, last.month, last.day, tzinfo=zone) + timedelta(days=1)
    return start, end


def summary(rep: Report) -> dict[str, Any]:
    """The headline figures (ratios 0..1 or None when there is nothing to divide by; seconds)."""
    t = rep.totals
    return {
        "offered": t.offered,
        "answered": t.answered,
        "abandoned": t.abandoned,
        "short_abandoned": t.short_abandoned,
        "missed": t.missed,
        "outbound": t.outbound,
        "handled": t.handled,
        "service_level": t.service_level,
        "service_level_with_abandons": t.service_level_with_abandons,
        "asa": t.asa,
        "abandonment": t.abandonment,
        "aht": t.aht,
        "occupancy": rep.occupancy,
    }


def dashboard(first: date, last: date, queue: str, agent_id: int, *, summed: bool = True) -> dict[str, Any]:
    """The dashboard of days `first`..`last` (in TIMEZONE) as plain numbers: headline figures, days,
    weekday x hour counts, dispositions, agents (what /reports keeps, and what its exports write).
    `summed=False` counts call by call (what a zone whose offset is not whole hours gets; benchmarks
    compare the two)."""
    from call_center.services import rollup

    settings = get_settings()
    since, until = day_range(first, last, settings.zone)
    now = utcnow()
    rules = {"sl_threshold": settings.SL_THRESHOLD_SECONDS, "short_abandon": settings.SHORT_ABANDON_SECONDS}
    with session_scope() as db:
        scope = Scope(since, until, queue=queue or None, agent_id=agent_id or None)
        # past hours from the rollup, the rest summed by the database (services.rollup, report_sums); per
        # call where TIMEZONE's offset is not whole hours
        found = rollup.load_report(db, scope, now, zone=settings.zone, **rules) if summed else None
        if found is None:
            facts, spans, offers = load(db, scope, now)
        names = {a.id: a.name for a in agents.list_agents(db)}
        labels = {lang: dispositions.names(db, lang) for lang in ("ar", "en")}
    rep = found or report(facts, spans, offers, since=since, until=until, zone=settings.zone, **rules)
    days = []
    day = first
    while day <= last:  # every day of the range, those without calls too (a gap in a chart is a zero)
        t = rep.by_day.get(day, Totals())
        days.append(
            {
                "day": day.isoformat(),
                "answered": t.answered,
                "abandoned": t.abandoned,
                "missed": t.missed,
                "outbound": t.outbound,
                "sl": None if t.service_level is None else round(100 * t.service_level, 1),
            }
        )
        day += timedelta(days=1)
    return {
        "summary": summary(rep),
        "days": days,
        "hours": rep.by_hour,
        "dispositions": [
            {
                "code": code,
                "count": n,
                "name_ar": labels["ar"].get(code, code),
                "name_en": labels["en"].get(code, code),
            }
            for code, n in rep.dispositions.items()
        ],
        "agents": [
            {
                "id": row.agent_id,
                "name": names.get(row.agent_id, f"#{row.agent_id}"),
                "handled": row.totals.handled,
                "talk": row.totals.talk,
                "aht": row.totals.aht,
                "occupancy": row.occupancy,
                "missed_offers": row.missed_offers,
                **{f"s_{state}": row.seconds.get(state, 0.0) for state in AgentState.ALL},
            }
            for row in rep.agents.values()
        ],
    }
