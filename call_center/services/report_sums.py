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

SUMS = (  # the Totals fields the grouped statements fill, in their columns' order
    "outbound", "offered", "answered", "answered_in_sl", "abandoned", "short_abandoned", "missed",
    "wait_answered", "handled", "talk",
)  # fmt: skip


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


def _sums(sl_threshold: int, short_abandon: int) -> tuple[list[Any], Any]:
    """The grouped statements' sums (in SUMS' order), and "handled" (an agent answered it)."""
    direction, outcome = col(Call.direction), col(Call.queue_outcome)
    wait = sa.func.coalesce(col(Call.wait_seconds), 0)
    counted = (
        (direction != Direction.OUTBOUND)
        & outcome.is_not(None)
        & outcome.not_in((QueueOutcome.CLOSED, QueueOutcome.WAITING))
    )
    short = counted & (outcome == QueueOutcome.ABANDONED) & (wait < short_abandon)
    offered = counted & ~short
    answered = offered & (outcome == QueueOutcome.ANSWERED)
    handled = col(Call.answered_at).is_not(None) & col(Call.agent_id).is_not(None)
    sums = [
        _n(direction == Direction.OUTBOUND), _n(offered), _n(answered), _n(answered & (wait <= sl_threshold)),
        _n(offered & (outcome == QueueOutcome.ABANDONED)), _n(short),
        _n(offered & outcome.not_in((QueueOutcome.ANSWERED, QueueOutcome.ABANDONED))),
        _s(answered, wait), _n(handled), _s(handled, sa.func.coalesce(col(Call.duration_seconds), 0)),
    ]  # fmt: skip
    return sums, handled


def _add(totals: Totals, values: Any) -> None:
    for name, value in zip(SUMS, values, strict=True):
        current = getattr(totals, name)
        setattr(totals, name, current + type(current)(value or 0))  # (PostgreSQL's sums may be Decimal)


def load_report(
    db: Session, scope: Scope, now: datetime, *, zone: tzinfo, sl_threshold: int, short_abandon: int
) -> Report | None:
    """The report of `scope` (as reports.report makes it from reports.load), or None where TIMEZONE's
    offset is not whole hours over the range."""
    since, until = scope.since, scope.until
    if not whole_hours(zone, since, until):
        return None
    sums, handled = _sums(sl_threshold, short_abandon)
    base = _scoped(sa.select(col(Call.id)).select_from(Call), scope)
    run = db.connection().execute
    hour = _hour(db, col(Call.created_at))

    totals, by_day = Totals(), defaultdict[date, Totals](Totals)
    by_hour = [[0] * 24 for _ in range(7)]
    day_of: dict[datetime, Any] = {}

    def local(utc_hour: Any) -> Any:
        at = _as_hour(utc_hour)
        if at not in day_of:
            day_of[at] = at.astimezone(zone)
        return day_of[at]

    for bucket, count, *values in run(base.with_only_columns(hour, sa.func.count(), *sums).group_by(hour)):
        at = local(bucket)
        by_hour[at.weekday()][at.hour] += int(count)
        _add(totals, values)
        _add(by_day[at.date()], values)

    agents: dict[int, AgentRow] = {}

    def row(agent_id: int) -> AgentRow:
        return agents.setdefault(agent_id, AgentRow(agent_id))

    agent = col(Call.agent_id)
    for agent_id, *values in run(base.with_only_columns(agent, *sums).where(handled).group_by(agent)):
        _add(row(agent_id).totals, values)

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
    their kind (an index: few calls are held), then their calls by id."""
    found = _scoped(
        sa.select(col(CallEvent.call_id), col(CallEvent.status), col(CallEvent.payload))
        .select_from(CallEvent)
        .join(Call, col(Call.id) == col(CallEvent.call_id)),
        scope,
    )
    found = found.where(col(CallEvent.kind) == "note", col(CallEvent.status).in_(("hold", "resume")))
    notes = db.connection().execute(found.order_by(col(CallEvent.call_id), col(CallEvent.id))).all()
    if not notes:
        return
    held: dict[int, float] = defaultdict(float)
    started: dict[int, datetime] = {}
    for call_id, what, payload in notes:
        at = datetime.fromisoformat(json.loads(payload)["at"])
        if what == "hold":
            started.setdefault(call_id, at)
        elif call_id in started:
            held[call_id] += (at - started.pop(call_id)).total_seconds()
    if not held:
        return
    calls = (
        db.connection()
        .execute(
            sa.select(
                col(Call.id), hour, col(Call.agent_id), sa.func.coalesce(col(Call.duration_seconds), 0)
            ).where(col(Call.id).in_(list(held)), handled)
        )
        .all()
    )
    for call_id, bucket, agent_id, duration in calls:
        hold = held[call_id]
        day = by_day[local(bucket).date()]
        for part in (totals, day, row(agent_id).totals):
            part.hold += hold
            part.talk -= min(hold, float(duration))


def _wrapups(db: Session, scope: Scope, now: datetime, hour: Any, handled: Any, local: Any,
             totals: Totals, by_day: Any, row: Any) -> None:  # fmt: skip
    """Wrap-up time of the handled calls (their agents' wrap-up spans), per hour and agent. A call's wrap-up
    starts after the call did, so only spans open or ended in the range can be one."""
    span = AgentStateSpan
    seconds = _seconds(db, col(span.started_at), sa.func.coalesce(col(span.ended_at), _time(db, now)))
    agent = col(Call.agent_id)
    query = _scoped(
        sa.select(hour, agent, sa.func.sum(seconds))
        .select_from(span)
        .join(Call, col(Call.id) == col(span.call_id)),
        scope,
    )
    query = query.where(_ends_after(span, scope.since), col(span.state) == AgentState.WRAP_UP)
    query = query.where(col(span.started_at) >= scope.since, handled).group_by(hour, agent)
    rows = db.connection().execute(query).all()
    for bucket, agent_id, spent in rows:
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
        .where(end > col(span.started_at))
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
