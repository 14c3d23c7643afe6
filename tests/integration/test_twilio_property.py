"""Twilio promises no order and may retry: any permutation and duplication of a realistic callback
sequence, posted as signed webhooks, must end in the same call state as the sequence in order."""

from __future__ import annotations

import itertools
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from call_center.models import Availability, Call
from call_center.services import presence
from tests.conftest import make_agent
from tests.support.fake_twilio import ACCOUNT_SID, CALLER_ID, signed_post, twilio_settings  # noqa: F401

AT = "Mon, 23 Nov 2026 14:{:02d}:{:02d} +0000"
CUSTOMER = "+201001234567"


def _at(second: int) -> str:
    return AT.format(5 + second // 60, second % 60)


def _leg(sid: str, parent: str | None, status: str, second: int, seq: int, frm: str, to: str, **extra: str):
    params = {
        "AccountSid": ACCOUNT_SID, "CallSid": sid, "CallStatus": status, "From": frm, "To": to,
        "SequenceNumber": str(seq), "Timestamp": _at(second), **extra,
    }  # fmt: skip
    if parent:
        params["ParentCallSid"] = parent
    return params


def outbound(outcome: str, agent_id: int, sid: str) -> list[dict[str, str]]:
    child, me = "CB" + sid[2:], f"client:agent_{agent_id}"
    leg = [("initiated", 0), ("ringing", 1)]
    end = {
        "answered": [("in-progress", 5), ("completed", 65)],
        "no-answer": [("no-answer", 31)],
        "busy": [("busy", 2)],
        "canceled": [("canceled", 8)],  # the agent hung up while it rang
    }[outcome]
    steps = [
        _leg(
            child,
            sid,
            status,
            t,
            i,
            CALLER_ID,
            CUSTOMER,
            **({"CallDuration": "60"} if status == "completed" else {}),
        )
        for i, (status, t) in enumerate(leg + end)
    ]
    last = end[-1][1]
    steps.append(_leg(sid, None, "completed", last + 1, 0, me, CUSTOMER, CallDuration=str(last + 1)))
    return steps


def inbound(agents: list[int], sid: str) -> list[dict[str, str]]:
    """Two agents ring; the first answers, the other's leg is canceled; the caller hangs up at 70 s."""
    steps = []
    for n, agent_id in enumerate(agents):
        child = f"CB{n}" + sid[3:]
        end = [("in-progress", 6), ("completed", 70)] if n == 0 else [("canceled", 6)]
        for i, (status, t) in enumerate([("initiated", 0), ("ringing", 1), *end]):
            steps.append(_leg(child, sid, status, t, i, CUSTOMER, f"client:agent_{agent_id}"))
    steps.append(_leg(sid, None, "completed", 71, 0, CUSTOMER, CALLER_ID, CallDuration="71"))
    return steps


def state(db, sid: str) -> tuple:
    db.commit()
    call = db.exec(select(Call).where(Call.provider_call_sid == sid)).one()
    db.refresh(call)
    return (
        call.status, call.agent_id, call.ringing_at, call.answered_at, call.ended_at, call.duration_seconds,
        call.hangup_reason,
    )  # fmt: skip


@pytest.fixture
def agents(db, twilio_settings, monkeypatch):  # noqa: F811
    # Hundreds of calls a minute from one agent: this test is about ordering, not the toll-fraud limit.
    monkeypatch.setattr("call_center.services.numbers.check_rate", lambda *_args, **_kw: None)
    made = [make_agent(db, email=f"p{n}@example.com") for n in range(2)]
    for agent in made:
        agent.availability = Availability.AVAILABLE
        db.add(agent)
        presence.connect(db, agent.identity, agent.id)
    db.commit()
    return [agent.id for agent in made]


def run(client, db, scenario: str, agents: list[int], order: list[int] | None, dupes: list[int]) -> tuple:
    sid = f"CA{uuid.uuid4().hex}"
    if scenario == "inbound":
        params = {"AccountSid": ACCOUNT_SID, "CallSid": sid, "From": CUSTOMER, "To": CALLER_ID}
        assert "<Client " in signed_post(client, "/api/calls/twiml/inbound", params).text
        steps = inbound(agents, sid)
    else:
        params = {
            "AccountSid": ACCOUNT_SID,
            "CallSid": sid,
            "From": f"client:agent_{agents[0]}",
            "To": "01001234567",
        }
        assert "<Dial" in signed_post(client, "/api/calls/twiml/outbound", params).text
        steps = outbound(scenario, agents[0], sid)
    indexes = list(range(len(steps))) if order is None else order
    for index in itertools.chain(indexes, dupes):
        assert signed_post(client, "/api/calls/webhook/status", steps[index % len(steps)]).status_code == 204
    return state(db, sid)


SCENARIOS = ["answered", "no-answer", "busy", "canceled", "inbound"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), scenario=st.sampled_from(SCENARIOS))
def test_any_order_and_duplication_ends_in_the_same_state(client, db, agents, data, scenario):
    reference = run(client, db, scenario, agents, None, [])
    size = len(inbound(agents, "CA000")) if scenario == "inbound" else len(outbound(scenario, 0, "CA0"))
    order = data.draw(st.permutations(list(range(size))))
    dupes = data.draw(st.lists(st.integers(0, size - 1), max_size=5))
    assert run(client, db, scenario, agents, list(order), dupes) == reference


def test_the_reference_states_are_what_a_person_expects(client, db, agents):
    expected = {"answered": "completed", "no-answer": "no-answer", "busy": "busy", "canceled": "canceled"}
    for scenario, status in expected.items():
        final = run(client, db, scenario, agents, None, [])
        assert final[0] == status and final[1] == agents[0], scenario
    final = run(client, db, "inbound", agents, None, [])
    # Talk time: from the agent answering (6 s) to the caller hanging up (71 s).
    assert final[:2] == ("completed", agents[0]) and final[5] == 65
