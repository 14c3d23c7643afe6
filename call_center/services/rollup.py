"""The dashboard's hourly rollup: past UTC hours summed once and kept, the rest summed live.

A month's dashboard summed from its calls reads every call, span and note of the month (report_sums: about
half a second over a busy centre's 80,000 calls). Here each past hour is summed once, by the same per-call
definitions (`reports.load_facts`), into a few rows per hour (`ReportRollup`: per queue, agent and what
each call counts as), and `ReportHour` marks it done under the rules it was summed with. A report then
adds the rows of its done hours and sums the others live with report_sums: the hour in progress, hours
nobody built yet, and hours made stale.

Staleness is one mechanism, in the database: triggers (migration 0014) delete an hour's ReportHour row
whenever something its figures are made of is written, whichever path writes. What changes with the clock
is never kept: spans still open (an agent available since the morning, a wrap-up going on) are added live
over the done hours too.

`catch_up` builds what is missing, oldest data included, from the app's background clock (every minute,
each worker; builders take a lock, so two never build the same hour and a write never slips between a
build's reads and its marks).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import fields
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.models import (
    AgentStateSpan,
    Call,
    CallOffer,
    Direction,
    OfferOutcome,
    QueueOutcome,
    ReportHour,
    ReportRollup,
    RollupKind,
)
from call_center.models.base import utcnow
from call_center.services import report_sums
from call_center.services.report_sums import (
    ABANDONED,
    ANSWERED,
    IN_SL,
    MISSED,
    OUTBOUND,
    SHORT,
    UNCOUNTED,
)
from call_center.services.reports import AgentRow, CallFact, Report, Scope, Totals, load_facts

HOUR = timedelta(hours=1)
RUN_HOURS = 24  # hours built per transaction
# `item` of a calls row: class * 2 + handled; the handled ones
HANDLED_ITEMS = tuple(str(klass * 2 + 1) for klass in range(UNCOUNTED + 1))


def floor_hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(at: datetime) -> datetime:
    floor = floor_hour(at)
    return floor if floor == at else floor + HOUR


def class_of(fact: CallFact, sl_threshold: int, short_abandon: int) -> int:
    """What a call counts as (reports._count's branches; report_sums' CASE in SQL)."""
    if fact.direction == Direction.OUTBOUND:
        return OUTBOUND
    outcome = fact.queue_outcome
    if outcome is None or outcome in (QueueOutcome.CLOSED, QueueOutcome.WAITING):
        return UNCOUNTED
    wait = fact.wait_seconds or 0.0
    if outcome == QueueOutcome.ABANDONED:
        return SHORT if wait < short_abandon else ABANDONED
    if outcome == QueueOutcome.ANSWERED:
        return IN_SL if wait <= sl_threshold else ANSWERED
    return MISSED


# Building ----------------------------------------------------------------------------------------------
def _lock(db: Session) -> None:
    """Make this transaction the only builder, and hold writers that would mark an hour stale until it
    commits (their triggers write report_hour): PostgreSQL's table lock; SQLite's write lock, which the
    first write takes (core.db begins IMMEDIATE), before any read of the build."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.text("LOCK TABLE report_hour IN SHARE ROW EXCLUSIVE MODE"))


def _in(column: Any, since: datetime, until: datetime) -> Any:
    return sa.and_(column >= since, column < until)


def build(db: Session, since: datetime, until: datetime, now: datetime, *, sl_threshold: int,
          short_abandon: int) -> int:  # fmt: skip
    """Sum the hours of [since, until) (whole UTC hours, past) that are not done under these rules, in the
    session's transaction (the caller commits). Returns how many hours were summed."""
    hour = col(ReportHour.hour)
    _lock(db)
    db.execute(  # (the first write: SQLite's lock from here)
        sa.delete(ReportHour).where(
            _in(hour, since, until),
            (col(ReportHour.sl_threshold) != sl_threshold) | (col(ReportHour.short_abandon) != short_abandon),
        )
    )
    done = set(db.scalars(sa.select(hour).where(_in(hour, since, until))))
    todo = [at for at in _hours(since, until) if at not in done]
    if not todo:
        return 0
    since, until = todo[0], todo[-1] + HOUR
    db.execute(sa.delete(ReportHour).where(_in(hour, since, until)))
    db.execute(sa.delete(ReportRollup).where(_in(col(ReportRollup.hour), since, until)))
    rows: dict[tuple[str, datetime, str, int, str], list[float]] = defaultdict(
        lambda: [0, 0.0, 0.0, 0.0, 0.0, 0.0]
    )
    for fact in load_facts(db, Scope(since, until), now, open_wrapups=False):
        at = floor_hour(fact.created_at)
        handled = fact.answered and fact.agent_id is not None
        queue, agent = fact.queue or "", fact.agent_id or 0
        klass = class_of(fact, sl_threshold, short_abandon)
        sums = rows[(RollupKind.CALLS, at, queue, agent, str(klass * 2 + handled))]
        sums[0] += 1
        sums[1] += fact.wait_seconds or 0.0
        if handled:
            sums[2] += max(0.0, fact.duration_seconds - fact.hold_seconds)
            sums[3] += fact.hold_seconds
            sums[4] += fact.wrapup_seconds
        if fact.disposition:
            rows[(RollupKind.DISPOSITION, at, queue, agent, fact.disposition)][0] += 1
    span = AgentStateSpan
    closed = sa.select(col(span.agent_id), col(span.state), col(span.started_at), col(span.ended_at)).where(
        col(span.ended_at) > since, col(span.started_at) < until
    )
    for agent_id, state, start, end in db.connection().execute(closed):
        low, high = max(start, since), min(end or until, until)  # (closed: `end` is never None)
        at = floor_hour(low)
        while at < high:
            part = (min(high, at + HOUR) - max(low, at)).total_seconds()
            if part > 0:
                rows[(RollupKind.STATE, at, "", agent_id, state)][5] += part
            at += HOUR
    missed = sa.select(col(CallOffer.agent_id), col(CallOffer.offered_at)).where(
        _in(col(CallOffer.offered_at), since, until), col(CallOffer.outcome) == OfferOutcome.MISSED
    )
    for agent_id, offered_at in db.connection().execute(missed):
        rows[(RollupKind.OFFERS, floor_hour(offered_at), "", agent_id, "")][0] += 1
    if rows:
        db.execute(
            sa.insert(ReportRollup),
            [
                {
                    "kind": kind,
                    "hour": at,
                    "queue": queue,
                    "agent_id": agent,
                    "item": item,
                    "calls": int(n),
                    "wait": wait,
                    "talk": talk,
                    "hold": hold,
                    "wrapup": wrapup,
                    "seconds": seconds,
                }  # fmt: skip
                for (kind, at, queue, agent, item), (n, wait, talk, hold, wrapup, seconds) in rows.items()
            ],
        )
    db.execute(
        sa.insert(ReportHour),
        [
            {"hour": at, "sl_threshold": sl_threshold, "short_abandon": short_abandon, "built_at": now}
            for at in _hours(since, until)
        ],
    )
    return len(todo)


def _hours(since: datetime, until: datetime) -> Iterable[datetime]:
    at = since
    while at < until:
        yield at
        at += HOUR


def catch_up(now: datetime | None = None, *, pause: float = 0.0) -> int:
    """Build every past hour with data that is not done (newest first, a day per transaction; `pause`
    seconds between days leave the machine to live work). Returns how many hours were summed."""
    settings = get_settings()
    rules = {"sl_threshold": settings.SL_THRESHOLD_SECONDS, "short_abandon": settings.SHORT_ABANDON_SECONDS}
    now = now or utcnow()
    with session_scope() as db:
        # the oldest call, and the oldest closed span (both indexed): hours before them have nothing
        starts = [
            db.scalar(sa.select(sa.func.min(col(Call.created_at)))),
            db.scalar(sa.select(sa.func.min(col(AgentStateSpan.ended_at)))),
        ]
        done = set(
            db.scalars(
                sa.select(col(ReportHour.hour)).where(
                    col(ReportHour.sl_threshold) == rules["sl_threshold"],
                    col(ReportHour.short_abandon) == rules["short_abandon"],
                )
            )
        )
    known = [s for s in starts if s is not None]
    if not known:
        return 0
    todo = [at for at in _hours(floor_hour(min(known)), floor_hour(now)) if at not in done]
    runs: list[tuple[datetime, datetime]] = []
    for at in reversed(todo):
        if runs and runs[-1][0] == at + HOUR and runs[-1][1] - at <= RUN_HOURS * HOUR - HOUR:
            runs[-1] = (at, runs[-1][1])
        else:
            runs.append((at, at + HOUR))
    built = 0
    for since, until in runs:
        with session_scope() as db:
            built += build(db, since, until, now, **rules)
        if pause:
            time.sleep(pause)
    return built


# Reading -----------------------------------------------------------------------------------------------
def load_report(
    db: Session, scope: Scope, now: datetime, *, zone: tzinfo, sl_threshold: int, short_abandon: int
) -> Report | None:
    """The report of `scope` (as reports.report makes it from reports.load): the done hours from the
    rollup, the rest summed live; None where TIMEZONE's offset is not whole hours over the range."""
    since, until = scope.since, scope.until
    if not report_sums.whole_hours(zone, since, until):
        return None
    first, last = ceil_hour(since), floor_hour(until)
    done: list[datetime] = []
    if first < last:
        hour = col(ReportHour.hour)
        done = sorted(
            db.scalars(
                sa.select(hour).where(
                    _in(hour, first, last),
                    col(ReportHour.sl_threshold) == sl_threshold,
                    col(ReportHour.short_abandon) == short_abandon,
                )
            )
        )
    runs: list[tuple[datetime, datetime]] = []
    for at in done:
        if runs and runs[-1][1] == at:
            runs[-1] = (runs[-1][0], at + HOUR)
        else:
            runs.append((at, at + HOUR))
    live, at = [], since
    for start, end in runs:
        if at < start:
            live.append((at, start))
        at = end
    if at < until:
        live.append((at, until))

    rep = _Sum(zone)
    for start, end in live:
        part = report_sums.load_report(
            db, Scope(start, end, scope.queue, scope.agent_id), now, zone=zone, sl_threshold=sl_threshold,
            short_abandon=short_abandon,
        )  # fmt: skip
        assert part is not None  # (whole hours over the range: over each part too)
        rep.merge(part)
    if runs:
        _read(db, scope, runs, now, rep)
    return rep.report(scope, sl_threshold, short_abandon)


class _Sum:
    """A report being added up from parts."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self.totals = Totals()
        self.by_day: dict[Any, Totals] = defaultdict(Totals)
        self.by_hour = [[0] * 24 for _ in range(7)]
        self.dispositions: Counter[str] = Counter()
        self.agents: dict[int, AgentRow] = {}
        self._local: dict[datetime, datetime] = {}

    def row(self, agent_id: int) -> AgentRow:
        found = self.agents.get(agent_id)
        if found is None:
            found = self.agents[agent_id] = AgentRow(agent_id)
        return found

    def local(self, hour: Any) -> datetime:
        found = self._local.get(hour)
        if found is None:
            found = self._local[hour] = report_sums._as_hour(hour).astimezone(self.zone)
        return found

    def merge(self, part: Report) -> None:
        _plus(self.totals, part.totals)
        for day, totals in part.by_day.items():
            _plus(self.by_day[day], totals)
        for weekday, hours in enumerate(part.by_hour):
            for hour, n in enumerate(hours):
                self.by_hour[weekday][hour] += n
        self.dispositions.update(part.dispositions)
        for agent_id, other in part.agents.items():
            row = self.row(agent_id)
            _plus(row.totals, other.totals)
            for state, seconds in other.seconds.items():
                row.seconds[state] = row.seconds.get(state, 0.0) + seconds
            row.missed_offers += other.missed_offers

    def report(self, scope: Scope, sl_threshold: int, short_abandon: int) -> Report:
        dispositions = dict(sorted(self.dispositions.items(), key=lambda item: -item[1]))
        return Report(
            scope.since, scope.until, sl_threshold, short_abandon, self.totals,
            dict(sorted(self.by_day.items())), self.by_hour, dispositions, dict(sorted(self.agents.items())),
        )  # fmt: skip


def _plus(into: Totals, other: Totals) -> None:
    for name in _TOTALS:
        setattr(into, name, getattr(into, name) + getattr(other, name))


_TOTALS = tuple(f.name for f in fields(Totals))


def _add(
    totals: Totals, klass: int, handled: bool, n: Any, wait: Any, talk: Any, hold: Any, wrapup: Any
) -> None:
    report_sums._add(totals, klass, handled, n, wait, talk)
    if handled:
        totals.hold += float(hold or 0)
        totals.wrapup += float(wrapup or 0)


def _read(db: Session, scope: Scope, runs: list[tuple[datetime, datetime]], now: datetime, rep: _Sum) -> None:
    """Add the rollup's rows of the done hours (`runs`), and what is still open over them."""
    r = ReportRollup
    in_runs = sa.or_(*(_in(col(r.hour), start, end) for start, end in runs))
    sums = [sa.func.sum(col(c)) for c in (r.calls, r.wait, r.talk, r.hold, r.wrapup)]

    def rows(kind: str, *columns: Any, calls: bool = False) -> Any:
        query = sa.select(*columns).where(col(r.kind) == kind, in_runs)
        if scope.queue and calls:
            query = query.where(col(r.queue) == scope.queue)
        if scope.agent_id:
            query = query.where(col(r.agent_id) == scope.agent_id)
        return query

    run = db.connection().execute
    hour, item, agent = col(r.hour), col(r.item), col(r.agent_id)
    for at, code, *values in run(rows(RollupKind.CALLS, hour, item, *sums, calls=True).group_by(hour, item)):
        klass, handled = divmod(int(code), 2)
        local = rep.local(at)
        rep.by_hour[local.weekday()][local.hour] += int(values[0])
        _add(rep.totals, klass, bool(handled), *values)
        _add(rep.by_day[local.date()], klass, bool(handled), *values)
    per_agent = rows(RollupKind.CALLS, agent, item, *sums, calls=True).where(item.in_(HANDLED_ITEMS))
    for agent_id, code, *values in run(per_agent.group_by(agent, item)):
        _add(rep.row(agent_id).totals, int(code) // 2, True, *values)
    for code, n in run(
        rows(RollupKind.DISPOSITION, item, sa.func.sum(col(r.calls)), calls=True).group_by(item)
    ):
        rep.dispositions[code] += int(n)
    for agent_id, state, spent in run(
        rows(RollupKind.STATE, agent, item, sa.func.sum(col(r.seconds))).group_by(agent, item)
    ):
        rep.row(agent_id).seconds[state] = rep.row(agent_id).seconds.get(state, 0.0) + float(spent or 0)
    for agent_id, n in run(rows(RollupKind.OFFERS, agent, sa.func.sum(col(r.calls))).group_by(agent)):
        rep.row(agent_id).missed_offers += int(n)
    # still open, so never kept: spans (an agent's state since the morning, a wrap-up going on), read once
    # for all the done hours and clipped to them
    done = {at for start, end in runs for at in _hours(start, end)}
    span = AgentStateSpan
    open_spans = sa.select(col(span.agent_id), col(span.state), col(span.started_at)).where(
        col(span.ended_at).is_(None), col(span.started_at) < runs[-1][1]
    )
    if scope.agent_id:
        open_spans = open_spans.where(col(span.agent_id) == scope.agent_id)
    for agent_id, state, started in run(open_spans):
        for start, end in runs:
            low, high = max(started, start), min(now, end)
            if high > low:
                seconds = rep.row(agent_id).seconds
                seconds[state] = seconds.get(state, 0.0) + (high - low).total_seconds()
    handled_call = report_sums._class_and_handled(sl_threshold=0, short_abandon=0)[1]
    call_hour = report_sums._hour(db, col(Call.created_at))
    report_sums._wrapups(
        db, Scope(runs[0][0], runs[-1][1], scope.queue, scope.agent_id), now, call_hour, handled_call,
        rep.local, rep.totals, rep.by_day, rep.row, open_only=True, hours=done,
    )  # fmt: skip
