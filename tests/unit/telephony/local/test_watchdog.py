"""The media watchdog: legs whose RTP stops are reported, legs we closed ourselves are not.

Peer connections are stubbed: the watchdog only sees packets arriving through the RTP hook's callback.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aiortc.rtp import RtpPacket

from call_center.telephony.local.media import MediaEngine, Role, _Leg
from call_center.telephony.local.tones import PacketTrack

INACTIVITY, FIRST_PACKET = 0.4, 0.8


class StubPeerConnection:
    connectionState = "connected"

    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


@pytest.fixture
async def engine(tmp_path: Path):
    ended: list[tuple[str, Role, str]] = []

    async def on_leg_ended(call_id: str, role: Role, reason: str) -> None:
        ended.append((call_id, role, reason))

    engine = MediaEngine(
        legs_dir=tmp_path / "legs",
        media_hosts=["127.0.0.1"],
        on_leg_ended=on_leg_ended,
        inactivity_timeout=INACTIVITY,
        first_packet_timeout=FIRST_PACKET,
    )
    engine.ended = ended  # type: ignore[attr-defined]
    yield engine
    await engine.close()


async def stub_leg(engine: MediaEngine, call_id: str, role: Role) -> _Leg:
    await engine._prepare()
    call = engine._calls.get(call_id) or engine._new_call(call_id)
    await call.ready
    leg = call.legs[role] = _Leg(call, role, StubPeerConnection(), PacketTrack(), created=time.monotonic())  # type: ignore[arg-type]
    engine._route(call)
    return leg


async def send(engine: MediaEngine, leg: _Leg, seconds: float) -> None:
    for index in range(int(seconds / 0.02)):
        packet = RtpPacket(payload_type=111, sequence_number=index, timestamp=index * 960, ssrc=1)
        packet.payload = b"\xf8\xff\xfe"
        engine._on_rtp(leg, packet)
        await asyncio.sleep(0.02)


async def wait_for(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def test_a_leg_that_stops_sending_is_reported_and_closed(engine: MediaEngine) -> None:
    talker, quitter = await stub_leg(engine, "c1", "agent"), await stub_leg(engine, "c1", "customer")
    keep_talking = asyncio.create_task(send(engine, talker, 3 * INACTIVITY + 1))
    await send(engine, quitter, 0.3)

    assert await wait_for(lambda: engine.ended, timeout=INACTIVITY + 1.0)
    assert engine.ended == [("c1", "customer", "media-timeout")]
    assert time.monotonic() - quitter.last_rx >= INACTIVITY  # not before its time
    assert quitter.pc.closed and "customer" not in engine.stats()["calls"]["c1"]["legs"]
    await keep_talking
    assert engine.ended == [("c1", "customer", "media-timeout")]  # the one still talking never was


async def test_a_leg_that_never_sends_is_reported_after_the_first_packet_timeout(engine: MediaEngine) -> None:
    await stub_leg(engine, "c2", "agent")
    assert await wait_for(lambda: engine.ended, timeout=FIRST_PACKET + 1.0)
    assert engine.ended == [("c2", "agent", "media-timeout")]


async def test_legs_closed_on_purpose_are_never_reported(engine: MediaEngine) -> None:
    silent = await stub_leg(engine, "c3", "agent")
    other = await stub_leg(engine, "c4", "customer")
    await engine.end_leg("c3", "agent")
    assert await engine.end_call("c4") is None  # nothing was recorded
    await asyncio.sleep(FIRST_PACKET + 0.5)
    assert engine.ended == []
    assert silent.pc.closed and other.pc.closed
