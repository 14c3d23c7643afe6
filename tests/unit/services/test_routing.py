"""The queue's routing strategies: pure functions, checked on examples and on any situation hypothesis
makes up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from call_center.services import routing
from call_center.services.routing import Candidate, Waiting, assign

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_longest_idle_gives_the_oldest_call_to_the_agent_available_longest():
    agents = [Candidate(1, True, _at(50)), Candidate(2, True, _at(10)), Candidate(3, False, _at(0))]
    calls = [Waiting(20, _at(100)), Waiting(10, _at(90))]
    assert assign(routing.LONGEST_IDLE, calls, agents) == [(10, [2]), (20, [1])]


def test_ring_all_rings_every_available_agent_for_the_oldest_call_only():
    agents = [Candidate(1, True, _at(5)), Candidate(2, True, _at(1)), Candidate(3, False)]
    calls = [Waiting(7, _at(30)), Waiting(8, _at(31))]
    assert assign(routing.RING_ALL, calls, agents) == [(7, [2, 1])]


def test_round_robin_goes_on_after_the_last_agent_offered_a_call():
    agents = [Candidate(a, True, _at(a)) for a in (3, 1, 7, 5)]
    assert assign(routing.ROUND_ROBIN, [Waiting(1, _at(0))], agents, last_offered=5) == [(1, [7])]
    assert assign(routing.ROUND_ROBIN, [Waiting(1, _at(0))], agents, last_offered=7) == [(1, [1])]
    assert assign(routing.ROUND_ROBIN, [Waiting(1, _at(0))], agents) == [(1, [1])]


def test_fewest_calls_then_longest_idle():
    agents = [Candidate(1, True, _at(0), 4), Candidate(2, True, _at(30), 1), Candidate(3, True, _at(20), 1)]
    assert assign(routing.FEWEST_CALLS, [Waiting(9, _at(0))], agents) == [(9, [3])]


def test_an_agent_who_let_the_call_ring_out_is_skipped_while_another_can_take_it():
    agents = [Candidate(1, True, _at(0)), Candidate(2, True, _at(10))]
    missed = Waiting(5, _at(0), frozenset({1}))
    assert assign(routing.LONGEST_IDLE, [missed], agents) == [(5, [2])]
    # everyone missed it: it goes round again rather than waiting for nobody
    assert assign(routing.LONGEST_IDLE, [Waiting(5, _at(0), frozenset({1, 2}))], agents) == [(5, [1])]


def test_an_agent_resting_from_a_call_is_not_rung_for_it_but_can_take_the_next():
    agents = [Candidate(1, True, _at(0))]
    first = Waiting(5, _at(0), frozenset({1}), frozenset({1}))
    assert assign(routing.LONGEST_IDLE, [first], agents) == []
    assert assign(routing.LONGEST_IDLE, [first, Waiting(6, _at(3))], agents) == [(6, [1])]


def test_nothing_to_offer():
    assert assign(routing.LONGEST_IDLE, [], [Candidate(1, True)]) == []
    assert assign(routing.LONGEST_IDLE, [Waiting(1, _at(0))], [Candidate(1, False)]) == []


# Properties ----------------------------------------------------------------------------------------------
candidates = st.lists(
    st.builds(
        Candidate,
        agent_id=st.integers(1, 40),
        available=st.booleans(),
        idle_since=st.one_of(st.none(), st.integers(0, 3600).map(_at)),
        calls_today=st.integers(0, 30),
    ),
    max_size=25,
    unique_by=lambda c: c.agent_id,
)
waiting = st.lists(
    st.builds(
        Waiting,
        call_id=st.integers(1, 500),
        entered_at=st.integers(0, 3600).map(_at),
        missed_by=st.frozensets(st.integers(1, 40), max_size=5),
        resting=st.frozensets(st.integers(1, 40), max_size=3),
    ),
    max_size=15,
    unique_by=lambda w: w.call_id,
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(routing.STRATEGIES), waiting, candidates, st.one_of(st.none(), st.integers(1, 40)))
def test_offers_are_safe_whatever_the_situation(strategy, calls, agents, last):
    result = assign(strategy, calls, agents, last)
    offered = [a for _, ring in result for a in ring]
    available = {c.agent_id for c in agents if c.available}
    assert len(offered) == len(set(offered)), "an agent rings for two calls at once"
    assert set(offered) <= available, "a call is offered to an agent who is not available"
    assert len({call for call, _ in result}) == len(result)
    by_id = {w.call_id: w for w in calls}
    for call, ring in result:
        assert not set(ring) & by_id[call].resting, "rung again for a call they just let go"
    if strategy != routing.RING_ALL:
        assert all(len(ring) == 1 for _, ring in result), "one call, one ringing agent"
    # oldest first: a call is passed over only when no agent who may take it is left for it
    oldest_first = sorted(calls, key=lambda w: (w.entered_at, w.call_id))
    offered_calls = [call for call, _ in result]
    assert offered_calls == [w.call_id for w in oldest_first if w.call_id in offered_calls]
    used: set[int] = set()
    for waiting_call in oldest_first:
        ring = dict(result).get(waiting_call.call_id)
        if ring is None:
            assert not (available - used - waiting_call.resting), "a call waits while an agent could take it"
        else:
            used.update(ring)
    if strategy == routing.LONGEST_IDLE and result:
        first_call, (first_agent,) = result[0]
        call = by_id[first_call]
        free = [c for c in agents if c.available and c.agent_id not in call.resting]
        pool = [c for c in free if c.agent_id not in call.missed_by] or free
        longest = min(pool, key=lambda c: (c.idle_since or datetime.min.replace(tzinfo=UTC), c.agent_id))
        assert first_agent == longest.agent_id
