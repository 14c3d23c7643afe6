"""The local provider's recording notice: tones before the queue, in full with the first announcement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from call_center.telephony.local.carrier import Carrier
from call_center.telephony.local.tones import RATE, notice_signal, position_signal, signal_of


class FakeEngine:
    recording_path: Any = None

    def __init__(self) -> None:
        self.played: list[tuple[str, str, str | None]] = []
        self.loaded: list[str] = []
        self.routes: list[dict[str, Any]] = []
        self.on_played: Any = None

    async def add_leg(self, call_id: str, role: str, sdp: str) -> str:
        return "answer-sdp"

    async def load_sound(self, name: str) -> None:
        signal_of(name)  # a name the media server could not play fails here
        self.loaded.append(name)

    def play(self, call_id: str, role: str, sound: str | None) -> None:
        self.played.append((call_id, role, sound))

    def connect(self, call_id: str, mode: str) -> None:
        pass

    def set_routes(self, call_id: str, routes: dict[str, Any], *, unrecorded: frozenset[str]) -> None:
        self.routes.append(dict(routes))


class FakeNotifier:
    def status(self, sid: str, status: str, **fields: Any) -> None:
        pass

    def party(self, sid: str, leg: str, status: str, **fields: Any) -> None:
        pass


def _peak(signal: np.ndarray, start: float, end: float) -> float:
    part = signal[int(start * RATE) : int(end * RATE)]
    return float(np.fft.rfftfreq(len(part), 1 / RATE)[np.abs(np.fft.rfft(part)).argmax()])


def test_the_notice_is_two_1400_hz_beeps_before_what_the_caller_would_hear() -> None:
    notice = notice_signal()
    assert _peak(notice, 0.05, 0.45) == pytest.approx(1400, abs=4)
    assert _peak(notice, 1.05, 1.45) == pytest.approx(1400, abs=4)
    assert np.abs(notice[int(0.55 * RATE) : int(0.95 * RATE)]).max() < 1e-9  # the gap between the beeps
    announced = signal_of("queue-3-30-notice")
    assert np.array_equal(announced, np.concatenate([notice, position_signal(3, 30)]))
    # the waiting music that starts with the notice lasts long enough not to repeat it every 3 s
    assert len(signal_of("queue-notice")) >= len(notice) + 30 * RATE


@pytest.mark.parametrize("notice", [True, False])
async def test_a_queued_caller_hears_the_notice_once_then_the_announcements_alone(
    tmp_path: Path, notice: bool
) -> None:
    engine = FakeEngine()
    carrier = Carrier(engine, FakeNotifier(), tmp_path)  # type: ignore[arg-type]
    await carrier.handle("inbound", {"sid": "S1", "sdp": "offer", "sound": "queue", "notice": notice})
    await carrier.handle("announce", {"sid": "S1", "position": 2, "period": 30})
    await carrier.handle("announce", {"sid": "S1", "position": 1, "period": 30})
    heard = [sound for _, role, sound in engine.played if role == "customer"]
    if notice:
        assert heard == ["queue-notice", "queue-2-30-notice", "queue-1-30"]
    else:
        assert heard == ["queue", "queue-2-30", "queue-1-30"]
    for call in carrier.calls.values():
        for timer in call.timers:
            timer.cancel()


async def test_a_closed_line_plays_no_notice(tmp_path: Path) -> None:
    engine = FakeEngine()
    carrier = Carrier(engine, FakeNotifier(), tmp_path)  # type: ignore[arg-type]
    await carrier.handle("inbound", {"sid": "S2", "sdp": "offer", "sound": "closed", "notice": True})
    assert engine.played == [("S2", "customer", "closed")]
    for call in carrier.calls.values():
        for timer in call.timers:
            timer.cancel()


@pytest.mark.parametrize("notice", [True, False])
async def test_an_outbound_calls_customer_hears_the_notice_alone_then_the_agent(
    tmp_path: Path, notice: bool
) -> None:
    """RECORDING_NOTICE_OUTBOUND: the customer who answers hears the tones once while the agent already
    hears them; once the media engine says the notice went out in full, they hear each other."""
    engine = FakeEngine()
    carrier = Carrier(engine, FakeNotifier(), tmp_path)  # type: ignore[arg-type]
    await carrier.handle("dial", {"sid": "S3", "mode": "bridge", "sdp": "offer", "notice": notice})
    await carrier.handle("answer", {"sid": "S3", "role": "customer", "sdp": "answer"})
    if notice:
        assert engine.routes[-1] == {"agent": ("customer",), "customer": "notice"}
        engine.on_played("S3", "agent", "notice")  # not the customer's notice: nothing changes
        assert engine.routes[-1] == {"agent": ("customer",), "customer": "notice"}
        engine.on_played("S3", "customer", "notice")
    assert engine.routes[-1] == {"agent": ("customer",), "customer": ("agent",)}
    routed = len(engine.routes)
    engine.on_played("S3", "customer", "notice")  # told twice: heard once
    assert len(engine.routes) == routed


async def test_the_echo_line_plays_no_notice(tmp_path: Path) -> None:
    engine = FakeEngine()
    carrier = Carrier(engine, FakeNotifier(), tmp_path)  # type: ignore[arg-type]
    await carrier.handle("dial", {"sid": "S4", "mode": "echo", "sdp": "offer", "notice": True})
    assert carrier.calls["S4"].announce is False
    for call in carrier.calls.values():
        for timer in call.timers:
            timer.cancel()
