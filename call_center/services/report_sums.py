"""The dashboard's figures summed by the database: the same report as `reports.report` over per-call facts,
from a handful of grouped statements instead of one Python object per call.

Counting calls one by one in Python costs about 6 µs a call (30 days of a busy centre: 80,000 calls, half a
second). Here the database counts: per UTC hour (the days and the weekday × hour grid are made from the
hours, in TIMEZONE), per agent, per disposition, and sums the agents' time per state clipped to the range.
Python sees a few hundred rows whatever the number of calls, plus one row per hold and resume note (holds
pair up in order, which SQL does poorly; few calls are held).

Hours are UTC hours, so this is exact where TIMEZONE's offset is a whole number of hours over the range
(Egypt's is: +2, +3 in summer). For any other zone `load_report` returns None and the caller counts per
call (`reports.load` + `reports.report`), which is exact anywhere.

The definitions are reports.py's; tests/integration/test_report_sums.py holds the two paths equal on a
varied set of calls on both databases.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

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
from call_center.models.base import UTCDateTime
from call_center.services.reports import AgentRow, Report, Scope, Totals

# What each call counts as (one CASE per call: cheaper for the database than a CASE per figure)
OUTBOUND, SHORT, IN_SL, ANSWERED, ABANDONED, MISSED, UNCOUNTED = range(7)


def whole_hours(zone: tzinfo, since: datetime, until: datetime) -> bool:
    """Whether every UTC hour of [since, until) falls in one local hour (the zone's offset is whole hours)."""
    at = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    while at < until:
        offset = at.astimezone(zone).utcoffset() or timedelta()
        if offset.total_seconds() % 3600:
            return False
        at += timedelta(hours=1)
    return True


def _sqlite(db: Session) -> bool:
    return db.get_bind().dialect.name == "sqlite"


def _hour(db: Session, column: Any) -> Any:
    """The UTC hour a timestamp is in: SQLite's stored text cut to "YYYY-MM-DD HH", PostgreSQL's
    date_trunc in UTC."""
    if _sqlite(db):
        return sa.func.substr(sa.type_coerce(column, sa.String), 1, 13)
    return sa.func.date_trunc("hour", sa.func.timezone("UTC", column))


def _as_hour(value: Any) -> datetime:
    if isinstance(value, str):
        return datetime.strptime(value, "%Y-%m-%d %H").replace(tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _seconds(db: Session, start: Any, end: Any) -> Any:
    """end - start in seconds, in SQL."""
    if _sqlite(db):
        return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0
    return sa.extract("epoch", end - start)


def _greatest(db: Session, a: Any, b: Any) -> Any:
    return sa.func.max(a, b) if _sqlite(db) else sa.func.greatest(a, b)


def _least(db: Session, a: Any, b: Any) -> Any:
    return sa.func.min(a, b) if _sqlite(db) else sa.func.least(a, b)


def _time(db: Session, value: datetime) -> Any:
    return sa.literal(value, UTCDateTime())


def _n(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _s(condition: Any, value: Any) -> Any:
    return sa.func.sum(sa.case((condition, value), else_=0))


def _class_and_handled(sl_threshold: int, short_abandon: int) -> tuple[Any, Any]:
    """What a call counts as (OUTBOUND ... UNCOUNTED, reports._count's branches), and whether an agent
    answered it (handled), as SQL."""
    direction, outcome = col(Call.direction), col(Call.queue_outcome)
    wait = sa.func.coalesce(col(Call.wait_seconds), 0)
    klass = sa.case(
        (direction == Direction.OUTBOUND, OUTBOUND),
        (outcome.is_(None) | outcome.in_((QueueOutcome.CLOSED, QueueOutcome.WAITING)), UNCOUNTED),
        ((outcome == QueueOutcome.ABANDONED) & (wait < short_abandon), SHORT),
        (outcome == QueueOutcome.ANSWERED, sa.case((wait <= sl_threshold, IN_SL), else_=ANSWERED)),
        (outcome == QueueOutcome.ABANDONED, ABANDONED),
        else_=MISSED,
    )
    handled = col(Call.answered_at).is_not(None) & col(Call.agent_id).is_not(None)
    return klass, handled


def _sums() -> list[Any]:
    """Per group: calls, their waits, and the length of the handled ones."""
    duration = sa.func.coalesce(col(Call.duration_seconds), 0)
    return [sa.func.count(), sa.func.sum(sa.func.coalesce(col(Call.wait_seconds), 0)), sa.func.sum(duration)]


def _add(totals: Totals, klass: int, handled: Any, n: Any, waited: Any, talked: Any) -> None:
    """Count `n` calls of one class into `totals` (as reports._count does one)."""
    n = int(n or 0)
    if klass == OUTBOUND:
        totals.outbound += n
    elif klass == SHORT:
        totals.short_abandoned += n
    elif klass != UNCOUNTED:
        totals.offered += n
        if klass in (IN_SL, ANSWERED):
            totals.answered += n
            totals.answered_in_sl += n if klass == IN_SL else 0
            totals.wait_answered += float(waited or 0)
        elif klass == ABANDONED:
            totals.abandoned += n
        else:
            totals.missed += n
    if handled:
        totals.handled += n
        totals.talk += float(talked or 0)  # (PostgreSQL's sums may be Decimal)


def load_report(
    db: Session, scope: Scope, now: datetime, *, zone: tzinfo, sl_threshold: int, short_abandon: int
) -> Report | None:
    """The report of `scope` (as reports.report makes it from reports.load), or None where TIMEZONE's
    offset is not whole hours over the range."""
    since, until = scope.since, scope.until
    if not whole_hours(zone, since, until):
        return None
    klass, handled = _class_and_handled(sl_threshold, short_abandon)
    is_handled = sa.case((handled, 1), else_=0)
    base = _scoped(sa.select(col(Call.id)).select_from(Call), scope)
    run = db.connection().execute
    hour = _hour(db, col(Call.created_at))

    totals, by_day = Totals(), defaultdict[date, Totals](Totals)
    by_hour = [[0] * 24 for _ in range(7)]
    day_of: dict[Any, datetime] = {}

    def local(utc_hour: Any) -> datetime:
        """An hour as the database gives it, in TIMEZONE (parsed once per hour: a month has 720)."""
        found = day_of.get(utc_hour)
        if found is None:
            found = day_of[utc_hour] = _as_hour(utc_hour).astimezone(zone)
        return found

    grouped = base.with_only_columns(hour, klass, is_handled, *_sums()).group_by(hour, klass, is_handled)
    for bucket, kind, was_handled, *values in run(grouped):
        at = local(bucket)
        by_hour[at.weekday()][at.hour] += int(values[0])
        _add(totals, kind, was_handled, *values)
        _add(by_day[at.date()], kind, was_handled, *values)

    agents: dict[int, AgentRow] = {}

    def row(agent_id: int) -> AgentRow:
        found = agents.get(agent_id)
        if found is None:
            found = agents[agent_id] = AgentRow(agent_id)
        return found

    agent = col(Call.agent_id)
    per_agent = base.with_only_columns(agent, klass, *_sums()).where(handled).group_by(agent, klass)
    for agent_id, kind, *values in run(per_agent):
        _add(row(agent_id).totals, kind, True, *values)

    disposition = col(Call.disposition)
    counted = run(
        base.with_only_columns(disposition, sa.func.count())
        .where(disposition.is_not(None), disposition != "")
        .group_by(disposition)
    ).all()
    dispositions = dict(sorted(((str(d), int(n)) for d, n in counted), key=lambda item: -item[1]))

    _holds(db, scope, hour, handled, local, totals, by_day, row)
    _wrapups(db, scope, now, hour, handled, local, totals, by_day, row)
    _states(db, scope, now, row)
    offers = (
        sa.select(col(CallOffer.agent_id), sa.func.count())
        .where(col(CallOffer.offered_at) >= since, col(CallOffer.offered_at) < until)
        .where(col(CallOffer.outcome) == OfferOutcome.MISSED)
        .group_by(col(CallOffer.agent_id))
    )
    if scope.agent_id:
        offers = offers.where(col(CallOffer.agent_id) == scope.agent_id)
    for agent_id, missed in run(offers):
        row(agent_id).missed_offers += int(missed)
    return Report(
        since, until, sl_threshold, short_abandon, totals, dict(sorted(by_day.items())), by_hour,
        dispositions, dict(sorted(agents.items())),
    )  # fmt: skip


def _scoped(query: Any, scope: Scope) -> Any:
    """`query` (over Call) limited to the scope's calls: started in the range, of its queue, its agent's."""
    query = query.where(col(Call.created_at) >= scope.since, col(Call.created_at) < scope.until)
    if scope.queue:  # (the entry: a caller still waiting has no queue on the call yet)
        query = query.join(QueueEntry, col(QueueEntry.call_id) == col(Call.id))
        query = query.where(col(QueueEntry.queue) == scope.queue)
    if scope.agent_id:
        query = query.where(col(Call.agent_id) == scope.agent_id)
    return query


def _holds(db: Session, scope: Scope, hour: Any, handled: Any, local: Any, totals: Totals, by_day: Any,
           row: Any) -> None:  # fmt: skip
    """Hold time of the handled calls (their hold / resume notes paired in order, as reports._hold_seconds
    does); talk time is the call's length without it (never below zero, per call). The notes are found by
    their kind (an index: few calls are held), each with what its call needs."""
    duration = sa.func.coalesce(col(Call.duration_seconds), 0)
    found = _scoped(
        sa.select(col(CallEvent.call_id), col(CallEvent.status), col(CallEvent.payload), hour,
                  col(Call.agent_id), duration)
        .select_from(CallEvent)
        .join(Call, col(Call.id) == col(CallEvent.call_id)),
        scope,
    )  # fmt: skip
    found = found.where(col(CallEvent.kind) == "note", col(CallEvent.status).in_(("hold", "resume")), handled)
    notes = db.connection().execute(found.order_by(col(CallEvent.call_id), col(CallEvent.id))).all()
    held: dict[int, float] = defaultdict(float)
    started: dict[int, datetime] = {}
    calls: dict[int, tuple[Any, int, float]] = {}
    for call_id, what, payload, bucket, agent_id, length in notes:
        calls[call_id] = (bucket, agent_id, float(length))
        at = datetime.fromisoformat(json.loads(payload)["at"])
        if what == "hold":
            started.setdefault(call_id, at)
        elif call_id in started:
            held[call_id] += (at - started.pop(call_id)).total_seconds()
    for call_id, hold in held.items():
        bucket, agent_id, length = calls[call_id]
        for part in (totals, by_day[local(bucket).date()], row(agent_id).totals):
            part.hold += hold
            part.talk -= min(hold, length)


def _wrapups(db: Session, scope: Scope, now: datetime, hour: Any, handled: Any, local: Any,
             totals: Totals, by_day: Any, row: Any, *, open_only: bool = False,
             hours: set[datetime] | None = None) -> None:  # fmt: skip
    """Wrap-up time of the handled calls (their agents' wrap-up spans), per hour and agent (`open_only`:
    only the wrap-ups still going; `hours`: only of calls that started in those UTC hours). A call's
    wrap-up starts after the call did, so only spans open or ended in the range can be one."""
    span = AgentStateSpan
    seconds = _seconds(db, col(span.started_at), sa.func.coalesce(col(span.ended_at), _time(db, now)))
    agent = col(Call.agent_id)
    query = _scoped(
        sa.select(hour, agent, sa.func.sum(seconds))
        .select_from(span)
        .join(Call, col(Call.id) == col(span.call_id)),
        scope,
    )
    # (only the open ones: through the open spans' end, NULL, not every span ended since)
    ends = col(span.ended_at).is_(None) if open_only else _ends_after(span, scope.since)
    query = query.where(ends, col(span.state) == AgentState.WRAP_UP)
    query = query.where(col(span.started_at) >= scope.since, handled).group_by(hour, agent)
    rows = db.connection().execute(query).all()
    for bucket, agent_id, spent in rows:
        if hours is not None and _as_hour(bucket) not in hours:
            continue
        value = float(spent or 0)
        totals.wrapup += value
        by_day[local(bucket).date()].wrapup += value
        row(agent_id).totals.wrapup += value


def _states(db: Session, scope: Scope, now: datetime, row: Any) -> None:
    """Each agent's time per state, their spans clipped to the range."""
    span = AgentStateSpan
    end = sa.func.coalesce(col(span.ended_at), _time(db, now))
    start_in = _greatest(db, col(span.started_at), _time(db, scope.since))
    end_in = _least(db, end, _time(db, scope.until))
    # grouped by agent_id + 0, not agent_id: SQLite's planner would walk ix_agent_state_span_agent for the
    # GROUP BY, every span of the year (1.4 M: 0.9 s), instead of the range's through their end (0.15 s)
    agent = (col(span.agent_id) + 0).label("agent")
    query = (
        sa.select(agent, col(span.state), sa.func.sum(_seconds(db, start_in, end_in)))
        .where(_ends_after(span, scope.since), col(span.started_at) < scope.until)
        .where(end_in > start_in)  # (as reports.report: a span with nothing inside the range adds nothing)
        .group_by(agent, col(span.state))
    )
    if scope.agent_id:
        query = query.where(col(span.agent_id) == scope.agent_id)
    for agent_id, state, spent in db.connection().execute(query):
        seconds = row(agent_id).seconds
        seconds[state] = seconds.get(state, 0.0) + float(spent or 0)


def _ends_after(span: Any, since: datetime) -> Any:
    """Spans still open or ended after `since` (ix_agent_state_span_ended: a year of spans is not read for
    a month's report)."""
    return sa.or_(col(span.ended_at) > since, col(span.ended_at).is_(None))
