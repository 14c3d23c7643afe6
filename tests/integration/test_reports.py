"""The reports read what the app itself wrote (SQLite and PostgreSQL): calls that queued, were answered,
held, wrapped up and abandoned through the app's own paths, as in test_queue.py; only the media server is
replaced by a recorder, its callbacks fed back through `control.handle_callback`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

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
