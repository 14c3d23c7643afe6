"""What a leg hears: pre-encoded Opus tones, and the track that sends tones or forwarded packets.

Nothing here encodes per call: tones are Opus-encoded once per process, forwarded audio is never decoded.
The track hands aiortc `av.Packet`s (its pre-encoded path: no encoder, no per-frame audio-level work).
"""

from __future__ import annotations

import asyncio
import fractions
import functools
import time
from collections import deque
from collections.abc import Callable, Sequence

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

# "ringback", "hold", "queue", "voicemail", "closed", or a position announcement "queue-<n>-<period s>";
# any of them with "-notice" after it starts with the recording notice
Sound = str
RATE = 48000
FRAME = 960  # 20 ms at 48 kHz: the frame size browsers send and the tones are cut to
TIME_BASE = fractions.Fraction(1, RATE)
MAX_QUEUED = 50  # 1 s of forwarded audio; more means the loop is far behind and old audio is useless
STALL = 0.1  # a paced source this late re-anchors to the wall clock instead of bursting to catch up


def _tone(freqs: Sequence[float], on: float, period: float, level: float) -> np.ndarray:
    t = np.arange(int(on * RATE)) / RATE
    wave = sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs)
    ramp = min(len(t) // 2, int(0.01 * RATE))  # 10 ms fades: no clicks at the edges
    envelope = np.ones(len(t))
    envelope[:ramp] = envelope[-ramp:][::-1] = np.linspace(0, 1, ramp)
    signal = np.zeros(int(period * RATE))
    signal[: len(t)] = level * wave * envelope
    return signal


def ringback_signal() -> np.ndarray:
    # 425 Hz, 1 s on / 4 s off: the ITU-T E.180 ringing tone most of Europe and the Middle East use.
    return _tone([425.0], on=1.0, period=5.0, level=0.25)


def hold_signal() -> np.ndarray:
    # A soft two-note chime every 4 s, quiet enough not to annoy: "you are still connected".
    chime = np.concatenate([_tone([523.25], 0.3, 0.3, 0.08), _tone([659.25], 0.4, 0.4, 0.08)])
    signal = np.zeros(4 * RATE)
    signal[: len(chime)] = chime
    return signal


def queue_signal() -> np.ndarray:
    # Waiting music: three rising notes (G4, B4, D5) every 3 s, soft; not the hold chime.
    notes = [_tone([f], 0.25, 0.3, 0.07) for f in (392.0, 493.88, 587.33)]
    signal = np.zeros(3 * RATE)
    motif = np.concatenate(notes)
    signal[: len(motif)] = motif
    return signal


MAX_ANNOUNCED = 9  # positions above this are announced as 9 beeps ("9 or more ahead")


def position_signal(position: int, period: float) -> np.ndarray:
    """The caller's position as tones (the local provider has no speech): a high "ding", then one short
    beep per place in line (1-9), then the waiting music until `period` seconds have passed."""
    beeps = max(1, min(position, MAX_ANNOUNCED))
    parts = [_tone([880.0], 0.15, 0.55, 0.12)]
    parts += [_tone([660.0], 0.12, 0.3, 0.12) for _ in range(beeps)]
    parts.append(np.zeros(int(0.6 * RATE)))
    head = np.concatenate(parts)
    total = max(len(head), int(period * RATE))
    music = np.tile(queue_signal(), total // (3 * RATE) + 1)
    return np.concatenate([head, music])[:total]


def voicemail_signal() -> np.ndarray:
    # The tone after which the caller speaks: one long beep (1 kHz, 0.6 s), then 2.4 s of silence (the
    # carrier switches to silence before it would repeat).
    signal = np.zeros(3 * RATE)
    beep = _tone([1000.0], 0.6, 0.6, 0.15)
    signal[: len(beep)] = beep
    return signal


def closed_signal() -> np.ndarray:
    # Outside opening hours: the three rising notes of the ITU-T special information tone (913.8, 1370.6,
    # 1776.7 Hz, 330 ms each), then silence, every 3 s: "this number cannot take your call now".
    notes = [_tone([f], 0.33, 0.33, 0.15) for f in (913.8, 1370.6, 1776.7)]
    signal = np.zeros(3 * RATE)
    motif = np.concatenate(notes)
    signal[: len(motif)] = motif
    return signal


NOTICE_SUFFIX = "-notice"


def notice_signal() -> np.ndarray:
    """The recording notice as tones (the local provider has no speech): two beeps of 0.5 s at 1400 Hz, the
    usual "this call is recorded" warning tone, one second apart, then 0.5 s of silence."""
    beep = _tone([1400.0], 0.5, 1.0, 0.12)
    return np.concatenate([beep, beep, np.zeros(RATE // 2)])


def signal_of(name: Sound) -> np.ndarray:
    if name == "notice":  # alone: what an outbound call's customer hears once when they answer
        return notice_signal()
    if name.endswith(NOTICE_SUFFIX):
        # Heard once: what follows lasts long enough that the next announcement replaces it before the
        # loop would start the notice again.
        body = signal_of(name.removesuffix(NOTICE_SUFFIX))
        if name == "queue" + NOTICE_SUFFIX:
            body = np.tile(body, 10)
        return np.concatenate([notice_signal(), body])
    if name == "voicemail":
        return voicemail_signal()
    if name == "closed":
        return closed_signal()
    if name == "ringback":
        return ringback_signal()
    if name == "hold":
        return hold_signal()
    if name == "queue":
        return queue_signal()
    kind, _, rest = name.partition("-")
    position, _, period = rest.partition("-")
    if kind == "queue" and position.isdigit() and period.isdigit():
        return position_signal(int(position), float(period))
    raise ValueError(f"unknown sound {name!r}")


def position_sound(position: int, period: int) -> Sound:
    return f"queue-{max(1, min(position, MAX_ANNOUNCED))}-{int(period)}"


def encode_opus(signal: np.ndarray, *, loop: bool = False, bitrate: int = 32000) -> list[bytes]:
    """Mono 48 kHz float signal -> one Opus packet per 20 ms (length rounded down to whole frames)."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = RATE
    encoder.layout = "mono"
    encoder.format = "s16"
    encoder.bit_rate = bitrate
    encoder.time_base = TIME_BASE
    encoder.options = {"application": "audio"}
    pcm = (np.clip(signal, -1, 1) * 32767).astype(np.int16)
    count = len(pcm) // FRAME
    # For a loop, encode it twice and keep the second pass: its packets start from the state the end of the
    # loop leaves, so repeating them has no seam, and the encoder's start-up frames are thrown away.
    passes = 2 if loop else 1
    packets: list[bytes] = []
    for index in range(count * passes):
        start = (index % count) * FRAME
        frame = av.AudioFrame.from_ndarray(pcm[None, start : start + FRAME], format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = index * FRAME
        packets += [bytes(p) for p in encoder.encode(frame)]
    packets += [bytes(p) for p in encoder.encode(None)]
    return packets[-count:] if loop else packets


@functools.cache
def sound_packets(name: Sound) -> tuple[bytes, ...]:
    """The looping packets of a sound, encoded on first use (tens of ms: call it off the event loop)."""
    if name == "silence":
        return tuple(encode_opus(np.zeros(10 * FRAME), loop=True)[-1:])
    return tuple(encode_opus(signal_of(name), loop=True))


class PacketTrack(MediaStreamTrack):
    """An outgoing audio track fed with Opus packets: a looping sound, or packets forwarded from a leg.

    Outgoing RTP timestamps (packet pts) follow the source's own timestamps while one source lasts; on
    every change of source they are re-anchored to the wall clock, so the receiver's jitter buffer sees
    time advance as it really did (tone -> conversation -> hold tone ...).
    """

    kind = "audio"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._queue: deque[tuple[float, int, int, bytes]] = deque(maxlen=MAX_QUEUED)
        self._waiter: asyncio.Future[None] | None = None
        self._looped: Sequence[bytes] | None = None
        self._once = False  # the looped sound is played once, then its last packet (silence) repeats
        self._then: Callable[[], None] | None = None  # called (soon) once a sound played once is over
        self._index = 0
        self._due = 0.0
        self._anchor = 0  # pts of the next looped packet
        self._delay = 0.0
        self._start: float | None = None
        self._source: int | None = None  # which forwarded stream the pts offset belongs to
        self._offset = 0
        self._pts = -FRAME
        self.packets_sent = 0
        self.tap: Callable[[int, bytes], None] | None = None  # sees every forwarded packet sent (echo line)

    def play(self, packets: Sequence[bytes], then: Callable[[], None] | None = None) -> None:
        """Loop these packets at 50 per second (a tone, or silence). With `then`, play them once from the
        first packet the leg really sends (a connection still being set up loses none of it), then repeat
        the last one (end such a sound with silence) and call `then` on the event loop."""
        if self._looped is packets:
            return
        self._looped, self._index, self._due = packets, 0, 0.0
        self._once, self._then = then is not None, then
        self._queue.clear()
        self._wake()

    def forward(self, delay: float = 0.0) -> None:
        """Send what `push` is given, each packet `delay` seconds after it arrived."""
        if self._looped is None and self._delay == delay:
            return
        self._looped, self._delay, self._source = None, delay, None
        self._once, self._then = False, None
        self._queue.clear()
        self._wake()

    def push(self, source: int, timestamp: int, payload: bytes, now: float) -> None:
        """A forwarded packet (`timestamp`: its unwrapped RTP timestamp); dropped unless forwarding."""
        if self._looped is None:
            self._queue.append((now + self._delay, source, timestamp, payload))
            self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _wall_pts(self, now: float) -> int:
        # Never step back, never repeat: the next pts is at least one frame after the last one sent.
        assert self._start is not None
        return max(round((now - self._start) * RATE), self._pts + FRAME)

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = self._clock()
        while True:
            sent = await (self._next_looped() if self._looped is not None else self._next_forwarded())
            if sent is not None:
                pts, payload = sent
                self._pts = pts
                self.packets_sent += 1
                packet = av.Packet(payload)
                packet.pts = pts
                packet.time_base = TIME_BASE
                return packet

    async def _next_looped(self) -> tuple[int, bytes] | None:
        loop = self._looped
        assert loop is not None
        now = self._clock()
        if self._due == 0.0 or now - self._due > STALL:
            self._due = now
            self._anchor = self._wall_pts(now)
        elif self._due > now:
            await asyncio.sleep(self._due - now)
            if self._looped is not loop:
                return None
        pts = self._anchor
        if self._once and self._index >= len(loop):
            payload = loop[-1]
            if self._then is not None:
                then, self._then = self._then, None
                asyncio.get_running_loop().call_soon(then)
        else:
            payload = loop[self._index % len(loop)]
        self._index += 1
        self._due += FRAME / RATE
        self._anchor += FRAME
        return pts, payload

    async def _next_forwarded(self) -> tuple[int, bytes] | None:
        if not self._queue:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
            return None
        due, source, timestamp, payload = self._queue[0]
        wait = due - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)
            return None  # look again: the mode may have changed while waiting
        self._queue.popleft()
        if source != self._source:
            self._source = source
            self._offset = self._wall_pts(self._clock()) - timestamp
        pts = timestamp + self._offset
        if self.tap is not None:
            self.tap(pts, payload)
        return pts, payload


MP3_TONES = ("ringback", "hold", "queue")
QUEUE_PERIOD_SECONDS = 3  # one period of the waiting music (queue_signal)


@functools.cache
def mp3(name: Sound) -> bytes:
    """A tone as a short MP3 (mono, 22.05 kHz) for providers that play a URL (Twilio's <Play>): the same
    sound the media server plays, one period of it (<Play loop="0"> repeats it)."""
    from call_center.core import mp3 as encoder

    signal = signal_of(name)
    rate = 22050
    pcm = (np.clip(_resample(signal, rate), -1, 1) * 32767).astype(np.int16)
    return encoder.encode(pcm[None, :], rate)


def _resample(signal: np.ndarray, rate: int) -> np.ndarray:
    """Linear resampling from RATE (enough for tones)."""
    count = int(len(signal) * rate / RATE)
    return np.interp(np.arange(count) * (RATE / rate), np.arange(len(signal)), signal)
