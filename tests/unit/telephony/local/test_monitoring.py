"""A supervisor's leg on the local media server: who hears whom when they listen, whisper or barge, what the
recording keeps, and that a supervisor never keeps a call going on their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from call_center.telephony.local.carrier import Carrier

SUP = "sup_7_ab12"


class FakeEngine:
    recording_path: Any = None

    def __init__(self) -> None:
        self.routes: dict[str, Any] = {}
        self.unrecorded: frozenset[str] = frozenset()
        self.ended_legs: list[str] = []
        self.on_played: Any = None

    async def add_leg(self, call_id: str, role: str, sdp: str) -> str:
        return "answer-sdp"

    def play(self, call_id: str, role: str, sound: str | None) -> None:
        pass

    def connect(self, call_id: str, mode: str) -> None:
        pass

    def set_routes(self, call_id: str, routes: dict[str, Any], *, unrecorded: frozenset[str]) -> None:
        self.routes, self.unrecorded = dict(routes), unrecorded

    async def end_leg(self, call_id: str, role: str) -> None:
        self.ended_legs.append(role)

    async def end_call(self, call_id: str) -> None:
        return None


class FakeNotifier:
    def __init__(self) -> None:
        self.statuses: list[str] = []
        self.parties: list[tuple[str, str, dict[str, Any]]] = []

    def status(self, sid: str, status: str, **fields: Any) -> None:
        self.statuses.append(status)

    def party(self, sid: str, leg: str, status: str, **fields: Any) -> None:
        self.parties.append((leg, status, fields))

    def recording(self, sid: str, **fields: Any) -> None:
        pass


async def _answered(tmp_path: Path) -> tuple[Carrier, FakeEngine, FakeNotifier]:
    engine, notifier = FakeEngine(), FakeNotifier()
    carrier = Carrier(engine, notifier, tmp_path)  # type: ignore[arg-type]
    await carrier.handle("dial", {"sid": "S1", "mode": "bridge", "sdp": "offer"})
    await carrier.handle("answer", {"sid": "S1", "role": "customer", "sdp": "offer"})
    return carrier, engine, notifier


def _hears(engine: FakeEngine, leg: str) -> set[str]:
    route = engine.routes[leg]
    return set(route) if isinstance(route, tuple) else set()


def _cancel(carrier: Carrier) -> None:
    for call in carrier.calls.values():
        for timer in call.timers:
            timer.cancel()


async def test_listening_hears_both_sides_and_nobody_hears_the_supervisor(tmp_path: Path) -> None:
    carrier, engine, notifier = await _answered(tmp_path)
    await carrier.handle(
        "join", {"sid": "S1", "leg": SUP, "sdp": "offer", "muted": True, "coaching": None, "invited": False}
    )
    assert _hears(engine, SUP) == {"agent", "customer"}
    assert _hears(engine, "agent") == {"customer"}
    assert _hears(engine, "customer") == {"agent"}
    assert engine.unrecorded == {SUP}  # the customer never heard them: not in the recording
    assert (SUP, "joined", {"muted": True, "coaching": None}) in notifier.parties
    _cancel(carrier)


async def test_a_whisper_is_heard_by_the_agent_alone_and_barging_in_by_everyone(tmp_path: Path) -> None:
    carrier, engine, _ = await _answered(tmp_path)
    await carrier.handle(
        "join",
        {"sid": "S1", "leg": SUP, "sdp": "offer", "muted": False, "coaching": "agent", "invited": False},
    )
    assert _hears(engine, "agent") == {"customer", SUP}
    assert _hears(engine, "customer") == {"agent"}
    assert _hears(engine, SUP) == {"agent", "customer"}
    assert engine.unrecorded == {SUP}
    await carrier.handle("update", {"sid": "S1", "leg": SUP, "muted": False, "coaching": None})  # barge
    assert _hears(engine, "agent") == {"customer", SUP}
    assert _hears(engine, "customer") == {"agent", SUP}
    assert engine.unrecorded == frozenset()  # what the customer heard is recorded
    await carrier.handle("update", {"sid": "S1", "leg": SUP, "muted": True, "coaching": None})  # listen
    assert _hears(engine, "customer") == {"agent"} and _hears(engine, "agent") == {"customer"}
    _cancel(carrier)


async def test_the_supervisor_leaving_leaves_the_call_going(tmp_path: Path) -> None:
    carrier, engine, notifier = await _answered(tmp_path)
    await carrier.handle("join", {"sid": "S1", "leg": SUP, "sdp": "o", "muted": True, "invited": False})
    await carrier.handle("leave", {"sid": "S1", "leg": SUP})
    assert "S1" in carrier.calls and notifier.statuses[-1] == "in-progress"
    assert engine.ended_legs == [SUP] and (SUP, "left", {}) in notifier.parties
    assert _hears(engine, "customer") == {"agent"}
    _cancel(carrier)


@pytest.mark.parametrize("how", ["leave", "lost"])
async def test_a_supervisor_never_keeps_the_customer_company_once_the_agent_is_gone(
    tmp_path: Path, how: str
) -> None:
    carrier, _, notifier = await _answered(tmp_path)
    await carrier.handle("join", {"sid": "S1", "leg": SUP, "sdp": "o", "coaching": None, "invited": False})
    if how == "leave":
        await carrier.handle("leave", {"sid": "S1", "leg": "agent"})
    else:  # the agent's browser vanished (the RTP watchdog)
        await carrier.on_leg_ended("S1", "agent", "watchdog")
    assert "S1" not in carrier.calls
    assert notifier.statuses[-1] == "completed"


async def test_a_supervisors_browser_vanishing_takes_only_their_leg(tmp_path: Path) -> None:
    carrier, engine, notifier = await _answered(tmp_path)
    await carrier.handle("join", {"sid": "S1", "leg": SUP, "sdp": "o", "muted": True, "invited": False})
    await carrier.on_leg_ended("S1", SUP, "watchdog")
    assert "S1" in carrier.calls and (SUP, "lost", {}) in notifier.parties
    assert SUP not in carrier.calls["S1"].parties
    _cancel(carrier)


async def test_a_supervisor_still_connecting_keeps_nobody_company(tmp_path: Path) -> None:
    import asyncio

    from call_center.telephony.local.carrier import CarrierRefused

    carrier, engine, notifier = await _answered(tmp_path)
    gate = asyncio.Event()
    add_leg = engine.add_leg

    async def slow(call_id: str, role: str, sdp: str) -> str:
        if role == SUP:
            await gate.wait()  # ICE and DTLS take their time on a loaded machine
        return await add_leg(call_id, role, sdp)

    engine.add_leg = slow  # type: ignore[method-assign]
    joining = asyncio.create_task(
        carrier.handle("join", {"sid": "S1", "leg": SUP, "sdp": "o", "muted": True, "invited": False})
    )
    await asyncio.sleep(0)
    await carrier.on_leg_ended("S1", "agent", "watchdog")  # the agent's browser vanishes meanwhile
    assert "S1" not in carrier.calls and notifier.statuses[-1] == "completed"
    gate.set()
    with pytest.raises(CarrierRefused):
        await joining
