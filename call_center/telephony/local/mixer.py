"""Per-listener mixing for calls with more than two talkers (a three-way transfer, a supervisor).

Two-party calls forward Opus untouched; only a leg that hears two or more others needs a mix: the sources
it hears are decoded (once each, whoever listens), summed for that listener without its own voice, and
encoded for it alone, every 20 ms. A call goes back to plain forwarding as soon as nobody needs a mix.

Every 20 ms tick takes one packet per source from a short queue (a source that sent nothing adds silence;
one that ran ahead loses its oldest packets, so the delay stays under MAX_QUEUE frames). Decoding and
encoding are libopus through PyAV (C); the Python per tick is a few numpy sums.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import av
import numpy as np

from call_center.telephony.local.tones import FRAME, RATE, TIME_BASE

logger = logging.getLogger(__name__)

TICK = FRAME / RATE
MAX_QUEUE = 3  # frames a source may run ahead before its oldest are dropped
SILENCE = np.zeros(FRAME, np.int16)


class Sink(Protocol):
    def push(self, source: int, timestamp: int, payload: bytes, now: float) -> None: ...


def _decoder() -> av.AudioCodecContext:
    decoder: av.AudioCodecContext = av.CodecContext.create("libopus", "r")
    decoder.layout = "mono"  # FFmpeg's libopus honours mono, not the rate: it always gives 48 kHz
    decoder.sample_rate = RATE
    return decoder


def _encoder() -> av.AudioCodecContext:
    encoder: av.AudioCodecContext = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = RATE
    encoder.layout = "mono"
    encoder.format = "s16"
    encoder.bit_rate = 32000
    encoder.time_base = TIME_BASE
    encoder.options = {"application": "voip", "frame_duration": "20"}
    return encoder


@dataclass(eq=False)
class _Source:
    decoder: av.AudioCodecContext = field(default_factory=_decoder)
    queue: deque[bytes] = field(default_factory=lambda: deque(maxlen=MAX_QUEUE))
    dropped: int = 0


@dataclass(eq=False)
class _Listener:
    hears: tuple[str, ...]
    sink: Sink
    encoder: av.AudioCodecContext = field(default_factory=_encoder)
    pts: int = 0


class SourceInput:
    """What a source leg's packets are pushed into (the mixer is one more target of that leg)."""

    def __init__(self, mixer: Mixer, name: str):
        self.mixer, self.name = mixer, name

    def push(self, source: int, timestamp: int, payload: bytes, now: float) -> None:
        self.mixer.feed(self.name, payload)


class Mixer:
    """One call's mixes: who hears which sources. `configure` changes it; `stop` ends the ticking."""

    def __init__(self, call_id: str, clock: Callable[[], float] = time.monotonic):
        self.call_id = call_id
        self.clock = clock
        self.sources: dict[str, _Source] = {}
        self.listeners: dict[str, _Listener] = {}
        self.inputs: dict[str, SourceInput] = {}
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0
        self.late_ticks = 0

    def configure(self, listeners: dict[str, tuple[tuple[str, ...], Sink]]) -> None:
        """{listener: (the sources it hears, where its mix goes)}; codecs are kept for those that stay."""
        kept = {}
        for name, (hears, sink) in listeners.items():
            old = self.listeners.get(name)
            if old is not None and old.sink is sink:
                old.hears = hears
                kept[name] = old
            else:
                kept[name] = _Listener(hears, sink)
        self.listeners = kept
        wanted = {source for listener in kept.values() for source in listener.hears}
        self.sources = {name: self.sources.get(name) or _Source() for name in wanted}
        self.inputs = {name: self.inputs.get(name) or SourceInput(self, name) for name in wanted}
        if self.listeners and self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"mix-{self.call_id}")
        elif not self.listeners:
            self.stop()

    @property
    def active(self) -> bool:
        return bool(self.listeners)

    def feed(self, source: str, payload: bytes) -> None:
        queue = self.sources.get(source)
        if queue is not None:
            if len(queue.queue) == MAX_QUEUE:
                queue.dropped += 1
            queue.queue.append(payload)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        next_tick = self.clock()
        while True:
            next_tick += TICK
            delay = next_tick - self.clock()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -5 * TICK:  # the loop was stalled: start again from now rather than burst
                self.late_ticks += 1
                next_tick = self.clock()
            try:
                self.tick()
            except Exception:  # one bad frame must not end the call's audio
                logger.exception("call %s: mixing failed for one frame", self.call_id)

    def tick(self) -> None:
        """One 20 ms frame for every listener."""
        self.ticks += 1
        pcm = {name: self._decode(source) for name, source in self.sources.items()}
        now = self.clock()
        for listener in self.listeners.values():
            total = np.zeros(FRAME, np.int32)
            for source in listener.hears:
                total += pcm.get(source, SILENCE)
            frame = av.AudioFrame.from_ndarray(
                np.clip(total, -32768, 32767).astype(np.int16)[None, :], format="s16", layout="mono"
            )
            frame.sample_rate = RATE
            frame.pts = listener.pts
            listener.pts += FRAME
            for packet in listener.encoder.encode(frame):
                listener.sink.push(id(self), int(packet.pts or listener.pts), bytes(packet), now)

    @staticmethod
    def _decode(source: _Source) -> np.ndarray:
        if not source.queue:
            return SILENCE
        payload = source.queue.popleft()
        try:
            frames = source.decoder.decode(av.Packet(payload))
        except av.FFmpegError:
            return SILENCE
        if not frames:
            return SILENCE
        data = frames[0].to_ndarray()[0]
        if data.dtype != np.int16:
            data = (np.clip(data, -1, 1) * 32767).astype(np.int16)
        return data[:FRAME] if len(data) >= FRAME else np.pad(data, (0, FRAME - len(data)))
