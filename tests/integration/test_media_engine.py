"""The media engine end to end on 127.0.0.1: synthetic aiortc "browsers" call through it.

Each client sends a looped, pre-encoded chirp in its own band (agent 800-1200 Hz, customer 1600-2400 Hz;
ringback is 425 Hz and the hold chime 523/659 Hz, so every sound can be told apart) and decodes what it
receives through aiortc's stock jitter buffer and decoder, as a browser would.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from call_center.telephony.local.media import MediaEngine, RecordingResult, Role, recover_orphans
from call_center.telephony.local.recorder import MP3_RATE
from call_center.telephony.local.rtp_hook import host_addresses
from call_center.telephony.local.tones import RATE, PacketTrack, encode_opus

ROOT = Path(__file__).resolve().parents[2]
AGENT_BAND, CUSTOMER_BAND, HOLD_BAND = (800, 1200), (1600, 2400), (480, 700)


def chirp(low: float, high: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return 0.3 * np.sin(2 * np.pi * (low * t + (high - low) * t**2 / (2 * seconds)))


AGENT_SIGNAL, CUSTOMER_SIGNAL = chirp(*AGENT_BAND), chirp(*CUSTOMER_BAND)


class Client:
    """A synthetic browser leg."""

    def __init__(self, source: np.ndarray) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.track = PacketTrack()
        self.track.play(encode_opus(source, loop=True, bitrate=64000))
        self.pc.addTransceiver(self.track, direction="sendrecv")
        self.received: list[tuple[float, np.ndarray]] = []
        self.pc.on("track", lambda track: asyncio.ensure_future(self._read(track)))

    async def _read(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            channels = len(frame.layout.channels)  # type: ignore[attr-defined]
            pcm = frame.to_ndarray().reshape(-1, channels).mean(axis=1) / 32768
            self.received.append((time.monotonic(), pcm))

    async def join(self, engine: MediaEngine, call_id: str, role: Role) -> None:
        with host_addresses(["127.0.0.1"]):
            await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await engine.add_leg(call_id, role, self.pc.localDescription.sdp)
        assert all(" 127.0.0.1 " in line for line in answer.splitlines() if line.startswith("a=candidate"))
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def heard(self, seconds: float) -> np.ndarray:
        """What this client receives during the next `seconds`."""
        start = time.monotonic()
        await asyncio.sleep(seconds)
        return np.concatenate([pcm for t, pcm in self.received if t >= start] or [np.zeros(1)])


def band_share(pcm: np.ndarray, band: tuple[float, float], rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(pcm)) ** 2
    freqs = np.fft.rfftfreq(len(pcm), 1 / rate)
    inside = (freqs >= band[0] - 50) & (freqs <= band[1] + 50)
    return float(spectrum[inside].sum() / max(spectrum.sum(), 1e-12))


def rms(pcm: np.ndarray) -> float:
    return float(np.sqrt(np.mean(pcm**2)))


def best_correlation(segment: np.ndarray, source: np.ndarray) -> float:
    """Normalised waveform correlation of `segment` with `source` at the best lag (one loop of it)."""
    reference = np.tile(source, 3)[: len(source) + len(segment)]
    size = len(reference) + len(segment)
    raw = np.fft.irfft(np.fft.rfft(reference, size) * np.conj(np.fft.rfft(segment, size)), size)
    raw = raw[: len(reference) - len(segment) + 1]
    energy = np.concatenate([[0.0], np.cumsum(reference**2)])
    norms = np.sqrt(energy[len(segment) :] - energy[: -len(segment)]) * np.linalg.norm(segment)
    return float((raw / np.maximum(norms, 1e-12)).max())


def decode_mp3(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return np.concatenate([f.to_ndarray() for f in container.decode(stream)], axis=1), stream.rate


def check_channel(pcm: np.ndarray, rate: int, start: float, right: np.ndarray, wrong: np.ndarray) -> None:
    segment = pcm[int(start * rate) : int((start + 0.5) * rate)]
    assert rate == MP3_RATE
    # The sources are 48 kHz and band-limited far below 8 kHz: every third sample is a clean 16 kHz copy.
    step = RATE // rate
    assert best_correlation(segment, right[::step]) > 0.8
    assert best_correlation(segment, wrong[::step]) < 0.3


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[MediaEngine]:
    ended: list[tuple[str, Role, str]] = []

    async def on_leg_ended(call_id: str, role: Role, reason: str) -> None:
        ended.append((call_id, role, reason))

    engine = MediaEngine(legs_dir=tmp_path / "legs", media_hosts=["127.0.0.1"], on_leg_ended=on_leg_ended)
    engine.ended = ended  # type: ignore[attr-defined]
    yield engine
    await engine.close()
    assert engine.stats()["totals"]["peer_connections"] == 0


@pytest.fixture
async def clients() -> AsyncIterator[tuple[Client, Client]]:
    agent, customer = Client(AGENT_SIGNAL), Client(CUSTOMER_SIGNAL)
    yield agent, customer
    await asyncio.gather(agent.pc.close(), customer.pc.close())


async def test_bridge_forwards_both_ways_and_records_each_side_on_its_channel(
    engine: MediaEngine, clients: tuple[Client, Client], tmp_path: Path
) -> None:
    agent, customer = clients
    started = time.monotonic()
    await agent.join(engine, "call-1", "agent")
    engine.play("call-1", "agent", "ringback")
    ringing = await agent.heard(1.0)
    assert band_share(ringing, (420, 430)) > 0.5  # 425 Hz ringback (its 1 s "on" part)
    await customer.join(engine, "call-1", "customer")
    engine.connect("call-1", "bridge")  # answered: the recording starts here, like record-from-answer
    connected = time.monotonic()
    await asyncio.sleep(0.5)
    agent_hears, customer_hears = await asyncio.gather(agent.heard(1.5), customer.heard(1.5))

    assert band_share(agent_hears, CUSTOMER_BAND) > 0.8 and band_share(agent_hears, AGENT_BAND) < 0.05
    assert band_share(customer_hears, AGENT_BAND) > 0.8 and band_share(customer_hears, CUSTOMER_BAND) < 0.05
    legs = engine.stats()["calls"]["call-1"]["legs"]
    assert all(leg["packets_in"] > 0 and leg["packets_out"] > 0 for leg in legs.values())

    result = await engine.end_call("call-1")
    call_length = time.monotonic() - connected  # the ringing before the answer is not recorded
    assert isinstance(result, RecordingResult)
    assert result.path == tmp_path / "call-1.mp3" and result.channels == 2
    assert result.size == result.path.stat().st_size
    pcm, rate = decode_mp3(result.path)
    assert pcm.shape[0] == 2
    assert pcm.shape[1] / rate == pytest.approx(call_length, abs=0.5)
    assert result.duration == pytest.approx(call_length, abs=0.5)
    left, right = pcm
    check_channel(left, rate, 0.5, right=AGENT_SIGNAL, wrong=CUSTOMER_SIGNAL)
    check_channel(right, rate, 0.5, right=CUSTOMER_SIGNAL, wrong=AGENT_SIGNAL)
    assert started < connected
    assert not (tmp_path / "legs" / "call-1").exists()


async def test_echo_returns_the_agents_own_audio_and_records_it_on_the_right(
    engine: MediaEngine, clients: tuple[Client, Client]
) -> None:
    agent, _ = clients
    await agent.join(engine, "echo-1", "agent")
    engine.connect("echo-1", "echo")
    await asyncio.sleep(0.5)
    hears = await agent.heard(1.5)
    assert band_share(hears, AGENT_BAND) > 0.8
    assert best_correlation(hears[: RATE // 2], AGENT_SIGNAL) > 0.8

    result = await engine.end_call("echo-1")
    assert isinstance(result, RecordingResult)
    pcm, rate = decode_mp3(result.path)
    check_channel(pcm[0], rate, 1.0, right=AGENT_SIGNAL, wrong=CUSTOMER_SIGNAL)
    check_channel(pcm[1], rate, 1.0, right=AGENT_SIGNAL, wrong=CUSTOMER_SIGNAL)  # what the echo line sent


async def test_hold_stops_forwarding_and_plays_the_hold_tone_to_the_customer(
    engine: MediaEngine, clients: tuple[Client, Client]
) -> None:
    agent, customer = clients
    started = time.monotonic()
    await asyncio.gather(agent.join(engine, "hold-1", "agent"), customer.join(engine, "hold-1", "customer"))
    engine.connect("hold-1", "bridge")
    await asyncio.sleep(1.0)
    held_at = time.monotonic() - started
    engine.set_hold("hold-1", True)
    await asyncio.sleep(0.15)
    agent_hears, customer_hears = await asyncio.gather(agent.heard(0.5), customer.heard(0.5))
    assert band_share(customer_hears, HOLD_BAND) > 0.8 and band_share(customer_hears, AGENT_BAND) < 0.05
    assert rms(agent_hears) < 0.003
    await asyncio.sleep(0.5)
    engine.set_hold("hold-1", False)
    await asyncio.sleep(0.5)
    assert band_share(await customer.heard(0.5), AGENT_BAND) > 0.8  # back in conversation

    result = await engine.end_call("hold-1")
    assert isinstance(result, RecordingResult)
    pcm, rate = decode_mp3(result.path)
    on_hold = slice(int((held_at + 0.2) * rate), int((held_at + 1.0) * rate))
    assert rms(pcm[1][on_hold]) < 0.001  # the held customer's channel is silent ...
    assert rms(pcm[0][on_hold]) > 0.1  # ... the agent's is still recorded


async def test_a_client_that_stops_sending_is_ended_by_the_watchdog_within_5_s(
    engine: MediaEngine, clients: tuple[Client, Client]
) -> None:
    agent, customer = clients
    await asyncio.gather(agent.join(engine, "gone-1", "agent"), customer.join(engine, "gone-1", "customer"))
    engine.connect("gone-1", "bridge")
    await asyncio.sleep(0.5)
    customer.track.forward()  # nothing to forward: the "browser" goes quiet, ICE and DTLS stay up
    stopped = time.monotonic()
    while not engine.ended and time.monotonic() - stopped < 5.0:  # type: ignore[attr-defined]
        await asyncio.sleep(0.05)
    assert engine.ended == [("gone-1", "customer", "media-timeout")]  # type: ignore[attr-defined]
    await engine.end_leg("gone-1", "agent")
    await asyncio.sleep(0.2)
    assert engine.ended == [("gone-1", "customer", "media-timeout")]  # type: ignore[attr-defined]
    assert await engine.end_call("gone-1") is not None


async def test_a_client_that_hangs_up_its_peer_connection_is_reported_as_closed(
    engine: MediaEngine, clients: tuple[Client, Client]
) -> None:
    agent, _ = clients
    await agent.join(engine, "bye-1", "agent")
    await asyncio.sleep(0.3)
    await agent.pc.close()  # DTLS close_notify: no need to wait for the watchdog
    closed = time.monotonic()
    while not engine.ended and time.monotonic() - closed < 5.0:  # type: ignore[attr-defined]
        await asyncio.sleep(0.05)
    assert engine.ended == [("bye-1", "agent", "connection-closed")]  # type: ignore[attr-defined]
    assert engine.stats()["calls"]["bye-1"]["legs"] == {}


async def _call_then_crash(legs_dir: str) -> None:
    """Run in a child process: a call that is recorded for a while, then the process is killed."""
    engine = MediaEngine(legs_dir=Path(legs_dir), media_hosts=["127.0.0.1"])
    agent, customer = Client(AGENT_SIGNAL), Client(CUSTOMER_SIGNAL)
    await agent.join(engine, "crash-1", "agent")
    await customer.join(engine, "crash-1", "customer")
    engine.connect("crash-1", "bridge")
    await asyncio.sleep(2.5)  # the watchdog flushes the leg files every 0.5 s
    os.kill(os.getpid(), signal.SIGKILL)


def test_recover_orphans_finishes_the_recording_of_a_killed_process(tmp_path: Path) -> None:
    code = f"import asyncio, {__name__} as t; asyncio.run(t._call_then_crash({str(tmp_path / 'legs')!r}))"
    child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60, capture_output=True, text=True)
    assert child.returncode == -signal.SIGKILL, child.stderr

    results = recover_orphans(tmp_path / "legs", lambda call_id: tmp_path / "recovered" / f"{call_id}.mp3")

    assert [call_id for call_id, _ in results] == ["crash-1"]
    result = results[0][1]
    assert isinstance(result, RecordingResult) and result.path.exists()
    assert 1.5 < result.duration < 3.5
    pcm, rate = decode_mp3(result.path)
    check_channel(pcm[0], rate, 1.0, right=AGENT_SIGNAL, wrong=CUSTOMER_SIGNAL)
    check_channel(pcm[1], rate, 1.0, right=CUSTOMER_SIGNAL, wrong=AGENT_SIGNAL)
    assert recover_orphans(tmp_path / "legs", lambda call_id: tmp_path / f"{call_id}.mp3") == []


TARGET_BAND = (3000, 3600)  # a third talker (a transfer target or a supervisor)
TARGET_SIGNAL = chirp(*TARGET_BAND)


async def test_three_talkers_each_hear_the_other_two_mixed_and_the_call_goes_back_to_forwarding(
    engine: MediaEngine, clients: tuple[Client, Client]
) -> None:
    agent, customer = clients
    target = Client(TARGET_SIGNAL)
    try:
        await asyncio.gather(agent.join(engine, "mix-1", "agent"), customer.join(engine, "mix-1", "customer"))
        engine.connect("mix-1", "bridge")
        await target.join(engine, "mix-1", "agent2")
        engine.set_routes(
            "mix-1",
            {
                "agent": ("customer", "agent2"),
                "customer": ("agent", "agent2"),
                "agent2": ("agent", "customer"),
            },
        )
        assert engine.stats()["calls"]["mix-1"]["mixing"]
        await asyncio.sleep(0.6)
        heard = dict(zip(("agent", "customer", "agent2"), await asyncio.gather(
            agent.heard(1.5), customer.heard(1.5), target.heard(1.5)), strict=True))  # fmt: skip
        bands = {"agent": AGENT_BAND, "customer": CUSTOMER_BAND, "agent2": TARGET_BAND}
        for listener, pcm in heard.items():
            others = [band for name, band in bands.items() if name != listener]
            assert all(band_share(pcm, band) > 0.2 for band in others), listener  # both others ...
            assert band_share(pcm, bands[listener]) < 0.05, listener  # ... never itself

        # the first agent leaves: two talkers again, forwarded untouched
        await engine.end_leg("mix-1", "agent")
        engine.set_routes("mix-1", {"customer": ("agent2",), "agent2": ("customer",)})
        assert not engine.stats()["calls"]["mix-1"]["mixing"]
        await asyncio.sleep(0.5)
        customer_hears = await customer.heard(1.0)
        assert band_share(customer_hears, TARGET_BAND) > 0.8
        assert best_correlation(customer_hears[: RATE // 2], TARGET_SIGNAL) > 0.8  # not re-encoded

        result = await engine.end_call("mix-1")
        assert isinstance(result, RecordingResult)
        pcm, rate = decode_mp3(result.path)
        end = pcm.shape[1] / rate
        # the company's side (left) holds the first agent, then the target; the customer stays right
        assert rate == MP3_RATE
        early, late = slice(0, int(0.25 * rate)), slice(int((end - 1.0) * rate), None)
        assert band_share(pcm[0][early], AGENT_BAND, rate) > 0.5  # before the target joined
        assert band_share(pcm[0][late], AGENT_BAND, rate) < 0.05  # the first agent left ...
        assert band_share(pcm[0][late], TARGET_BAND, rate) > 0.5  # ... the target is on the left now
        assert band_share(pcm[1][late], CUSTOMER_BAND, rate) > 0.5
    finally:
        await target.pc.close()
