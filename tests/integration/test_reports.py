"""The reports read what the app itself wrote (SQLite and PostgreSQL): calls that queued, were answered,
held, wrapped up and abandoned through the app's own paths, as in test_queue.py; only the media server is
replaced by a recorder, its callbacks fed back through `control.handle_callback`."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from call_center.core.config import get_settings, reset_settings
from call_center.core.db import get_engine
from call_center.models import Call
from call_center.models.base import utcnow
from call_center.services import agents, call_control, reports, transfers, wrapup
from tests.support.local_calls import calls_in, media_reports, online_agent, record_media


@pytest.fixture
def db(database, monkeypatch):
    monkeypatch.setenv("WRAPUP_SECONDS", "30")
    monkeypatch.setenv("SHORT_ABANDON_SECONDS", "0")  # (these waits last milliseconds)
    reset_settings()
    record_media(monkeypatch)
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


def test_a_day_of_queued_calls_as_the_reports_count_it(db):
    sara = online_agent(db, "sara@example.com")
    start = utcnow() - timedelta(seconds=1)
    answered = calls_in(db, "+201000000081")
    call_control.claim(db, db.get(Call, answered.id), sara.id)
    media_reports(db, answered, "in-progress")
    transfers.set_hold(db, answered.provider_call_sid, agents.get_agent(db, sara.id), True)
    transfers.set_hold(db, answered.provider_call_sid, agents.get_agent(db, sara.id), False)
    media_reports(db, answered, "completed", by="customer")
    wrapup.save(db, agents.get_agent(db, sara.id), answered.id, disposition="complaint", notes="", tags="")
    wrapup.finish(db, sara.id)
    db.commit()
    abandoned = calls_in(db, "+201000000082")  # Sara is free again: it rings her, the caller hangs up
    media_reports(db, abandoned, "canceled", by="customer")

    now = utcnow() + timedelta(seconds=1)
    facts, spans, offers = reports.load(db, reports.Scope(start, now), now)
    rep = reports.report(
        facts,
        spans,
        offers,
        since=start,
        until=now,
        zone=get_settings().zone,
        sl_threshold=20,
        short_abandon=0,
    )
    figures = reports.summary(rep)
    assert (figures["offered"], figures["answered"], figures["abandoned"]) == (2, 1, 1)
    assert figures["service_level"] == 1.0 and figures["service_level_with_abandons"] == 0.5
    assert figures["abandonment"] == 0.5 and figures["handled"] == 1
    row = rep.agents[sara.id]
    assert row.totals.handled == 1 and row.totals.hold > 0 and row.totals.wrapup > 0
    assert row.seconds["on-call"] > 0 and row.seconds["wrap-up"] > 0
    assert rep.dispositions == {"complaint": 1}
    assert sum(map(sum, rep.by_hour)) == 2
    # one queue, one agent: the same calls through the scope's filters
    only_sara, _, _ = reports.load(db, reports.Scope(start, now, agent_id=sara.id), now)
    assert [f.id for f in only_sara] == [answered.id]
    in_default, _, _ = reports.load(db, reports.Scope(start, now, queue="default"), now)
    assert sorted(f.id for f in in_default) == sorted([answered.id, abandoned.id])
    assert reports.load(db, reports.Scope(start, now, queue="sales"), now)[0] == []


def _same(summed: reports.Report, counted: reports.Report) -> None:
    """Two reports of the same calls agree on every figure (sums of seconds to 10 ms: SQLite's julianday
    measures time in days, to about 0.1 ms)."""

    def near(a: reports.Totals, b: reports.Totals) -> None:
        assert vars(a) == pytest.approx(vars(b), abs=0.01)

    near(summed.totals, counted.totals)
    assert sorted(summed.by_day) == sorted(counted.by_day)
    for day, totals in counted.by_day.items():
        near(summed.by_day[day], totals)
    assert summed.by_hour == counted.by_hour
    assert summed.dispositions == counted.dispositions
    assert sorted(summed.agents) == sorted(counted.agents)
    for agent_id, row in counted.agents.items():
        other = summed.agents[agent_id]
        near(other.totals, row.totals)
        assert other.seconds == pytest.approx(row.seconds, abs=0.01), agent_id
        assert other.missed_offers == row.missed_offers, agent_id


def _varied_calls(db):
    """Calls through the app's own paths: answered by two agents, held, wrapped up with and without a
    disposition, and one abandoned. Returns (sara, omar, when they began)."""
    sara, omar = online_agent(db, "sara@example.com"), online_agent(db, "omar@example.com")
    start = utcnow() - timedelta(seconds=1)
    for number, agent, held, disposition in (
        ("+201000000083", sara, 2, "complaint"),
        ("+201000000084", omar, 0, "sale"),
        ("+201000000085", sara, 1, ""),
    ):
        call = calls_in(db, number)
        call_control.claim(db, db.get(Call, call.id), agent.id)
        media_reports(db, call, "in-progress")
        for _ in range(held):
            transfers.set_hold(db, call.provider_call_sid, agents.get_agent(db, agent.id), True)
            time.sleep(0.05)  # (a hold of some length: one the sums could drop shows)
            transfers.set_hold(db, call.provider_call_sid, agents.get_agent(db, agent.id), False)
        media_reports(db, call, "completed", by="agent")
        if disposition:
            wrapup.save(
                db, agents.get_agent(db, agent.id), call.id, disposition=disposition, notes="", tags=""
            )
        wrapup.finish(db, agent.id)
        db.commit()
    abandoned = calls_in(db, "+201000000086")
    media_reports(db, abandoned, "canceled", by="customer")
    db.commit()
    return sara, omar, start


def _counted(db, scope, now, sl_threshold=20):
    facts, spans, offers = reports.load(db, scope, now)
    return reports.report(
        facts, spans, offers, since=scope.since, until=scope.until, zone=get_settings().zone,
        sl_threshold=sl_threshold, short_abandon=0,
    )  # fmt: skip


def test_the_database_sums_the_same_report_as_counting_call_by_call(db):
    from call_center.services import report_sums

    sara, _omar, start = _varied_calls(db)
    now = utcnow() + timedelta(seconds=1)
    zone = get_settings().zone
    for scope in (
        reports.Scope(start, now),
        reports.Scope(start, now, agent_id=sara.id),
        reports.Scope(start, now, queue="default"),
        reports.Scope(start, now, queue="sales"),
        reports.Scope(now + timedelta(hours=1), now + timedelta(hours=2)),  # ahead: open spans add nothing
    ):
        summed = report_sums.load_report(db, scope, now, zone=zone, sl_threshold=20, short_abandon=0)
        assert summed is not None
        _same(summed, _counted(db, scope, now))
    whole = report_sums.load_report(db, reports.Scope(start, now), now, zone=zone, sl_threshold=20,
                                    short_abandon=0)  # fmt: skip
    assert (
        whole is not None and whole.totals.handled == 3 and whole.totals.hold > 0 and whole.totals.wrapup > 0
    )
    assert whole.dispositions == {"complaint": 1, "sale": 1}


def _hours_done(db) -> int:
    from call_center.models import ReportHour

    db.expire_all()
    return len(db.exec(select(ReportHour)).all())


def test_the_rollup_sums_the_same_report_and_every_write_it_reads_makes_an_hour_stale(db):
    """Past hours come from the rollup; an hour whose calls, holds, wrap-ups, spans or rings are written
    again is summed live (the triggers of migration 0014) until the next build, and both agree with
    counting call by call throughout."""
    from call_center.services import rollup

    sara, omar, start = _varied_calls(db)
    now = utcnow() + timedelta(seconds=1)
    later = now + timedelta(hours=2)  # for the builder, this hour is past
    hours = reports.Scope(rollup.floor_hour(start), rollup.floor_hour(now) + rollup.HOUR)
    scopes = (
        hours,
        reports.Scope(start, now),  # (partial hours: live)
        reports.Scope(hours.since, hours.until, agent_id=sara.id),
        reports.Scope(hours.since, hours.until, queue="default"),
        reports.Scope(hours.since, hours.until, queue="sales"),
    )

    def agree(sl_threshold: int = 20) -> None:
        db.expire_all()
        for scope in scopes:
            rolled = rollup.load_report(db, scope, now, zone=get_settings().zone, sl_threshold=sl_threshold,
                                        short_abandon=0)  # fmt: skip
            assert rolled is not None
            _same(rolled, _counted(db, scope, now, sl_threshold))

    def build() -> int:
        built = rollup.build(db, hours.since, hours.until, later, sl_threshold=20, short_abandon=0)
        db.commit()
        return built

    expected = int((hours.until - hours.since) / rollup.HOUR)
    assert build() == expected and _hours_done(db) == expected and build() == 0
    agree()
    # every hour is done: the figures are the rollup's, holds and wrap-ups included
    db.expire_all()
    whole = rollup.load_report(db, hours, now, zone=get_settings().zone, sl_threshold=20, short_abandon=0)
    assert whole is not None and whole.totals.hold >= 0.15 and whole.totals.wrapup > 0
    assert whole.agents[sara.id].totals.hold >= 0.15 and whole.agents[omar.id].totals.hold == 0
    agree(sl_threshold=0)  # other rules: the rollup is not used (everything live), still the same
    first = db.exec(select(Call).order_by(Call.id)).first()
    assert first is not None

    # each write the figures read, through the app's paths, makes the hour stale; rebuilt, all agree
    def stale_after(write) -> None:
        assert build() == 0 and _hours_done(db) == expected
        write()
        db.commit()
        assert _hours_done(db) < expected, write.__name__
        agree()
        assert build() >= 1
        agree()

    def disposition_changed():
        wrapup.save(db, agents.get_agent(db, sara.id), first.id, disposition="sale", notes="", tags="")

    def a_call_came_in():
        call = calls_in(db, "+201000000087")
        call_control.claim(db, db.get(Call, call.id), omar.id)
        media_reports(db, call, "in-progress")

    def it_was_held():
        call = db.exec(select(Call).where(Call.customer_number == "+201000000087")).one()
        transfers.set_hold(db, call.provider_call_sid, agents.get_agent(db, omar.id), True)

    def it_ended_into_a_wrap_up():  # (still going: summed live over the done hours)
        call = db.exec(select(Call).where(Call.customer_number == "+201000000087")).one()
        transfers.set_hold(db, call.provider_call_sid, agents.get_agent(db, omar.id), False)
        media_reports(db, call, "completed", by="agent")

    def the_agent_went_away():
        agents.set_availability(db, sara.id, "away")

    for write in (disposition_changed, a_call_came_in, it_was_held, it_ended_into_a_wrap_up,
                  the_agent_went_away):  # fmt: skip
        stale_after(write)
    assert rollup.catch_up(hours.until) == 0  # (all done: the background round has nothing to do)
    db.expire_all()
    moment = utcnow() + timedelta(seconds=1)  # (Omar's wrap-up began after `now`)
    rolled = rollup.load_report(db, hours, moment, zone=get_settings().zone, sl_threshold=20,
                                short_abandon=0)  # fmt: skip
    assert rolled is not None and rolled.agents[omar.id].seconds.get("wrap-up", 0) > 0
    assert rolled.totals.wrapup > whole.totals.wrapup  # (his open wrap-up counts for the call)
    _same(rolled, _counted(db, hours, moment))


def test_every_table_the_reports_read_marks_the_rollup_stale(db):
    """The rollup stays true only if every table reports.load reads has its triggers (migration 0014)."""
    from sqlalchemy import text

    read = {"call", "queue_entry", "call_event", "agent_state_span", "call_offer"}
    if db.get_bind().dialect.name == "sqlite":
        query = "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'report_%'"
    else:
        query = (
            "SELECT event_object_table FROM information_schema.triggers WHERE trigger_name LIKE 'report_%' "
            "AND trigger_schema = current_schema()"
        )
    assert {name for (name,) in db.execute(text(query))} == read


def test_a_zone_whose_offset_is_not_whole_hours_is_counted_call_by_call():
    from zoneinfo import ZoneInfo

    from call_center.services import report_sums

    now = utcnow()
    assert report_sums.whole_hours(ZoneInfo("Africa/Cairo"), now - timedelta(days=400), now)  # DST too
    assert not report_sums.whole_hours(ZoneInfo("Asia/Kolkata"), now - timedelta(days=1), now)
