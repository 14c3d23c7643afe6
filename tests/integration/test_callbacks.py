"""The callback list over a real database (SQLite and PostgreSQL): missed and abandoned calls join it,
repeated attempts merge, one agent claims an item, the callback closes it with its outcome.

Calls run through the app's own code (the queue, the call-control layer, the media server's callbacks
through `control.handle_callback`); only the media server's control channel is a recorder, as in
test_queue.py."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, select

from call_center.core.config import get_settings
from call_center.core.db import get_engine
from call_center.models import CallbackItem
from call_center.services import agents, call_control, callbacks
from call_center.services.errors import Conflict
from tests.conftest import make_agent
from tests.support.local_calls import MediaRecorder, calls_in, media_reports, online_agent, record_media

NUMBER = "+201000000061"


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> MediaRecorder:
    return record_media(monkeypatch)


@pytest.fixture
def db(database, monkeypatch):
    monkeypatch.setenv("WRAPUP_SECONDS", "0")
    from call_center.core.config import reset_settings

    reset_settings()
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


def _item(db: Session) -> CallbackItem | None:
    db.expire_all()
    return db.exec(
        select(CallbackItem).where(CallbackItem.number == NUMBER, CallbackItem.status != "done")
    ).first()


def test_missed_calls_merge_one_agent_claims_and_the_callback_closes_it(db, media):
    sara = online_agent(db, "sara@example.com")
    omar = online_agent(db, "omar@example.com")
    first = calls_in(db, NUMBER)
    media_reports(db, first, "canceled", by="customer")  # hangs up while it rings Sara: abandoned
    item = _item(db)
    assert (item.reason, item.attempts, item.last_call_id) == ("abandoned", 1, first.id)
    media_reports(db, first, "canceled", by="customer", event_id="again")  # the same end reported twice
    assert _item(db).attempts == 1
    second = calls_in(db, NUMBER)
    media_reports(db, second, "canceled", by="customer")
    item = _item(db)
    assert (item.attempts, item.last_call_id) == (2, second.id)

    callbacks.claim(db, item.id, sara)
    db.commit()
    with pytest.raises(Conflict):
        callbacks.claim(db, item.id, omar)
    db.rollback()
    callbacks.claim(db, item.id, sara)  # one's own claim again is fine

    settings = get_settings()
    back, _ = call_control.open_outbound(
        db, provider="local", agent=sara, raw="01000000061", settings=settings, call_sid="LCback1",
        from_number=settings.COMPANY_NUMBER,
    )  # fmt: skip
    assert _item(db).callback_call_id == back.id
    media_reports(db, back, "ringing")
    media_reports(db, back, "in-progress")
    media_reports(db, back, "completed", by="customer")
    db.expire_all()
    done = db.get(CallbackItem, item.id)
    assert (done.status, done.outcome) == ("done", "reached")
    # the next miss from that number is a new item
    third = calls_in(db, NUMBER)
    media_reports(db, third, "canceled", by="customer")
    assert _item(db).id != item.id


def test_a_callback_nobody_answers_closes_with_that_and_a_customer_who_gets_through_closes_theirs(db, media):
    sara = online_agent(db, "sara@example.com")
    missed = calls_in(db, NUMBER)
    media_reports(db, missed, "canceled", by="customer")
    item = _item(db)
    callbacks.claim(db, item.id, sara)
    settings = get_settings()
    back, _ = call_control.open_outbound(
        db, provider="local", agent=sara, raw=NUMBER, settings=settings, call_sid="LCback2",
        from_number=settings.COMPANY_NUMBER,
    )  # fmt: skip
    media_reports(db, back, "ringing")
    media_reports(db, back, "no-answer", by="system")
    db.expire_all()
    assert (db.get(CallbackItem, item.id).status, db.get(CallbackItem, item.id).outcome) == (
        "done",
        "no-answer",
    )

    again = calls_in(db, NUMBER)
    media_reports(db, again, "canceled", by="customer")
    open_item = _item(db)
    answered = calls_in(db, NUMBER)
    call_control.claim(db, answered, sara.id)
    media_reports(db, answered, "in-progress")
    media_reports(db, answered, "completed", by="customer")
    db.expire_all()
    closed = db.get(CallbackItem, open_item.id)
    assert (closed.status, closed.outcome) == ("done", "called-in")


def test_two_agents_claiming_at_once_one_wins(db, media):
    people = [make_agent(db, email=f"agent{n}@example.com") for n in range(4)]
    online_agent(db, "sara@example.com")
    missed = calls_in(db, NUMBER)
    media_reports(db, missed, "canceled", by="customer")
    item_id = _item(db).id
    won: list[int] = []
    lost: list[int] = []

    def grab(agent) -> None:
        with Session(get_engine(), expire_on_commit=False) as session:
            try:
                callbacks.claim(session, item_id, agents.get_agent(session, agent.id))
                session.commit()
                won.append(agent.id)
            except Conflict:
                lost.append(agent.id)

    threads = [threading.Thread(target=grab, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(lost) == 3, (won, lost)
    db.expire_all()
    assert db.get(CallbackItem, item_id).claimed_by == won[0]
