from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from call_center.core.db import get_engine
from call_center.models import CallEvent, CallStatus, Contact
from call_center.services import calls
from call_center.services.calls import ProviderEvent

T0 = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)


@pytest.fixture
def db(sqlite_db):
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


def new_call(db: Session, sid: str | None = None, customer: str = "+201001234567"):
    call = calls.create_call(
        db,
        provider="twilio",
        call_sid=sid or f"CA{uuid.uuid4().hex}",
        direction="outbound",
        from_number="+20221234567",
        to_number=customer,
        customer_number=customer,
    )
    db.commit()
    return call


def ev(sid: str, status: str, seconds: float, leg: str | None = "customer", **kw) -> ProviderEvent:
    raw = {
        "CallSid": sid,
        "CallStatus": status,
        "t": seconds,
        "leg": leg,
        **{k: str(v) for k, v in kw.items()},
    }
    return ProviderEvent(
        provider="twilio",
        call_sid=sid,
        status=status,
        leg=leg,
        at=T0 + timedelta(seconds=seconds),
        raw=raw,
        **kw,
    )


def test_a_normal_call_goes_through_its_states(db):
    call = new_call(db)
    sid = call.provider_call_sid
    assert calls.apply_event(db, ev(sid, "ringing", 1)).call.status == CallStatus.RINGING
    result = calls.apply_event(db, ev(sid, "answered", 4))
    assert result.call.status == CallStatus.IN_PROGRESS and result.changed
    done = calls.apply_event(db, ev(sid, "completed", 64, duration=60)).call
    assert done.status == CallStatus.COMPLETED
    assert done.ringing_at == T0 + timedelta(seconds=1)
    assert done.answered_at == T0 + timedelta(seconds=4)
    assert done.ended_at == T0 + timedelta(seconds=64)
    assert done.duration_seconds == 60


def test_same_event_twice_changes_nothing(db):
    call = new_call(db)
    first = calls.apply_event(db, ev(call.provider_call_sid, "ringing", 1))
    again = calls.apply_event(db, ev(call.provider_call_sid, "ringing", 1))
    assert first.changed and not first.duplicate
    assert again.duplicate and not again.changed
    assert len(db.exec(select(CallEvent).where(CallEvent.call_id == call.id)).all()) == 1


def test_a_late_ringing_never_undoes_completed(db):
    call = new_call(db)
    sid = call.provider_call_sid
    calls.apply_event(db, ev(sid, "answered", 4))
    calls.apply_event(db, ev(sid, "completed", 30))
    late = calls.apply_event(db, ev(sid, "ringing", 1))
    assert late.call.status == CallStatus.COMPLETED
    assert late.call.ringing_at == T0 + timedelta(seconds=1)  # the fact is still kept


def test_events_before_the_call_exists_are_applied_when_it_is_created(db):
    sid = f"CA{uuid.uuid4().hex}"
    assert calls.apply_event(db, ev(sid, "ringing", 1)).call is None
    call = new_call(db, sid)
    assert call.status == CallStatus.RINGING


def test_customer_outcome_wins_over_the_browser_leg(db):
    call = new_call(db)
    sid = call.provider_call_sid
    calls.apply_event(db, ev(sid, "completed", 31, leg="agent"))  # the browser leg ends after the Dial
    final = calls.apply_event(db, ev(sid, "no-answer", 30)).call
    assert final.status == CallStatus.NO_ANSWER


def test_agent_hanging_up_before_answer_is_canceled(db):
    call = new_call(db)
    sid = call.provider_call_sid
    calls.apply_event(db, ev(sid, "ringing", 1))
    final = calls.apply_event(db, ev(sid, "completed", 8, leg="agent", reason="agent hung up")).call
    assert final.status == CallStatus.CANCELED
    assert final.hangup_reason == "agent hung up"
    assert final.duration_seconds == 0


def test_child_leg_events_find_the_call(db):
    call = new_call(db)
    child = f"CA{uuid.uuid4().hex}"
    calls.apply_event(
        db, ProviderEvent("twilio", call.provider_call_sid, "ringing", "customer", T0, child_call_sid=child)
    )
    found = calls.apply_event(db, ev(child, "answered", 3)).call
    assert found.id == call.id and found.status == CallStatus.IN_PROGRESS


def test_contact_is_linked_by_number(db):
    db.add(Contact(name="شركة النور", phone="+201001112223"))
    db.commit()
    call = new_call(db, customer="+201001112223")
    assert call.contact_id is not None


def test_claim_goes_to_the_first_agent_only(db):
    from tests.conftest import make_agent

    a = make_agent(db, email="a@example.com")
    b = make_agent(db, email="b@example.com")
    call = new_call(db)
    assert calls.claim_call(db, call.id, a.id)
    db.commit()
    assert not calls.claim_call(db, call.id, b.id)


def test_unknown_status_is_refused(db):
    call = new_call(db)
    with pytest.raises(ValueError):
        calls.apply_event(db, ev(call.provider_call_sid, "exploded", 1))


# Any permutation, with duplicates, of a realistic Twilio callback sequence ends in the same state.
SEQUENCES = {
    "answered": [
        ("initiated", 0, "customer", {}),
        ("ringing", 1, "customer", {}),
        ("answered", 5, "customer", {}),
        ("completed", 65, "customer", {"duration": 60}),
        ("completed", 66, "agent", {"duration": 66}),
    ],
    "no-answer": [
        ("initiated", 0, "customer", {}),
        ("ringing", 1, "customer", {}),
        ("no-answer", 31, "customer", {}),
        ("completed", 31, "agent", {"duration": 31}),
    ],
    "busy": [("initiated", 0, "customer", {}), ("busy", 2, "customer", {}), ("completed", 2, "agent", {})],
}


def _final(db: Session, name: str, order: list[int], dupes: list[int]) -> tuple:
    call = new_call(db)
    sid = call.provider_call_sid
    steps = SEQUENCES[name]
    for index in itertools.chain(order, dupes):
        status, t, leg, extra = steps[index % len(steps)]
        calls.apply_event(db, ev(sid, status, t, leg=leg, **extra))
    db.refresh(call)
    return (call.status, call.ringing_at, call.answered_at, call.ended_at, call.duration_seconds)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), name=st.sampled_from(sorted(SEQUENCES)))
def test_any_order_and_duplication_gives_the_same_final_state(db, data, name):
    size = len(SEQUENCES[name])
    reference = _final(db, name, list(range(size)), [])
    order = data.draw(st.permutations(list(range(size))))
    dupes = data.draw(st.lists(st.integers(0, size - 1), max_size=4))
    assert _final(db, name, list(order), dupes) == reference


def test_a_call_created_between_the_lookup_and_the_insert_still_gets_its_event(db, monkeypatch):
    """The webhook looked for the call (not there yet), then create_call committed and scanned for orphans
    before the event was stored: the event must not be left as an orphan nobody picks up."""
    sid = f"CA{uuid.uuid4().hex}"
    real_find = calls.find_call
    lookups = []

    def find_call_racing_create(session, provider, call_sid, **kw):
        lookups.append(call_sid)
        if len(lookups) == 1:
            with Session(get_engine(), expire_on_commit=False) as other:
                new_call(other, sid)  # commits, and finds no orphan yet
            return None
        return real_find(session, provider, call_sid, **kw)

    monkeypatch.setattr(calls, "find_call", find_call_racing_create)
    result = calls.apply_event(db, ev(sid, "ringing", 1))

    assert result.call is not None and result.call.status == CallStatus.RINGING
    stored = db.exec(select(CallEvent).where(CallEvent.provider_call_sid == sid)).one()
    assert stored.call_id == result.call.id
