"""The queue's dispatcher over a real database (SQLite and PostgreSQL): waits that run out, nobody logged
in, misses that set an agent away, the strategies wired to real agents, and two dispatchers at once.

Calls come in the way the local provider brings them (`control.phone_calls_company`); the media server is
replaced by a recorder of the requests the app sends it, and its callbacks are fed back through the app's
own `control.handle_callback`, as the real one's would be. The real media server runs in
tests/e2e/test_queue.py."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from call_center.core.config import reset_settings
from call_center.core.db import get_engine
from call_center.models import Agent, Call, CallOffer, QueueEntry
from call_center.services import agents, call_control, queue
from tests.support.local_calls import (
    MediaRecorder,
    calls_in,
    media_reports,
    online_agent,
    record_media,
    ringing,
)


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> MediaRecorder:
    return record_media(monkeypatch)


@pytest.fixture
def db(database, monkeypatch):
    monkeypatch.setenv("QUEUE_RING_SECONDS", "10")
    monkeypatch.setenv("QUEUE_MAX_WAIT_SECONDS", "60")
    monkeypatch.setenv("QUEUE_MAX_MISSES", "2")
    monkeypatch.setenv("WRAPUP_SECONDS", "0")
    reset_settings()
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


def _entry(db: Session, call: Call) -> QueueEntry:
    db.expire_all()
    return db.exec(select(QueueEntry).where(QueueEntry.call_id == call.id)).one()


def test_nobody_logged_in_is_no_agent_at_once_and_a_wait_that_runs_out_ends_the_call(db, media):
    lonely = calls_in(db, "+201000000071")  # nobody logged in: straight to voicemail
    assert media.ops("voicemail")[-1] == {
        "sid": lonely.provider_call_sid, "reason": "call.error.no_agents", "max_seconds": 120,
    }  # fmt: skip
    assert _entry(db, lonely).outcome == "no-agents"
    media_reports(db, lonely, "no-answer", reason="call.error.no_agents", by="customer")
    db.commit()
    db.refresh(lonely)
    assert (lonely.status, lonely.hangup_reason, lonely.queue_outcome) == (
        "no-answer", "call.error.no_agents", "no-agents",
    )  # fmt: skip

    sara = online_agent(db, "sara@example.com")
    agents.set_availability(db, sara.id, "away", "meeting")
    db.commit()
    call = calls_in(db, "+201000000072")
    assert media.ops("inbound")[-1]["sound"] == "queue"
    assert media.ops("inbound")[-1]["notice"] is True  # RECORDING_NOTICE: the tones before the queue
    assert media.ops("announce")[-1] == {"sid": call.provider_call_sid, "position": 1, "period": 30}
    assert ringing(db, call) == []  # away: waits

    queue.dispatch(db, now=_entry(db, call).entered_at + timedelta(seconds=61))
    assert media.ops("voicemail")[-1] == {  # the caller may leave a message
        "sid": call.provider_call_sid,
        "reason": "queue.reason.timeout",
        "max_seconds": 120,
    }
    entry = _entry(db, call)
    assert entry.outcome == "timeout"
    # the caller hangs up after their message: the media server ends the call for the queue's reason; the
    # history has the outcome and the wait
    media_reports(db, call, "no-answer", reason="queue.reason.timeout", by="customer")
    db.commit()
    db.refresh(call)
    assert (call.status, call.queue_outcome, call.wait_seconds) == ("no-answer", "timeout", 61)


def test_an_offer_that_rings_out_goes_to_the_next_agent_and_two_misses_set_away(db, media):
    sara = online_agent(db, "sara@example.com")
    omar = online_agent(db, "omar@example.com")  # available after Sara: Sara is the longest idle
    call = calls_in(db, "+201000000073")
    assert ringing(db, call) == [sara.id]
    offered = db.exec(select(CallOffer.offered_at).where(CallOffer.call_id == call.id)).one()
    queue.dispatch(db, now=offered + timedelta(seconds=11))
    assert ringing(db, call) == [omar.id]
    db.expire_all()
    assert db.get(Agent, sara.id).missed_in_row == 1
    # Omar takes it; a second caller rings Sara alone, and she misses again: away
    call_control.claim(db, db.get(Call, call.id), omar.id)
    second = calls_in(db, "+201000000074")
    assert ringing(db, second) == [sara.id]
    offered = db.exec(select(CallOffer.offered_at).where(CallOffer.call_id == second.id)).one()
    queue.dispatch(db, now=offered + timedelta(seconds=11))
    db.expire_all()
    sara = db.get(Agent, sara.id)
    assert (sara.availability, sara.away_reason, sara.missed_in_row) == ("away", "missed", 2)
    assert ringing(db, second) == []
    assert _entry(db, second).position == 1


@pytest.mark.parametrize(
    ("strategy", "expected"),
    # a and b took a call each today, then all three came back in the order a, b, c; round-robin's last
    # offer went to b
    [("ring-all", {"a", "b", "c"}), ("fewest-calls", {"c"}), ("longest-idle", {"a"}), ("round-robin", {"c"})],
)
def test_each_strategy_picks_from_real_agents(db, media, monkeypatch, strategy, expected):
    monkeypatch.setenv("QUEUE_STRATEGY", strategy)
    reset_settings()
    people = {k: online_agent(db, f"{k}@example.com") for k in "abc"}
    # a and b took calls today (answered offers); c took none
    for key in "ab":
        past = calls_in(db, f"+20100000008{ord(key) - 96}")
        for agent_id in ringing(db, past):
            if agent_id != people[key].id:
                call_control.decline(db, db.get(Call, past.id), agent_id)
        if people[key].id in ringing(db, past):
            call_control.claim(db, db.get(Call, past.id), people[key].id)
        media_reports(db, past, "completed")
        db.commit()
    for agent in people.values():  # everyone back to available, in the order a, b, c
        agents.set_availability(db, agent.id, "away", "break")
        db.commit()
        agents.set_availability(db, agent.id, "available")
        db.commit()
    call = calls_in(db, "+201000000089")
    ids = {agent.id: key for key, agent in people.items()}
    assert {ids[a] for a in ringing(db, call)} == expected


def test_two_dispatchers_at_once_never_ring_an_agent_twice(db, media):
    people = [online_agent(db, f"agent{n}@example.com") for n in range(3)]
    calls = []
    # callers queue while everyone is away; then everyone is back and two workers dispatch at once
    for person in people:
        agents.set_availability(db, person.id, "away", "break")
    db.commit()
    for n in range(5):
        calls.append(calls_in(db, f"+20100000009{n}"))
    for person in people:
        agents.set_availability(db, person.id, "available")
    db.commit()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with Session(get_engine(), expire_on_commit=False) as session:
                queue.dispatch(session)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    db.expire_all()
    ringing = list(
        db.exec(select(CallOffer.agent_id, CallOffer.call_id).where(CallOffer.outcome == "ringing"))
    )
    agents_rung = [a for a, _ in ringing]
    assert sorted(agents_rung) == sorted(p.id for p in people), ringing  # each once
    assert {c for _, c in ringing} == {c.id for c in calls[:3]}  # the three longest waiting
