"""Which agent gets which waiting call: the queue's routing strategies, as pure functions.

`assign` looks only at what it is given (the waiting calls, oldest first, and the agents with their state,
how long they have been available and how many calls they took today), so the property tests can throw any
situation at it. It never offers a call to an agent who is not available, never rings one agent for two
calls, and serves the longest-waiting call first. Strategies:

- `longest-idle` (default): the agent available the longest gets the call, alone;
- `ring-all`: every available agent rings, the first to answer gets it;
- `round-robin`: agents take turns in a fixed order (by id), starting after the last one offered a call;
- `fewest-calls`: the agent who took the fewest calls today, the longest idle among equals.

An agent who missed a call (did not answer within QUEUE_RING_SECONDS) or declined it is not offered that
call again while other agents could take it, and not at all while they are "resting" from it (their ring
ended less than QUEUE_RING_SECONDS ago): a lone agent who declines is not rung again at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

LONGEST_IDLE = "longest-idle"
RING_ALL = "ring-all"
ROUND_ROBIN = "round-robin"
FEWEST_CALLS = "fewest-calls"
STRATEGIES = (LONGEST_IDLE, RING_ALL, ROUND_ROBIN, FEWEST_CALLS)


@dataclass(frozen=True)
class Candidate:
    agent_id: int
    available: bool  # state "available" now (not ringing, on a call, in wrap-up, away or offline)
    idle_since: datetime | None = None  # available since (None: unknown, counts as longest)
    calls_today: int = 0


@dataclass(frozen=True)
class Waiting:
    call_id: int
    entered_at: datetime
    missed_by: frozenset[int] = field(default_factory=frozenset)  # agents who let it ring out or declined
    resting: frozenset[int] = field(default_factory=frozenset)  # of those, just now: not offered it again yet


def _idle_key(c: Candidate) -> tuple[float, int]:
    """Longest idle first: the earliest `idle_since` (unknown first), then the lowest id."""
    return (c.idle_since.timestamp() if c.idle_since is not None else float("-inf"), c.agent_id)


def order(strategy: str, candidates: Sequence[Candidate], last_offered: int | None = None) -> list[Candidate]:
    """The available agents in the order this strategy offers calls to them."""
    free = [c for c in candidates if c.available]
    if strategy == ROUND_ROBIN:
        by_id = sorted(free, key=lambda c: c.agent_id)
        if last_offered is None:
            return by_id
        after = [c for c in by_id if c.agent_id > last_offered]
        return after + [c for c in by_id if c.agent_id <= last_offered]
    if strategy == FEWEST_CALLS:
        return sorted(free, key=lambda c: (c.calls_today, _idle_key(c)))
    return sorted(free, key=_idle_key)  # longest-idle, ring-all


def assign(
    strategy: str,
    waiting: Sequence[Waiting],
    candidates: Sequence[Candidate],
    last_offered: int | None = None,
) -> list[tuple[int, list[int]]]:
    """(call id, agents to ring) for the calls that can be offered now, oldest call first.

    Each agent appears at most once. With ring-all the oldest call rings every available agent (the next
    ones wait for an agent); otherwise each call rings one agent."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}")
    queue = sorted(waiting, key=lambda w: (w.entered_at.timestamp(), w.call_id))
    free = order(strategy, candidates, last_offered)
    taken: set[int] = set()
    result: list[tuple[int, list[int]]] = []
    for call in queue:
        left = [c.agent_id for c in free if c.agent_id not in taken and c.agent_id not in call.resting]
        if not left:
            continue  # a younger call may still find an agent (one who did not just let this one go)
        fresh = [a for a in left if a not in call.missed_by]
        pool = fresh or left  # everyone missed it: start the round again
        chosen = pool if strategy == RING_ALL else pool[:1]
        taken.update(chosen)
        result.append((call.call_id, chosen))
    return result
