"""The kit's voice checks tell who speaks even when what was heard is not the source's exact timeline."""

from __future__ import annotations

import numpy as np
import pytest

from call_center.testing.audio import (
    agent_voice,
    channel_matches,
    colleague_voice,
    customer_voice,
    decode,
    sounds_like,
)

RATE = 8000


def _heard(
    voice,
    seconds: float = 6.0,
    *,
    start: float = 0.7,
    drops: int = 0,
    stretch: float = 1.0,  # type: ignore[no-untyped-def]
    stall: float = 0.0,
):
    """What a page would capture of `voice` looped: at 8 kHz, from `start` s in, `drops` 40 ms gaps cut
    out (a capture skipping a buffer), played `stretch` times slower (a jitter buffer), `stall` seconds of
    silence inserted 2.5 s in (a jitter buffer's reset), with a little noise."""
    rate, samples = decode(voice)
    mono = samples[0][:: rate // RATE]
    looped = np.tile(mono, 4)[int(start * RATE) :]
    positions = np.arange(0, int(seconds * RATE * 1.2)) / stretch
    heard = np.interp(positions, np.arange(len(looped)), looped)
    rng = np.random.default_rng(7)
    for at in sorted(rng.integers(RATE, len(heard) - RATE, drops))[::-1]:
        heard = np.delete(heard, slice(at, at + RATE // 25))
    if stall:
        at = int(2.5 * RATE)
        heard = np.concatenate([heard[:at], np.zeros(int(stall * RATE)), heard[at:]])
    heard = heard[: int(seconds * RATE)]
    return (heard + rng.normal(0, 0.002, len(heard))).astype(np.float32)


@pytest.mark.parametrize(
    "drops,stretch,stall", [(0, 1.0, 0.0), (6, 1.0, 0.0), (0, 1.06, 0.0), (4, 0.95, 0.0), (0, 1.0, 0.44)]
)
def test_the_voice_heard_scores_high_and_the_others_low(drops, stretch, stall):
    heard = _heard(customer_voice(), drops=drops, stretch=stretch, stall=stall)
    own = sounds_like(heard, RATE, customer_voice())
    others = [sounds_like(heard, RATE, v) for v in (agent_voice(), colleague_voice())]
    assert own > 0.6, (own, others)
    assert all(own > other + 0.15 for other in others), (own, others)
    assert all(other < 0.5 for other in others), others


def test_silence_and_too_little_audio_score_nothing():
    assert channel_matches(np.zeros(RATE * 5, dtype=np.float32), RATE, agent_voice()) == 0.0
    assert channel_matches(_heard(agent_voice(), seconds=0.5), RATE, agent_voice()) == 0.0
