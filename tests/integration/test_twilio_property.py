"""Twilio promises no order and may retry. Any permutation and duplication of a realistic conference call's
callbacks (room events, participants' call statuses, the App's and the number's status callbacks), posted as
signed webhooks, must end in the same call and the same parties as the sequence in order.

The sequences are what the simulator (tests/support/twilio_sim.py) sends while the app drives the room
through the REST API; the replay answers the app's REST requests as the first run did."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import select

from call_center.models import Availability, Call, CallbackItem, CallOffer, CallParty
from tests.conftest import make_agent

CUSTOMER = "+201001112223"
TABLES = (
    "callback_item",
    "queue_entry",
    "queue_state",
    "recording_job",
    "recording",
    "call_offer",
    "call_transfer",
    "call_party",
    "call_event",
    "call",
)


def _rung(db, call_id: int, agent_id: int) -> str:
    db.commit()
    return db.exec(
        select(CallOffer.leg).where(CallOffer.call_id == call_id, CallOffer.agent_id == agent_id)
    ).one()


def _latest(db) -> Call:
    db.commit()
    return db.exec(select(Call).order_by(Call.id.desc())).first()


def play(world, db, scenario: str, agents: list[int], sim) -> None:  # type: ignore[no-untyped-def]
    """One call, in order, as people would make it."""
    if scenario.startswith("outbound"):
        browser = sim.browser_dials(agents[0], "01001234567")
        sim.run()
        customer = sim.leg_labelled("customer")
        if scenario == "outbound-no-answer":
            sim.no_answer(customer)
        elif scenario == "outbound-busy":
            sim.decline(customer)
        elif scenario == "outbound-gave-up":
            sim.hang_up(browser)
        else:
            sim.answer(customer)
            sim.run()
            sim.hang_up(browser if scenario == "outbound-agent-hangs-up" else customer)
    else:
        caller = sim.customer_calls(CUSTOMER)
        sim.run()
        call = _latest(db)
        first, second = (_rung(db, call.id, agent) for agent in agents)
        sim.decline(second)
        if scenario == "inbound-abandoned":
            sim.run()
            sim.no_answer(first)
            sim.run()
            sim.barrier()  # nobody took it: the caller gives up while waiting in the queue
            sim.hang_up(caller)
        else:
            sim.answer(first)
            sim.run()
            sim.barrier()  # the caller hangs up after talking to the agent (the app heard their join)
            sim.hang_up(caller)
    sim.run()


def state(db) -> tuple:
    call = _latest(db)
    parties = db.exec(select(CallParty).where(CallParty.call_id == call.id)).all()
    return (
        call.direction, call.status, call.agent_id, call.ringing_at, call.answered_at, call.ended_at,
        call.duration_seconds, call.hangup_reason, call.hangup_by, call.queue_outcome,
        sorted((p.leg, p.kind, p.agent_id, p.joined_at, p.left_at) for p in parties),
        [(i.number, i.reason, i.attempts, i.status) for i in db.exec(select(CallbackItem)).all()],
    )  # fmt: skip


def reset(db) -> None:
    """An empty call history, ids from 1 again (the recorded callbacks name call 1)."""
    db.commit()
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    else:
        for table in TABLES:
            db.execute(text(f"DELETE FROM {table}"))
    db.commit()


@pytest.fixture
def agents(db, twilio_world, monkeypatch):
    # Hundreds of calls a minute from one agent: this test is about ordering, not the toll-fraud limit.
    monkeypatch.setattr("call_center.services.numbers.check_rate", lambda *_args, **_kw: None)
    made = [make_agent(db, email=f"p{n}@example.com", name=f"Agent {n}") for n in range(2)]
    for agent in made:
        agent.availability = Availability.AVAILABLE
        db.add(agent)
    db.commit()
    with contextlib.ExitStack() as phones:
        for agent in made:
            phones.enter_context(twilio_world.online(agent.email))
        yield [agent.id for agent in made]


def reference(world, db, scenario: str, agents: list[int]) -> tuple[tuple, list]:  # type: ignore[no-untyped-def]
    reset(db)
    play(world, db, scenario, agents, world.new_sim())
    return state(db), list(world.sim.delivered)


def causal(order: list[int], sent: list) -> list[int]:
    """`order`, with each request moved after what caused it: a callback of a REST request the app made
    while handling request k follows everything up to k (the app decided on all it knew then; the same
    decision may be taken at another request of that prefix when they come in another order)."""
    done: set[int] = {0}
    pending, result = list(order), []
    while pending:
        ready = next(i for i in pending if sent[i][2] is None or done.issuperset(range(sent[i][2] + 1)))
        pending.remove(ready)
        done.add(ready)
        result.append(ready)
    return result


def replay(world, db, sent: list, order: list[int], dupes: list[int]) -> tuple:  # type: ignore[no-untyped-def]
    """Every request again (the first, the TwiML that creates the call, first): causes before effects, in
    any order otherwise, some twice."""
    reset(db)
    world.sim.replaying = True
    for index in [0, *causal([i + 1 for i in order], sent), *(d + 1 for d in dupes)]:
        url, params, _ = sent[index]
        world.sim.deliver(url, params)
    world.sim.replaying = False
    return state(db)


SCENARIOS = [
    "outbound-agent-hangs-up", "outbound-customer-hangs-up", "outbound-no-answer", "outbound-busy",
    "outbound-gave-up", "inbound-answered", "inbound-abandoned",
]  # fmt: skip


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), scenario=st.sampled_from(SCENARIOS))
def test_any_order_and_duplication_ends_in_the_same_call_and_parties(
    twilio_world, db, agents, data, scenario
):
    expected, sent = reference(twilio_world, db, scenario, agents)
    size = len(sent) - 1
    order = data.draw(st.permutations(list(range(size))))
    dupes = data.draw(st.lists(st.integers(0, size - 1), max_size=6))
    assert replay(twilio_world, db, sent, list(order), dupes) == expected


def test_the_reference_states_are_what_a_person_expects(twilio_world, db, agents):
    expected = {
        "outbound-agent-hangs-up": ("completed", "agent"),
        "outbound-customer-hangs-up": ("completed", "customer"),
        "outbound-no-answer": ("no-answer", None), "outbound-busy": ("busy", None),
        "outbound-gave-up": ("canceled", "agent"), "inbound-answered": ("completed", "customer"),
        "inbound-abandoned": ("canceled", "customer"),  # hung up while queued
    }  # fmt: skip
    for scenario, (status, by) in expected.items():
        final, sent = reference(twilio_world, db, scenario, agents)
        assert (final[1], final[8]) == (status, by), (scenario, final)
        assert final[2] == (agents[0] if scenario != "inbound-abandoned" else None), scenario
        assert len(sent) > 3, scenario
        if scenario in ("outbound-agent-hangs-up", "outbound-customer-hangs-up", "inbound-answered"):
            assert final[6] and final[6] > 0 and len(final[10]) == 2, (scenario, final)  # agent and customer
        queued = {"inbound-answered": "answered", "inbound-abandoned": "abandoned"}
        assert final[9] == queued.get(scenario), (scenario, final)  # the queue saw it, whatever the order
        listed = [(CUSTOMER, "abandoned", 1, "open")] if scenario == "inbound-abandoned" else []
        assert final[11] == listed, (scenario, final)  # on the callback list once
