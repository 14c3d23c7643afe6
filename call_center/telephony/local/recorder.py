"""Call recordings: raw Opus per leg on disk while the call runs, mixed into a two-channel MP3 in a thread.

Layout: `legs_dir/<call_id>/<channel>.<leg>` holds one leg's (arrival, unwrapped RTP timestamp, payload)
records, appended by the event loop through a buffered file. A call has as many legs as took part (the
agent, the customer, a transfer target, a supervisor who barged in); each is decoded on its own and the legs
of a channel are summed: left = the company's side (agents), right = the customer. The mix (decode, align,
resample to 16 kHz, LAME) runs in a worker thread, a few seconds behind the live call, so hang-up only has
the last seconds left to do. A `finished` marker
is written once the MP3 is in place; a directory without one is a crash's leftover (`recover_orphans`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO, Literal

import av
import numpy as np

from call_center.core.files import fsync_path
from call_center.telephony.local.tones import FRAME, RATE, TIME_BASE

logger = logging.getLogger(__name__)

Role = Literal["agent", "customer"]
ROLES: tuple[Role, Role] = ("agent", "customer")  # left, right
Channel = Literal["left", "right"]
CHANNELS: tuple[Channel, Channel] = ("left", "right")
# Leg files written before legs were named by channel (kept so a crash's leftovers still recover).
LEGACY_FILES: dict[str, Channel] = {"agent": "left", "customer": "right"}


def channel_of(leg: str) -> Channel:
    """The recording channel of a leg by its name: the customer's side on the right, everyone else left."""
    return "right" if leg.startswith(("customer", "echo")) else "left"


def leg_files(call_dir: Path) -> dict[str, Channel]:
    """The leg files of a call directory and their channels."""
    found: dict[str, Channel] = {}
    if not call_dir.is_dir():
        return found
    for path in call_dir.iterdir():
        channel, dot, _leg = path.name.partition(".")
        if dot and channel in CHANNELS:
            found[path.name] = channel
        elif path.name in LEGACY_FILES:
            found[path.name] = LEGACY_FILES[path.name]
    return found


MAGIC = b"CCLEG1\n"
_RECORD = struct.Struct("<dqH")  # arrival (s since call start), unwrapped RTP timestamp, payload length
FINISHED = "finished"
# Wideband speech (up to ~7 kHz; twice the band of Twilio's 8 kHz telephone recordings). LAME's cost grows
# with the sample rate: 16 kHz encodes ~1.45x faster than 24 kHz (179x against 121x realtime measured here).
MP3_RATE = 16000
MP3_BITRATE = 48000
MP3_OPTIONS = {
    # LAME's fast mode: ~1.4x quicker than its default, no audible loss on speech at this bitrate.
    "compression_level": "7",
    # Left and right are two different people: mid/side coding gains nothing and its analysis costs ~25 %.
    "joint_stereo": "0",
}
MAX_SKEW = 2 * RATE  # a leg's timestamps this far from its arrival times re-anchor on arrival (bad sender)
# Mixed in quarter-second slices: the resampler and the encoder keep buffers as large as the largest frame
# they were given (5 s frames cost ~15 MB per call), and the legs' decode buffers stay this small too.
SLICE = RATE // 4


@dataclass(frozen=True)
class RecordingResult:
    path: Path  # the finished MP3
    duration: float  # seconds
    size: int  # bytes
    channels: int  # 2


@dataclass(frozen=True)
class RecordingFailure:
    reason: str


class LegWriter:
    """Appends a leg's packets to its file (buffered: the loop pays a memcpy, `flush` a syscall)."""

    def __init__(self, path: Path) -> None:
        self._file: BinaryIO = open(path, "ab", buffering=1 << 16)  # noqa: SIM115 - lives as long as the call
        if self._file.tell() == 0:
            self._file.write(MAGIC)

    def append(self, arrival: float, timestamp: int, payload: bytes) -> None:
        self._file.write(_RECORD.pack(arrival, timestamp, len(payload)))
        self._file.write(payload)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class LegReader:
    """Reads the complete records appended since the last call (a torn last record waits for the rest)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: BinaryIO | None = None
        self._rest = b""

    def read(self) -> list[tuple[float, int, bytes]]:
        if self._file is None and not self._open():
            return []
        assert self._file is not None
        data = self._rest + self._file.read()
        records, offset, size = [], 0, len(data)
        while offset + _RECORD.size <= size:
            arrival, timestamp, length = _RECORD.unpack_from(data, offset)
            end = offset + _RECORD.size + length
            if end > size:
                break
            records.append((arrival, timestamp, data[offset + _RECORD.size : end]))
            offset = end
        self._rest = data[offset:]
        return records

    def _open(self) -> bool:
        try:
            file = open(self._path, "rb")  # noqa: SIM115 - kept open across reads
        except FileNotFoundError:
            return False
        magic = file.read(len(MAGIC))
        if magic != MAGIC:
            file.close()
            if MAGIC.startswith(magic):
                return False  # the header is not flushed yet
            raise ValueError(f"{self._path} is not a leg recording")
        self._file = file
        return True

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class LegAligner:
    """Places a leg's packets on the call's timeline (48 kHz samples since the call started).

    The first packet lands where it arrived; the rest follow their RTP timestamps, so network jitter and
    event-loop stalls do not move audio around, gaps (silence suppression, a muted mic) stay gaps, and a
    reordered packet goes back where it belongs. A timestamp that disagrees with the arrival time by more
    than MAX_SKEW (a sender that restarted its clock) re-anchors on arrival.
    """

    def __init__(self) -> None:
        self._offset: int | None = None

    def place(self, arrival: float, timestamp: int) -> int:
        expected = round(arrival * RATE)
        if self._offset is not None:
            position = timestamp + self._offset
            if abs(position - expected) <= MAX_SKEW:
                return position
        self._offset = expected - timestamp
        return expected


class LegTrack:
    """One leg's audio: records in, decoded 48 kHz mono s16 samples out, in order, gaps as silence."""

    def __init__(self, path: Path) -> None:
        self.reader = LegReader(path)
        self.aligner = LegAligner()
        self.decoder = av.CodecContext.create("libopus", "r")
        self.decoder.layout = "mono"  # FFmpeg's libopus honours mono, not the rate: it always gives 48 kHz
        self.decoder.sample_rate = RATE
        self.pending: list[tuple[int, bytes]] = []  # placed packets, sorted; [cursor:] not decoded yet
        self.cursor = 0
        self.previous = -1  # position of the last packet decoded
        self.packets = 0
        self.last_arrival = 0.0
        self.base = 0  # the timeline sample buf[0] stands for
        self.buf = np.zeros(2 * SLICE, np.int16)
        self.used = 0

    def load(self) -> None:
        """Read what was appended since last time and place it."""
        records = self.reader.read()
        if not records:
            return
        del self.pending[: self.cursor]
        self.cursor = 0
        place = self.aligner.place
        self.pending += [(place(arrival, timestamp), payload) for arrival, timestamp, payload in records]
        self.pending.sort(key=itemgetter(0))  # nearly sorted already: cheap for timsort
        self.packets += len(records)
        self.last_arrival = max(self.last_arrival, records[-1][0])

    def decode_until(self, target: int) -> None:
        """Decode the loaded packets that start before `target`; later ones wait for more context."""
        pending, index = self.pending, self.cursor
        while index < len(pending) and pending[index][0] < target:
            position, payload = pending[index]
            index += 1
            if position < self.base or position == self.previous:
                continue  # came after its place was mixed, or a duplicate
            self.previous = position
            try:
                frames = self.decoder.decode(av.Packet(payload))
            except av.FFmpegError:
                continue  # a corrupt packet is a lost one
            for frame in frames:
                pcm = _as_int16(frame.to_ndarray()[0])
                self._write(position - self.base, pcm)
                position += len(pcm)
        self.cursor = index

    def _write(self, offset: int, pcm: np.ndarray) -> None:
        end = offset + len(pcm)
        if end > len(self.buf):
            grown = np.zeros(max(end, 2 * len(self.buf)), np.int16)
            grown[: self.used] = self.buf[: self.used]
            self.buf = grown
        self.buf[offset:end] = pcm
        self.used = max(self.used, end)

    def take(self, count: int) -> np.ndarray:
        """The next `count` samples of the timeline (zeros where nothing was decoded)."""
        out = np.zeros(count, np.int16)
        kept = min(count, self.used)
        out[:kept] = self.buf[:kept]
        remaining = self.used - kept
        self.buf[:remaining] = self.buf[kept : self.used]
        self.buf[remaining : self.used] = 0
        self.used = remaining
        self.base += count
        return out


def _as_int16(pcm: np.ndarray) -> np.ndarray:
    if pcm.dtype == np.int16:
        return pcm
    return (np.clip(pcm, -1, 1) * 32767).astype(np.int16)  # a libopus build that decodes to float


class Mp3Writer:
    """48 kHz s16 stereo in, 16 kHz 48 kbit/s LAME MP3 out (AudioResampler: a proper low-pass resampler)."""

    def __init__(self, path: Path) -> None:
        self._container = av.open(str(path), "w", format="mp3")
        self._stream = self._container.add_stream("libmp3lame", rate=MP3_RATE, layout="stereo")
        self._stream.bit_rate = MP3_BITRATE
        self._stream.codec_context.options = MP3_OPTIONS
        self._resampler = av.AudioResampler(format="fltp", layout="stereo", rate=MP3_RATE)
        self._samples = 0

    def write(self, stereo: np.ndarray) -> None:
        """Planar int16 samples, shape (2, n); keep n small (SLICE): FFmpeg keeps buffers as big as that."""
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(stereo), format="s16p", layout="stereo")
        frame.sample_rate = RATE
        frame.time_base = TIME_BASE
        frame.pts = self._samples
        self._samples += stereo.shape[1]
        self._encode(self._resampler.resample(frame))

    def close(self) -> None:
        self._encode(self._resampler.resample(None))
        self._container.mux(self._stream.encode(None))
        self._container.close()

    def _encode(self, frames: list[av.AudioFrame]) -> None:
        for frame in frames:
            self._container.mux(self._stream.encode(frame))


class CallRecorder:
    """One call's recording. `write`/`flush` belong to the event loop; `open`, `advance` and `finish` to
    worker threads (a lock keeps a background `advance` and the final `finish` apart)."""

    def __init__(self, call_dir: Path, output: Path) -> None:
        self.call_dir = call_dir
        self.output = output
        self._partial = output.with_name(f".{output.name}.part")
        self._writers: dict[str, LegWriter] = {}
        self._legs: dict[str, LegTrack] = {}  # by file name
        self._channels: dict[str, Channel] = {}  # file name -> channel
        self._mp3: Mp3Writer | None = None
        self._emitted = 0
        self._lock = threading.Lock()
        self._result: RecordingResult | RecordingFailure | None = None
        self._done = False

    @property
    def mixed_seconds(self) -> float:
        """How much of the call is mixed into the MP3 so far (read from any thread: a plain int)."""
        return self._emitted / RATE

    # Event loop side ---------------------------------------------------------------------------------
    def add_leg(self, leg: str, channel: Channel | None = None) -> None:
        """Start a leg's file (a leg that joins later, e.g. a transfer target, starts its own)."""
        if leg in self._writers or self._done:
            return
        name = f"{channel or channel_of(leg)}.{leg}"
        # One assignment: the event loop may be iterating the writers (flush) while a thread reads them.
        self._writers = {**self._writers, leg: LegWriter(self.call_dir / name)}

    def write(self, leg: str, arrival: float, timestamp: int, payload: bytes) -> None:
        writer = self._writers.get(leg)
        if writer is None:
            if leg not in ROLES:
                return
            self.add_leg(leg)
            writer = self._writers[leg]
        writer.append(arrival, timestamp, payload)

    def flush(self) -> None:
        for writer in self._writers.values():
            writer.flush()

    # Worker thread side ------------------------------------------------------------------------------
    def open(self) -> None:
        """Create the call's directory (blocking I/O: run it in a thread); legs add their files."""
        self.call_dir.mkdir(parents=True, exist_ok=True)

    def advance(self, horizon: float) -> None:
        """Mix everything up to `horizon` seconds of call time (later packets for that span are dropped)."""
        with self._lock:
            if not self._done:
                self._advance(round(horizon * RATE))

    def _discover(self) -> None:
        """Open the leg files that appeared since last time (a leg may join mid-call)."""
        for name, channel in leg_files(self.call_dir).items():
            if name not in self._legs:
                track = LegTrack(self.call_dir / name)
                track.base = self._emitted  # a leg that joins later starts where the mix is
                self._legs[name], self._channels[name] = track, channel

    def _advance(self, target: int) -> None:
        if target <= self._emitted:
            return
        self._discover()
        for leg in self._legs.values():
            leg.load()
        if self._mp3 is None:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            self._mp3 = Mp3Writer(self._partial)
        while self._emitted < target:
            end = min(target, self._emitted + SLICE)
            count = end - self._emitted
            mix = np.zeros((2, count), np.int32)
            for name, leg in self._legs.items():
                leg.decode_until(end)
                mix[CHANNELS.index(self._channels[name])] += leg.take(count)
            self._mp3.write(np.clip(mix, -32768, 32767).astype(np.int16))
            self._emitted = end

    def finish(self, end: float | None) -> RecordingResult | RecordingFailure | None:
        """Finish the MP3 at `end` seconds of call time (None: where the recorded audio ends).

        Returns None when not a single packet was recorded. Safe to call more than once."""
        with self._lock:
            if not self._done:
                self._done = True
                try:
                    self._result = self._finish(end)
                except Exception as exc:
                    logger.exception("call %s: the recording could not be finished", self.call_dir.name)
                    self._result = RecordingFailure(f"{type(exc).__name__}: {exc}")
                    self._close_files()
                    self._fail(self._result.reason)
                finally:
                    self._close_files()
            return self._result

    def _finish(self, end: float | None) -> RecordingResult | None:
        for writer in self._writers.values():
            writer.flush()
        self._discover()
        for leg in self._legs.values():
            leg.load()
        if not any(leg.packets for leg in self._legs.values()):
            self._close_files()
            self._partial.unlink(missing_ok=True)
            shutil.rmtree(self.call_dir, ignore_errors=True)
            return None
        if end is None:
            end = max(leg.last_arrival for leg in self._legs.values() if leg.packets) + FRAME / RATE
        self._advance(round(end * RATE))
        assert self._mp3 is not None
        self._mp3.close()
        self._mp3 = None
        fsync_path(self._partial)
        os.replace(self._partial, self.output)
        fsync_path(self.output.parent)
        (self.call_dir / FINISHED).write_text("ok\n")
        shutil.rmtree(self.call_dir, ignore_errors=True)
        size = self.output.stat().st_size
        logger.debug("call %s: recording %s ready (%.1f s)", self.call_dir.name, self.output, end)
        return RecordingResult(path=self.output, duration=round(end, 3), size=size, channels=2)

    def _fail(self, reason: str) -> None:
        # Keep the leg files for a post-mortem, but never retry them at every start-up.
        with contextlib.suppress(OSError):
            self._partial.unlink(missing_ok=True)
        try:
            (self.call_dir / FINISHED).write_text(json.dumps({"failed": reason}) + "\n")
        except OSError:
            logger.exception("call %s: could not mark the failed recording", self.call_dir.name)

    def _close_files(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        for leg in self._legs.values():
            leg.reader.close()
        mp3, self._mp3 = self._mp3, None
        if mp3 is not None:
            with contextlib.suppress(Exception):  # only left open after a failure, already reported
                mp3.close()


def recover_orphans(
    legs_dir: Path, recording_path: Callable[[str], Path]
) -> list[tuple[str, RecordingResult | RecordingFailure]]:
    """At start-up: finalise the leg files a crash left behind (each call_id directory without a finished
    marker). A call that had recorded nothing comes back as a RecordingFailure, so it can be closed too."""
    results: list[tuple[str, RecordingResult | RecordingFailure]] = []
    if not legs_dir.is_dir():
        return results
    for call_dir in sorted(path for path in legs_dir.iterdir() if path.is_dir()):
        marker = call_dir / FINISHED
        if marker.exists():
            if marker.read_text().startswith("ok"):
                shutil.rmtree(call_dir, ignore_errors=True)  # crashed between the marker and the clean-up
            continue
        call_id = call_dir.name
        try:
            result = CallRecorder(call_dir, recording_path(call_id)).finish(None)
        except Exception as exc:  # e.g. recording_path refused the id: report it, recover the others
            logger.exception("call %s: the recording a crash left behind could not be recovered", call_id)
            result = RecordingFailure(f"{type(exc).__name__}: {exc}")
        logger.info("call %s: recovered the recording a crash left behind: %s", call_id, result)
        results.append((call_id, result or RecordingFailure("nothing was recorded")))
    return results
