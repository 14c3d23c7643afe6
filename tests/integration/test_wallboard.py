"""The wallboard's figures over a real database (SQLite and PostgreSQL), as calls queue, ring, connect and
end the way the local provider brings them (the media server replaced by a recorder, its callbacks fed
back through the app's own handler). The live page itself: tests/e2e/test_wallboard.py."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, timedelta

import pytest
from sqlmodel import Session, select

from call_center.core.config import get_settings, reset_settings
from call_center.core.db import get_engine
from call_center.models import Call, QueueEntry
from call_center.models.base import utcnow
from call_center.services import agents, call_control, events, reports, wallboard
from tests.support.local_calls import calls_in, media_reports, online_agent, record_media, ringing


@pytest.fixture
def db(database, monkeypatch):
    monkeypatch.setenv("QUEUE_RING_SECONDS", "30")
    monkeypatch.setenv("WRAPUP_SECONDS", "60")
    reset_settings()
    record_media(monkeypatch)
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


def _board(db: Session, later: float = 0.0) -> tuple[wallboard.QueueTile, dict[str, wallboard.AgentTile]]:
    """The board `later` seconds from now (it is a function of the time it is read at)."""
    db.expire_all()
    found = wallboard.board(db, utcnow() + timedelta(seconds=later))
    (general,) = found.queues
    _board.at = found.at  # type: ignore[attr-defined]
    return general, {a.name: a for a in found.agents}


def _since(moment) -> float:  # type: ignore[no-untyped-def]
    at = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (_board.at - at).total_seconds()  # type: ignore[attr-defined]


def test_the_board_follows_a_call_from_the_queue_to_wrap_up(db, monkeypatch):
    published: list[str] = []
    bus = events.get_bus()
    monkeypatch.setattr(bus, "publish", lambda topic, data: published.append(topic))
    sara, omar = online_agent(db, "sara@example.com"), online_agent(db, "omar@example.com")
    agents.set_availability(db, omar.id, "away", "break")
    db.commit()
    queue, people = _board(db)
    assert (queue.waiting, queue.available, queue.away, queue.on_call) == (0, 1, 1, 0)
    assert people[sara.name].state == "available" and people[omar.name].reason == "break"

    call = calls_in(db, "+201000000091")  # it queues and rings Sara
    assert ringing(db, call) == [sara.id]
    # every change the board shows is announced on the bus (what the open wallboards follow)
    assert set(wallboard.TOPICS) <= set(published)
    queue, people = _board(db, later=12)
    assert (queue.waiting, queue.on_call, queue.ringing, queue.available) == (1, 1, 1, 0)
    entered = db.exec(select(QueueEntry.entered_at).where(QueueEntry.call_id == call.id)).one()
    assert queue.longest_wait == pytest.approx(_since(entered)) and queue.longest_wait >= 12
    assert people[sara.name].state == "ringing" and people[sara.name].customer_number == "+201000000091"
    assert people[sara.name].call_seconds is None  # not answered yet

    call_control.claim(db, db.get(Call, call.id), sara.id)
    media_reports(db, call, "in-progress")
    queue, people = _board(db, later=5)
    assert (queue.waiting, queue.longest_wait, queue.on_call) == (0, 0.0, 1)
    answered = db.get(Call, call.id).answered_at
    assert people[sara.name].state == "on-call" and people[sara.name].call_seconds == pytest.approx(
        _since(answered)
    )
    assert (people[sara.name].call_seconds or 0) >= 5
    assert (queue.offered, queue.answered, queue.service_level) == (1, 1, 1.0)  # answered at once: in SL

    media_reports(db, call, "completed")
    queue, people = _board(db)
    assert (queue.on_call, queue.wrap_up) == (0, 1)
    assert people[sara.name].state == "wrap-up" and people[sara.name].calls_today == 1
    assert people[omar.name].calls_today == 0

    # nobody available: callers wait; one gives up at once (a short abandon: not counted), one after 30 s
    quick, lost = calls_in(db, "+201000000092"), calls_in(db, "+201000000093")
    queue, _ = _board(db)
    assert queue.waiting == 2
    media_reports(db, quick, "no-answer", by="customer")
    media_reports(db, lost, "no-answer", by="customer", at=(utcnow() + timedelta(seconds=30)).isoformat())
    queue, _ = _board(db)
    assert (queue.offered, queue.abandoned, queue.waiting) == (2, 1, 0)
    assert queue.abandonment == 0.5 and queue.average_wait is not None and queue.average_wait >= 15
    # the same figures as the dashboard's for today (the board counts them with aggregate queries)
    today = utcnow().astimezone(get_settings().zone).date()
    summary = reports.dashboard(today, today, "", 0)["summary"]
    assert (queue.offered, queue.answered, queue.abandoned) == (
        summary["offered"], summary["answered"], summary["abandoned"],
    )  # fmt: skip
    assert (queue.service_level, queue.abandonment) == (summary["service_level"], summary["abandonment"])


def test_every_open_wallboard_shares_one_read_per_change():
    reads = []

    def read() -> wallboard.Board:
        reads.append(1)
        return wallboard.Board(at=utcnow())

    boards = wallboard.Boards(read)

    async def pages(since: float) -> int:
        await asyncio.gather(*(boards.latest(since) for _ in range(50)))
        return len(reads)

    async def scenario() -> list[int]:
        return [
            await pages(time.time()),  # 50 pages hear of one change: one read
            await pages(0.0),  # nothing new since that read
            await pages(time.time()),  # the next change
        ]

    assert asyncio.run(scenario()) == [1, 1, 2]
