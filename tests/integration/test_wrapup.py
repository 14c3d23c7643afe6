"""Wrap-up, dispositions and agent states through the call-control layer (SQLite and PostgreSQL).

The call runs the way the local provider runs it: the app's own inbound routing, ring and claim, then the
media server's status callbacks through `control.handle_callback`. Only the media server itself (and its
HTTP signing, tested in test_local_signaling) is left out; presence is what the softphone's event stream
records when it opens (the route's own helper)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from call_center.api.routes.devices import _presence_connect, _presence_disconnect
from call_center.core.config import get_settings
from call_center.core.db import get_engine
from call_center.models import Agent, AgentState, Call, CallStatus, Role
from call_center.models.base import utcnow
from call_center.services import agent_states, agents, call_control, dispositions, history, presence, wrapup
from call_center.services.errors import Conflict, Forbidden, InvalidInput
from call_center.telephony.local import control
from tests.conftest import make_agent


@pytest.fixture
def db(database):
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


def _online(agent: Agent) -> str:
    return _presence_connect(control.Device(agent.identity, agent))


def _status(db: Session, sid: str, status: str, n: int, **extra) -> None:
    body = {
        "type": "status",
        "sid": sid,
        "status": status,
        "at": utcnow().isoformat(),
        "event_id": f"{sid}:{n}",
    }
    control.handle_callback(db, {**body, **extra})
    db.commit()


def _inbound(db: Session, number: str = "+201001234567") -> Call:
    """A customer calls: the app opens the call and rings the available agents (as a ring-all queue)."""
    settings = get_settings()
    sid = control.new_sid()
    call = call_control.open_inbound(
        db, provider="local", call_sid=sid, caller=number, to=settings.COMPANY_NUMBER, settings=settings
    )
    call_control.ring(db, call, presence.available_agents(db))
    _status(db, sid, "ringing", 1)
    return call


def _states(db: Session, agent: Agent) -> list[str]:
    return [s.state for s in agent_states.timeline(db, agent.id)]


def test_a_call_ends_in_wrap_up_and_the_agent_takes_calls_again_when_it_is_over(db):
    sara = make_agent(db, email="sara@example.com", name="Sara")
    omar = make_agent(db, email="omar@example.com", name="Omar")
    for agent in (sara, omar):
        agents.set_availability(db, agent.id, "available")
        db.commit()
        _online(agent)
    call = _inbound(db)
    db.refresh(call)
    call_control.claim(db, call, sara.id)
    _status(db, call.provider_call_sid, "in-progress", 2)
    assert _states(db, sara)[-1] == AgentState.ON_CALL
    _status(db, call.provider_call_sid, "completed", 3, hangup_by="customer")

    db.expire_all()
    sara = db.get(Agent, sara.id)
    assert sara.wrapup_call_id == call.id and sara.wrapup_until > utcnow()
    assert _states(db, sara) == ["available", "ringing", "on-call", "wrap-up"]
    # Omar declined nothing: he was rung too, and is available again
    assert _states(db, omar) == ["available", "ringing", "available"]
    # in wrap-up Sara is not offered calls
    assert [a.id for a in presence.available_agents(db)] == [omar.id]

    # extend once, and only once
    before = sara.wrapup_until
    assert wrapup.extend(db, sara.id) > before
    db.commit()
    with pytest.raises(Conflict):
        wrapup.extend(db, sara.id)
    db.rollback()

    # a late duplicate of the end does not start a second wrap-up
    _status(db, call.provider_call_sid, "completed", 3, hangup_by="customer")
    assert _states(db, sara).count("wrap-up") == 1

    # the agent clock ends it when its time is up, as of that time
    db.expire_all()
    until = db.get(Agent, sara.id).wrapup_until
    assert wrapup.expire_due(db, now=until - timedelta(seconds=1)) == 0
    assert wrapup.expire_due(db, now=until + timedelta(seconds=1)) == 1
    db.commit()
    spans = agent_states.timeline(db, sara.id)
    assert [s.state for s in spans] == ["available", "ringing", "on-call", "wrap-up", "available"]
    assert spans[3].ended_at == until and spans[3].call_id == call.id
    assert sorted(a.id for a in presence.available_agents(db)) == sorted([sara.id, omar.id])
    seconds = agent_states.seconds_per_state(
        db, sara.id, spans[0].started_at, until
    )  # (it ends ahead of now)
    assert seconds["wrap-up"] == pytest.approx((until - spans[3].started_at).total_seconds())
    assert seconds["wrap-up"] >= 2 * get_settings().WRAPUP_SECONDS - 1  # extended once


def test_finishing_early_and_what_the_call_was_about_is_saved_and_found(db):
    sara = make_agent(db, email="sara@example.com", name="Sara")
    agents.set_availability(db, sara.id, "available")
    db.commit()
    _online(sara)
    call = _inbound(db, "+201005556666")
    db.refresh(call)
    call_control.claim(db, call, sara.id)
    _status(db, call.provider_call_sid, "in-progress", 2)
    _status(db, call.provider_call_sid, "completed", 3, hangup_by="agent")

    with pytest.raises(InvalidInput):
        wrapup.save(db, sara, call.id, disposition="no-such-thing", notes="", tags="")
    db.rollback()
    wrapup.save(
        db, sara, call.id, disposition="complaint", notes="Late delivery of order 7781; refund promised",
        tags="VIP, refund ,  late delivery, vip",
    )  # fmt: skip
    assert wrapup.finish(db, sara.id, expected_call=call.id)
    db.commit()
    assert _states(db, sara)[-1] == "available"

    public = history.get_call(db, sara, call.id)
    assert public.disposition == "complaint" and public.tags == ["vip", "refund", "late-delivery"]
    assert public.notes.startswith("Late delivery")
    for flt in (
        history.CallFilter(disposition="complaint"),
        history.CallFilter(tag="Late Delivery"),
        history.CallFilter(search="order 7781"),
    ):
        found, total = history.list_calls(db, sara, flt)
        assert [c.id for c in found] == [call.id] and total == 1, flt
        assert history.matches(flt, public), flt  # a live update is filtered the same way
    for flt in (
        history.CallFilter(disposition="sale"),
        history.CallFilter(tag="vi"),
        history.CallFilter(search="7782"),
    ):
        assert history.list_calls(db, sara, flt)[1] == 0, flt
        assert not history.matches(flt, public), flt

    # a deactivated disposition stays on old calls and can no longer be picked
    dispositions.set_active(db, "complaint", False)
    db.commit()
    assert history.get_call(db, sara, call.id).disposition == "complaint"
    with pytest.raises(InvalidInput):
        wrapup.save(db, sara, call.id, disposition="complaint", notes="", tags="")
    db.rollback()


def test_only_the_calls_agents_or_an_admin_wrap_it_up(db):
    sara = make_agent(db, email="sara@example.com", name="Sara")
    omar = make_agent(db, email="omar@example.com", name="Omar")
    boss = make_agent(db, email="boss@example.com", name="Boss", role=Role.ADMIN)
    agents.set_availability(db, sara.id, "available")
    db.commit()
    _online(sara)
    call = _inbound(db)
    db.refresh(call)
    call_control.claim(db, call, sara.id)
    _status(db, call.provider_call_sid, "completed", 3)
    with pytest.raises(Forbidden):
        wrapup.save(db, omar, call.id, disposition="sale", notes="mine now", tags="")
    db.rollback()
    wrapup.save(db, boss, call.id, disposition="sale", notes="checked by the supervisor", tags="")
    db.commit()
    assert db.get(Call, call.id).notes == "checked by the supervisor"


def test_away_with_a_reason_offline_and_a_closed_softphone_are_recorded(db):
    sara = make_agent(db, email="sara@example.com", name="Sara")
    agents.set_availability(db, sara.id, "available")
    db.commit()
    connection = _online(sara)
    agents.set_availability(db, sara.id, "away", "meeting")
    db.commit()
    assert presence.available_agents(db) == []
    with pytest.raises(InvalidInput):
        agents.set_availability(db, sara.id, "away", "nap")
    db.rollback()
    agents.set_availability(db, sara.id, "available")
    db.commit()
    _presence_disconnect(connection)
    spans = agent_states.timeline(db, sara.id)
    assert [(s.state, s.reason) for s in spans] == [
        ("available", None),
        ("away", "meeting"),
        ("available", None),
        ("offline", None),
    ]
    assert all(a.ended_at == b.started_at for a, b in zip(spans, spans[1:], strict=False))
    assert spans[-1].ended_at is None


def test_only_a_conversation_with_a_customer_needs_wrap_up(db):
    """Not a refused number, not a call nobody answered, not the echo line; an answered call does."""
    sara = make_agent(db, email="sara@example.com", name="Sara")
    settings = get_settings()
    from call_center.services.errors import DomainError

    with pytest.raises(DomainError):
        call_control.open_outbound(
            db, provider="local", agent=sara, raw="+18005550100", settings=settings, call_sid="LCrefused",
            from_number=settings.COMPANY_NUMBER,
        )  # fmt: skip
    db.expire_all()
    assert db.get(Agent, sara.id).wrapup_call_id is None
    assert [c.status for c in history.list_calls(db, sara)[0]] in ([], [CallStatus.FAILED])

    def dial(raw: str, sid: str, *statuses: str) -> Call:
        call, _ = call_control.open_outbound(
            db, provider="local", agent=sara, raw=raw, settings=settings, call_sid=sid,
            from_number=settings.COMPANY_NUMBER,
        )  # fmt: skip
        for n, status in enumerate(statuses):
            _status(db, sid, status, n)
        db.expire_all()
        return call

    dial("01000000005", "LCbusy", "ringing", "busy")
    assert db.get(Agent, sara.id).wrapup_call_id is None
    dial(settings.ECHO_NUMBER, "LCecho", "ringing", "in-progress", "completed")
    assert db.get(Agent, sara.id).wrapup_call_id is None
    talked = dial("01000000005", "LCtalk", "ringing", "in-progress", "completed")
    assert db.get(Agent, sara.id).wrapup_call_id == talked.id


def test_state_timelines_are_the_agents_own_or_an_admins(database, monkeypatch):
    from call_center.api.app import create_api

    with Session(get_engine(), expire_on_commit=False) as db:
        sara = make_agent(db, email="sara@example.com", name="Sara")
        omar = make_agent(db, email="omar@example.com", name="Omar")
        make_agent(db, email="boss@example.com", name="Boss", role=Role.ADMIN)
        agents.set_availability(db, sara.id, "away", "training")
        db.commit()
        _online(sara)
        agents.set_availability(db, sara.id, "available")
        db.commit()
        sara_id, omar_id = sara.id, omar.id
    client = TestClient(create_api(), base_url="http://127.0.0.1:3000")

    def login(email: str) -> httpx.Cookies:
        response = client.post(
            "/api/auth/login", json={"email": email, "password": "correct-horse-1"},
            headers={"Origin": "http://127.0.0.1:3000"},
        )  # fmt: skip
        response.raise_for_status()
        return response.cookies

    client.cookies = login("sara@example.com")
    own = client.get(f"/api/agents/{sara_id}/states")
    assert own.status_code == 200, own.text
    assert [s["state"] for s in own.json()["spans"]] == ["away", "available"]
    assert own.json()["seconds"]["available"] > 0
    assert client.get(f"/api/agents/{omar_id}/states").status_code == 404
    assert (
        client.get(f"/api/agents/{sara_id}/states", params={"since": "2026-01-01T00:00:00"}).status_code
        == 422
    )
    client.cookies = login("boss@example.com")
    assert client.get(f"/api/agents/{sara_id}/states").status_code == 200
