"""`python -m call_center demo-data`: a marked, populated sample install, only on a fresh database."""

from __future__ import annotations

from sqlmodel import select

from call_center import demo
from call_center.core.config import get_settings
from call_center.models import Agent, Call, CallStatus, Contact, Direction, Recording, RecordingStatus
from call_center.services import calls, recordings
from call_center.testing.audio import decode


def test_demo_data_fills_a_fresh_database_with_marked_calls_and_real_recordings(db):
    made = demo.fill(db, get_settings(), days=14)
    assert made["agents"] == 3 and made["contacts"] == 12 and made["calls"] > 60 and made["recordings"] > 30
    demo_agents = db.exec(select(Agent)).all()
    assert all(a.email.endswith("@demo.almasar.local") and "تجريبي" in a.name for a in demo_agents)
    assert all(c.notes.startswith("[demo]") for c in db.exec(select(Contact)).all())
    all_calls = db.exec(select(Call)).all()
    assert all(c.provider_call_sid.startswith("DEMO") for c in all_calls)
    assert {c.direction for c in all_calls} == {Direction.INBOUND, Direction.OUTBOUND}
    assert {CallStatus.COMPLETED, CallStatus.NO_ANSWER, CallStatus.BUSY} <= {c.status for c in all_calls}
    days = {c.created_at.date() for c in all_calls}
    assert len(days) >= 10  # spread over the weeks, not all "today"
    ready = db.exec(select(Recording).where(Recording.status == RecordingStatus.READY)).first()
    rate, audio = decode(recordings.get_store().path(ready.storage_key))
    assert audio.shape[0] == 2 and audio.shape[1] / rate > 2


def test_demo_data_refuses_a_database_with_real_calls(db):
    calls.create_call(
        db,
        provider="local",
        call_sid="LC" + "0" * 32,
        direction=Direction.OUTBOUND,
        from_number="+20221234567",
        to_number="+201001234567",
        customer_number="+201001234567",
    )
    db.commit()
    try:
        demo.fill(db, get_settings())
    except demo.DemoRefused as refused:
        assert "1 real call" in str(refused)
    else:
        raise AssertionError("demo data went into a database with real calls")
    assert len(db.exec(select(Call)).all()) == 1
