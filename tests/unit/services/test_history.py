from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from call_center.core.db import get_engine
from call_center.models import Call, Contact
from call_center.services import calls, history, recordings
from call_center.services.history import CallFilter, number_prefix
from tests.conftest import make_agent


@pytest.mark.parametrize(
    ("typed", "prefix"),
    [
        ("0100 123", "+20100123"),
        ("01001234567", "+201001234567"),
        ("+2010", "+2010"),
        ("002010", "+2010"),
        ("100123", "+20100123"),
        ("12", None),
        ("Ahmed", None),
    ],
)
def test_typed_numbers_become_e164_prefixes(typed, prefix):
    assert number_prefix(typed, "EG") == prefix


@pytest.fixture
def seeded(sqlite_db):
    with Session(get_engine(), expire_on_commit=False) as db:
        admin = make_agent(db, email="boss@example.com", role="admin")
        agent = make_agent(db, email="a@example.com")
        db.add(Contact(name="مؤسسة الأمل", phone="+201112223334"))
        db.commit()
        start = datetime(2026, 11, 1, tzinfo=UTC)
        for i, number in enumerate(["+201001234567", "+201112223334", "+201001234999", "+966501234567"]):
            call = calls.create_call(
                db,
                provider="local",
                call_sid=f"LC{uuid.uuid4().hex}",
                direction="outbound",
                from_number="+20221234567",
                to_number=number,
                customer_number=number,
                agent_id=agent.id if i % 2 == 0 else admin.id,
            )
            call.created_at = start + timedelta(days=i)
            if i == 1:
                rec = recordings.start_recording(db, call)
                recordings.mark_ready(db, rec, key="x.mp3", size=1, duration=1.0, channels=2)
            if i == 3:
                recordings.start_recording(db, call)  # still processing: not "has a recording" yet
        db.commit()
        yield db, admin, agent


def numbers_of(rows):
    return [r.customer_number for r in rows]


def test_filters_and_search(seeded):
    db, admin, agent = seeded
    rows, total = history.list_calls(db, admin)
    assert total == 4 and numbers_of(rows)[0] == "+966501234567"  # newest first
    rows, total = history.list_calls(db, agent)
    assert total == 2  # agents see their own calls
    supervisor = make_agent(db, email="sup@example.com", role="supervisor")
    assert history.list_calls(db, supervisor)[1] == 4  # supervisors see every call, like admins
    assert history.list_calls(db, supervisor, CallFilter(mine_only=True))[1] == 0
    assert numbers_of(history.list_calls(db, admin, CallFilter(search="0100123"))[0]) == [
        "+201001234999",
        "+201001234567",
    ]
    assert numbers_of(history.list_calls(db, admin, CallFilter(search="الأمل"))[0]) == ["+201112223334"]
    assert numbers_of(history.list_calls(db, admin, CallFilter(has_recording=True))[0]) == ["+201112223334"]
    assert history.list_calls(db, admin, CallFilter(has_recording=False))[1] == 3
    since = datetime(2026, 11, 2, tzinfo=UTC)
    assert history.list_calls(db, admin, CallFilter(since=since, until=since + timedelta(days=1)))[1] == 1


@pytest.mark.parametrize(
    "flt",
    [
        CallFilter(),
        CallFilter(has_recording=True),
        CallFilter(has_recording=False),
        CallFilter(search="0100123"),
        CallFilter(search="الأمل"),
        CallFilter(search="+9665"),
        CallFilter(direction="inbound"),
        CallFilter(status="initiated", since=datetime(2026, 11, 2, tzinfo=UTC)),
        CallFilter(until=datetime(2026, 11, 3, tzinfo=UTC)),
    ],
)
def test_a_live_update_is_filtered_like_the_database(seeded, flt):
    db, admin, _ = seeded
    everything, _ = history.list_calls(db, admin, page_size=100)
    listed, _ = history.list_calls(db, admin, flt, page_size=100)
    assert [c.id for c in everything if history.matches(flt, c)] == [c.id for c in listed]


def test_counts_stop_at_the_cap(seeded, monkeypatch):
    db, admin, _ = seeded
    monkeypatch.setattr(history, "COUNT_CAP", 3)
    rows, total = history.list_calls(db, admin, page_size=10)
    assert total == 3 and len(rows) == 4


def test_a_call_is_found_by_either_leg_s_provider_id(seeded):
    db, admin, _ = seeded
    everything, _ = history.list_calls(db, admin)
    call = db.get(Call, everything[0].id)
    call.child_call_sid = "CAchild"
    db.add(call)
    db.commit()
    for sid in (call.provider_call_sid, "CAchild"):
        assert [c.id for c in history.list_calls(db, admin, CallFilter(call_sid=sid))[0]] == [call.id]
    assert history.list_calls(db, admin, CallFilter(call_sid="CAnobody"))[1] == 0
