"""Several queues over a real database (SQLite and PostgreSQL): each inbound number waits in its own queue,
served only by its members with its own strategy and timeouts; outside its opening hours the caller hears
the closed message and the call ends as a missed call on the callback list. Calls come in through the local
provider's own path (`control.phone_calls_company`, the media server replaced by a recorder of requests);
the admin's page is driven in tests/e2e/test_queues.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from call_center.core.config import get_settings, reset_settings
from call_center.core.db import get_engine
from call_center.models import CallbackItem, QueueEntry
from call_center.models.base import utcnow
from call_center.services import history, queue, queues
from call_center.services.errors import Conflict, InvalidInput
from call_center.telephony.local import control
from tests.conftest import make_agent
from tests.support.local_calls import (
    MediaRecorder,
    calls_in,
    media_reports,
    online_agent,
    record_media,
    ringing,
)

SALES = "+20225550100"


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> MediaRecorder:
    return record_media(monkeypatch)


@pytest.fixture
def db(database, monkeypatch):
    monkeypatch.setenv("QUEUE_RING_SECONDS", "10")
    monkeypatch.setenv("QUEUE_MAX_WAIT_SECONDS", "60")
    monkeypatch.setenv("WRAPUP_SECONDS", "0")
    reset_settings()
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


def _closed_hours() -> tuple[str, ...]:
    """Every day open for one minute two hours from now: closed now, whatever the day."""
    start = (utcnow().astimezone(get_settings().zone) + timedelta(hours=2)).replace(second=0, microsecond=0)
    end = start + timedelta(minutes=1)
    return (f"{start:%H:%M}-{end:%H:%M}",) * 7


def test_a_number_rings_only_its_queue_members_with_the_queues_own_rules(db, media):
    sara, omar = online_agent(db, "sara@example.com"), online_agent(db, "omar@example.com")
    queues.save(
        db,
        queues.QueueForm(
            name_ar="المبيعات", name_en="Sales", strategy="ring-all", ring_seconds="20",
            max_wait_seconds="30", announce_seconds="15", members=(omar.id,), numbers="02 2555 0100",
        ),
    )  # fmt: skip
    db.commit()
    assert queues.for_number(db, SALES) == "sales"

    general = calls_in(db, "+201000000081")  # the company number: the general queue, every agent
    sale = calls_in(db, "+201000000082", to=SALES)
    assert db.exec(select(QueueEntry.queue).where(QueueEntry.call_id == sale.id)).one() == "sales"
    assert sale.to_number == SALES
    assert ringing(db, general) == [sara.id]  # omar rings for the sales call: one call rings at a time
    assert ringing(db, sale) == [omar.id]
    assert media.ops("announce")[-1] == {"sid": sale.provider_call_sid, "position": 1, "period": 15}

    entered = db.exec(select(QueueEntry.entered_at).where(QueueEntry.call_id == sale.id)).one()
    queue.dispatch(db, now=entered + timedelta(seconds=15))  # the company's 10 s ring is not the queue's 20
    assert ringing(db, sale) == [omar.id]
    queue.dispatch(db, now=entered + timedelta(seconds=31))  # the queue's own 30 s wait is over
    db.expire_all()
    timed_out = db.get(type(sale), sale.id)
    assert (timed_out.queue_outcome, timed_out.queue) == ("timeout", "sales")
    assert media.ops("voicemail")[-1]["sid"] == sale.provider_call_sid
    # the history names the queue in both languages; a queue since removed keeps its code
    boss = make_agent(db, email="boss@example.com", role="admin")
    (row,), _ = history.list_calls(db, boss, history.CallFilter(call_id=sale.id))
    assert (row.queue, row.queue_name_ar, row.queue_name_en) == ("sales", "المبيعات", "Sales")
    assert queues.names(db, {"default", "gone"}) == {
        "default": ("قائمة الانتظار العامة", "General queue"), "gone": ("gone", "gone"),
    }  # fmt: skip


def test_members_who_are_all_away_send_the_caller_to_voicemail_even_with_others_online(db, media):
    sara, omar = online_agent(db, "sara@example.com"), online_agent(db, "omar@example.com")
    queues.save(db, queues.QueueForm(name_ar="الدعم", name_en="Support", members=(omar.id,), numbers=SALES))
    db.commit()
    from call_center.services import agents

    agents.set_availability(db, omar.id, "offline")
    db.commit()
    call = calls_in(db, "+201000000083", to=SALES)
    assert ringing(db, call) == []
    assert media.ops("voicemail")[-1] == {
        "sid": call.provider_call_sid, "reason": "call.error.no_agents", "max_seconds": 120,
    }  # fmt: skip
    assert sara.id is not None


def test_outside_opening_hours_the_caller_hears_the_closed_tone_and_lands_on_the_callback_list(db, media):
    online_agent(db, "sara@example.com")
    queues.save(
        db,
        queues.QueueForm(
            name_ar="المبيعات", name_en="Sales", numbers=SALES, hours=_closed_hours(),
            closed_message_ar="نحن مغلقون", closed_message_en="We are closed",
        ),
    )  # fmt: skip
    db.commit()
    call = calls_in(db, "+201000000084", to=SALES)
    inbound = media.ops("inbound")[-1]
    assert (inbound["sound"], inbound["timeout_reason"], inbound["ring_timeout"]) == (
        "closed", "queue.reason.closed", control.CLOSED_SECONDS,
    )  # fmt: skip
    assert ringing(db, call) == []
    assert db.exec(select(QueueEntry.outcome).where(QueueEntry.call_id == call.id)).one() == "closed"
    media_reports(db, call, "no-answer", reason="queue.reason.closed", by="system")  # the tone is over
    db.expire_all()
    ended = db.get(type(call), call.id)
    assert (ended.status, ended.hangup_reason, ended.queue_outcome, ended.wait_seconds) == (
        "no-answer", "queue.reason.closed", "closed", 0,
    )  # fmt: skip
    item = db.exec(select(CallbackItem).where(CallbackItem.number == "+201000000084")).one()
    assert item.status == "open"

    # The same hours, open now: the caller queues and rings.
    queues.save(db, queues.QueueForm(name_ar="المبيعات", name_en="Sales", numbers=SALES), code="sales")
    db.commit()
    again = calls_in(db, "+201000000085", to=SALES)
    assert len(ringing(db, again)) == 1


def test_a_phone_can_dial_only_the_companys_numbers(db, media):
    with pytest.raises(InvalidInput) as refused:
        calls_in(db, "+201000000086", to="+20225559999")
    assert refused.value.code == "phone.error.not_company"
    assert media.ops("inbound") == []


def test_admin_settings_are_checked_and_a_number_belongs_to_one_queue(db, media):
    queues.save(db, queues.QueueForm(name_ar="المبيعات", name_en="Sales", numbers=SALES))
    db.commit()
    with pytest.raises(Conflict) as taken:
        queues.save(db, queues.QueueForm(name_ar="الدعم", name_en="Support", numbers=SALES))
    assert taken.value.code == "queues.error.number_taken"
    db.rollback()
    for form, code in [
        (queues.QueueForm(name_ar="x", name_en="Sales"), "queues.error.exists"),
        (queues.QueueForm(name_ar="", name_en="Support"), "queues.error.name"),
        (queues.QueueForm(name_ar="x", name_en="Support", ring_seconds="3"), "queues.error.ring_seconds"),
        (queues.QueueForm(name_ar="x", name_en="Support", strategy="random"), "queues.error.strategy"),
        (queues.QueueForm(name_ar="x", name_en="Support", numbers="12"), "dial.error.invalid"),
        (queues.QueueForm(name_ar="x", name_en="Support", hours=("9-5",) * 7), "queues.error.hours"),
        (queues.QueueForm(name_ar="x", name_en="Support", members=(9999,)), "queues.error.members"),
    ]:
        with pytest.raises((InvalidInput, Conflict)) as bad:
            queues.save(db, form)
        assert bad.value.code == code, form
        db.rollback()

    queues.remove(db, "sales")
    db.commit()
    assert queues.for_number(db, SALES) == "default"
    assert [c.code for c in queues.all_configs(db)] == ["default"]
    with pytest.raises(InvalidInput):
        queues.remove(db, "default")
