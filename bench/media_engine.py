"""Benchmark of the local provider's media engine: recorded calls per core, memory, MP3 speed, hang-up time.

The engine runs in its own process pinned to one core; synthetic client legs (aiortc peers sending
pre-encoded Opus at 50 packets/s and counting what they receive through the same raw-RTP hook) run in
another process on the remaining core(s). Signaling is relayed by this orchestrating process over pipes.

    .venv/bin/python bench/media_engine.py                 # the full run (~11 min with a 5-minute call)
    .venv/bin/python bench/media_engine.py --levels 1,10 --window 10 --long-call 30   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import multiprocessing
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine  # noqa: E402
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import MediaStreamTrack  # noqa: E402

from call_center.telephony.local.media import MIX_INTERVAL, MIX_MARGIN, MediaEngine, RecordingResult  # noqa: E402
from call_center.telephony.local.recorder import SLICE, CallRecorder, Mp3Writer  # noqa: E402
from call_center.telephony.local.rtp_hook import host_addresses, install_rtp_hook  # noqa: E402
from call_center.telephony.local.tones import FRAME, RATE, TIME_BASE, encode_opus  # noqa: E402

# A mixer that keeps up is at most interval + margin behind, plus a watchdog tick and its own queue.
LAG_OK = MIX_INTERVAL + MIX_MARGIN + 2
SENTENCE = "Good morning, thank you for calling. How can I help you today? One moment while I check that."


# Test audio ------------------------------------------------------------------------------------------------
def speech_packets() -> tuple[list[bytes], str]:
    """Opus packets of synthetic speech (espeak-ng), 20 ms, mono, 32 kbit/s: about what a browser sends."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        try:
            subprocess.run(["espeak-ng", "-w", str(wav), SENTENCE], check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            t = np.arange(6 * RATE) / RATE
            signal = 0.3 * np.sin(2 * np.pi * (300 + 200 * np.sin(2 * np.pi * 0.5 * t)) * t)
            return encode_opus(signal, loop=True), "a 6 s warbling tone (espeak-ng not found)"
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        with av.open(str(wav)) as container:
            frames = [f for frame in container.decode(audio=0) for f in resampler.resample(frame)]
        signal = np.concatenate([f.to_ndarray()[0] for f in frames + resampler.resample(None)])
    packets = encode_opus(signal, loop=True)
    size = statistics.mean(map(len, packets))
    how = (
        f"espeak-ng speech ({len(packets) * 0.02:.1f} s loop) resampled to 48 kHz, encoded once with PyAV "
        f"libopus (mono, 20 ms frames, 32 kbit/s; mean payload {size:.0f} B), replayed in a loop"
    )
    return packets, how


# A tiny request/reply server over a multiprocessing pipe, run inside an asyncio loop ------------------------
Handler = Callable[..., Coroutine[Any, Any, Any]]


async def serve_pipe(conn: Connection, handlers: dict[str, Handler]) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()

    def pump() -> None:
        while True:
            message = conn.recv()
            loop.call_soon_threadsafe(queue.put_nowait, message)
            if message[0] == "quit":
                return

    threading.Thread(target=pump, daemon=True).start()
    while True:
        op, *args = await queue.get()
        if op == "quit":
            conn.send(None)
            return
        conn.send(await handlers[op](*args))


def request(conn: Connection, *message: Any) -> Any:
    conn.send(message)
    return conn.recv()


def pin(cores: set[int]) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cores)  # before any thread exists: every later thread inherits it


def core_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of the core this process runs on, all processes included."""
    core = min(os.sched_getaffinity(0))
    with open("/proc/stat") as stat:
        for line in stat:
            if line.startswith(f"cpu{core} "):
                ticks = [int(value) for value in line.split()[1:]]
                return sum(ticks) - ticks[3] - ticks[4], sum(ticks)  # idle and iowait are not busy
    return 0, 1


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# The engine process ---------------------------------------------------------------------------------------
def server_main(conn: Connection, workdir: str, cores: set[int]) -> None:
    pin(cores)
    asyncio.run(_server(conn, Path(workdir)))


async def _server(conn: Connection, workdir: Path) -> None:
    engine = MediaEngine(legs_dir=workdir / "legs", media_hosts=["127.0.0.1"])

    async def add_leg(call_id: str, role: str, sdp: str) -> str:
        return await engine.add_leg(call_id, role, sdp)  # type: ignore[arg-type]

    async def connect(call_id: str) -> None:
        engine.connect(call_id, "bridge")

    async def mark() -> dict[str, Any]:
        calls = engine.stats()["calls"]
        received = {
            f"{call_id}/{role}": leg["packets_in"]
            for call_id, call in calls.items()
            for role, leg in call["legs"].items()
        }
        return {
            "cpu": time.process_time(),
            "rss": rss_bytes(),
            "core": core_ticks(),
            "received": received,
            "lag": max((call["recording_lag"] for call in calls.values()), default=0.0),
        }

    async def end_calls(call_ids: list[str]) -> list[float]:
        async def timed(call_id: str) -> float:
            started = time.perf_counter()
            result = await engine.end_call(call_id)
            assert isinstance(result, RecordingResult), result
            return time.perf_counter() - started

        return list(await asyncio.gather(*map(timed, call_ids)))

    async def snapshot(call_id: str) -> str:
        engine._calls[call_id].recorder.flush()
        target = workdir / "snapshot" / call_id
        await asyncio.to_thread(shutil.copytree, workdir / "legs" / call_id, target)
        return str(target)

    async def batch_finish(call_dir: str) -> tuple[float, float]:
        recorder = CallRecorder(Path(call_dir), workdir / "batch.mp3")
        started = time.perf_counter()
        result = await asyncio.to_thread(recorder.finish, None)
        assert isinstance(result, RecordingResult), result
        return time.perf_counter() - started, result.duration

    async def mp3_speed(seconds: float) -> float:
        return await asyncio.to_thread(_mp3_seconds, workdir / "speed.mp3", seconds)

    handlers = {f.__name__: f for f in (add_leg, connect, mark, end_calls, snapshot, batch_finish, mp3_speed)}
    await serve_pipe(conn, handlers)  # type: ignore[arg-type]
    await engine.close()


def _mp3_seconds(path: Path, seconds: float) -> float:
    """Wall time to resample and encode `seconds` of two-speaker 48 kHz audio to the recording's MP3."""
    t = np.arange(int(seconds * RATE), dtype=np.float64) / RATE
    left = 0.3 * np.sin(2 * np.pi * (300 + 150 * np.sin(2 * np.pi * 0.3 * t)) * t) * (np.sin(t) > 0)
    right = 0.2 * np.sin(2 * np.pi * (900 + 300 * np.sin(2 * np.pi * 0.2 * t)) * t) * (np.cos(t) > 0)
    stereo = (np.stack([left, right]) * 32767).astype(np.int16)
    started = time.perf_counter()
    writer = Mp3Writer(path)
    for offset in range(0, stereo.shape[1], SLICE):  # the slices the recorder mixes in
        writer.write(stereo[:, offset : offset + SLICE])
    writer.close()
    return time.perf_counter() - started


# The client process ---------------------------------------------------------------------------------------
class SteadySource(MediaStreamTrack):
    """Sends the packets in a loop at exactly 50 per second on average: a late client catches up, as a
    browser's sender would, so a busy client core cannot pass for packets the engine lost."""

    kind = "audio"

    def __init__(self, packets: list[bytes]) -> None:
        super().__init__()
        self.packets, self.index, self.start = packets, 0, 0.0

    async def recv(self) -> av.Packet:
        if self.index == 0:
            self.start = time.monotonic()
        delay = self.start + self.index * 0.02 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        packet = av.Packet(self.packets[self.index % len(self.packets)])
        packet.pts, packet.time_base = self.index * FRAME, TIME_BASE
        self.index += 1
        return packet


def client_main(conn: Connection, packets: list[bytes], cores: set[int]) -> None:
    pin(cores)
    asyncio.run(_client(conn, packets))


async def _client(conn: Connection, packets: list[bytes]) -> None:
    legs: dict[tuple[str, str], tuple[RTCPeerConnection, list[int]]] = {}

    async def offer(call_id: str, role: str) -> str:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        transceiver = pc.addTransceiver(SteadySource(packets), direction="sendrecv")
        received = [0]
        install_rtp_hook(transceiver.receiver, lambda packet: received.__setitem__(0, received[0] + 1))
        legs[call_id, role] = (pc, received)
        with host_addresses(["127.0.0.1"]):
            await pc.setLocalDescription(await pc.createOffer())
        return pc.localDescription.sdp

    async def answer(call_id: str, role: str, sdp: str) -> None:
        await legs[call_id, role][0].setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    async def counts() -> dict[str, Any]:
        received = {f"{c}/{r}": n[0] for (c, r), (_, n) in legs.items()}
        return {"cpu": time.process_time(), "received": received}

    async def close_calls(call_ids: list[str]) -> None:
        doomed = [key for key in legs if key[0] in call_ids]
        await asyncio.gather(*(legs.pop(key)[0].close() for key in doomed))

    await serve_pipe(conn, {f.__name__: f for f in (offer, answer, counts, close_calls)})  # type: ignore[arg-type]


# The orchestrator -----------------------------------------------------------------------------------------
class Bench:
    def __init__(self, server: Connection, client: Connection, window: float, warmup: float) -> None:
        self.server, self.client = server, client
        self.window, self.warmup = window, warmup

    def start_calls(self, call_ids: list[str]) -> None:
        for call_id in call_ids:
            for role in ("agent", "customer"):
                offer = request(self.client, "offer", call_id, role)
                answer = request(self.server, "add_leg", call_id, role, offer)
                request(self.client, "answer", call_id, role, answer)
            request(self.server, "connect", call_id)

    def end_calls(self, call_ids: list[str]) -> list[float]:
        ready = request(self.server, "end_calls", call_ids)
        request(self.client, "close_calls", call_ids)
        return list(ready)

    def level(self, calls: int) -> dict[str, Any]:
        call_ids = [f"n{calls}-{index}" for index in range(calls)]
        before = request(self.server, "mark")
        self.start_calls(call_ids)
        time.sleep(self.warmup)
        server0, client0 = request(self.server, "mark"), request(self.client, "counts")
        time.sleep(self.window)
        server1, client1 = request(self.server, "mark"), request(self.client, "counts")
        ready = self.end_calls(call_ids)
        cpu = server1["cpu"] - server0["cpu"]
        core_busy = (server1["core"][0] - server0["core"][0]) / max(
            1, server1["core"][1] - server0["core"][1]
        )
        return {
            "calls": calls,
            "cpu_per_call_min": cpu / (calls * self.window / 60),
            "engine_busy": cpu / self.window,
            "core_busy": core_busy,
            "client_busy": (client1["cpu"] - client0["cpu"]) / self.window,
            "client_rates": self.rates(client0["received"], client1["received"], call_ids),
            "engine_rates": self.rates(server0["received"], server1["received"], call_ids),
            "rss_per_call": (server1["rss"] - before["rss"]) / calls,
            "recording_lag": (server0["lag"], server1["lag"]),
            "ready_max": max(ready),
        }

    def rates(
        self, before: dict[str, int], after: dict[str, int], call_ids: list[str]
    ) -> tuple[float, float]:
        """(lowest, mean) packets per second per leg over the window."""
        calls = set(call_ids)
        rates = [
            (n - before.get(leg, 0)) / self.window for leg, n in after.items() if leg.split("/")[0] in calls
        ]
        return min(rates), statistics.mean(rates)

    def long_call(self, seconds: float) -> dict[str, float]:
        call_id = "long-0"
        self.start_calls([call_id])
        time.sleep(seconds - 0.5)
        snapshot = request(self.server, "snapshot", call_id)
        time.sleep(0.5)
        ready = self.end_calls([call_id])[0]
        batch, duration = request(self.server, "batch_finish", snapshot)
        return {"seconds": seconds, "ready": ready, "batch": batch, "batch_audio": duration}


COLUMNS = (
    "calls",
    "engine CPU-s / call-min",
    "engine process / its core (all processes)",
    "pkt/s per leg received by clients, min / mean",
    "pkt/s per leg into the engine, min / mean",
    "RSS / call",
    "recording lag (max), window start → end",
    "hang-up → MP3, slowest of the calls ended at once",
    "client process",
)


def table_row(row: dict[str, Any]) -> str:
    (client_min, client_mean), (engine_min, engine_mean) = row["client_rates"], row["engine_rates"]
    cells = [
        str(row["calls"]),
        f"{row['cpu_per_call_min']:.2f}",
        f"{row['engine_busy']:.0%} / {row['core_busy']:.0%}",
        f"{client_min:.1f} / {client_mean:.1f}",
        f"{engine_min:.1f} / {engine_mean:.1f}",
        f"{row['rss_per_call'] / 1e6:.1f} MB",
        "{:.1f} → {:.1f} s".format(*row["recording_lag"]),
        f"{row['ready_max']:.2f} s",
        f"{row['client_busy']:.0%}",
    ]
    return "| " + " | ".join(cells) + " |"


def report(
    args: argparse.Namespace, how: str, rows: list[dict[str, Any]], long: dict[str, float] | None
) -> None:
    now = datetime.datetime.now().astimezone()
    lines = [
        f"## Media engine benchmark ({now:%Y-%m-%d %H:%M %Z})",
        "",
        f"- command: `{shlex.join([Path(sys.executable).name, *sys.argv])}`",
        f"- machine: {machine()}, av {av.__version__}; load average before the run {args.load_before}",
        f"- engine process pinned to core {args.server_core}; the client process on the other core(s)",
        f"- client legs: aiortc peers sending {how}; they count received packets through the RTP hook",
        f"- recording on for every call (background mix every 5 s); {args.window:.0f} s window after "
        f"{args.warmup:.0f} s warm-up per level",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---:|" * len(COLUMNS),
        *map(table_row, rows),
        "",
    ]
    passing = [row["calls"] for row in rows if row["client_rates"][0] >= 48]
    keeping_up = [
        row["calls"] for row in rows if row["calls"] in passing and row["recording_lag"][1] <= LAG_OK
    ]
    lines += [
        f"- highest level where every leg receives ≥ 48 packets/s: **{max(passing, default=0)} calls**; "
        f"where the background mix also keeps up (lag ≤ {LAG_OK:.0f} s): "
        f"**{max(keeping_up, default=0)} calls**",
        "- recording lag: seconds of a call not yet mixed into its MP3, i.e. what end_call still has to do",
    ]
    mp3 = args.mp3_result
    lines.append(
        f"- MP3 encoding (resample 48→16 kHz + LAME 48 kbit/s stereo) of {args.mp3_seconds:.0f} s of "
        f"two-voice audio: {mp3:.2f} s = **{args.mp3_seconds / mp3:.0f}× realtime** (engine's pinned core)"
    )
    if long is not None:
        lines.append(
            f"- a {long['seconds']:.0f} s call: end_call → MP3 ready in **{long['ready']:.2f} s** "
            f"(background mixing); the same legs mixed from scratch, as crash recovery does (decode + align "
            f"+ resample + encode): {long['batch']:.2f} s = "
            f"{long['batch_audio'] / long['batch']:.0f}× realtime"
        )
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--levels", default="1,10,20,30,40,50,60,70", help="concurrent calls to measure (comma list)"
    )
    parser.add_argument("--window", type=float, default=20.0, help="measurement window per level (s)")
    parser.add_argument("--warmup", type=float, default=3.0, help="settling time before each window (s)")
    parser.add_argument(
        "--long-call", type=float, default=300.0, help="length of the hang-up test call (s); 0 skips"
    )
    parser.add_argument(
        "--mp3-seconds", type=float, default=300.0, help="audio length for the MP3 speed test"
    )
    parser.add_argument("--server-core", type=int, default=0, help="the core the engine process is pinned to")
    args = parser.parse_args()
    args.load_before = " ".join(f"{value:.2f}" for value in os.getloadavg())
    packets, how = speech_packets()
    rows = []
    for calls in (int(level) for level in args.levels.split(",")):
        with fresh_processes(args, packets) as bench:  # each level starts from a clean engine process
            rows.append(bench.level(calls))
        print(f"{calls} calls: {rows[-1]}", file=sys.stderr, flush=True)
    with fresh_processes(args, packets) as bench:
        long = bench.long_call(args.long_call) if args.long_call > 0 else None
        args.mp3_result = request(bench.server, "mp3_speed", args.mp3_seconds)
    report(args, how, rows, long)


@contextlib.contextmanager
def fresh_processes(args: argparse.Namespace, packets: list[bytes]) -> Iterator[Bench]:
    """An engine process pinned to its core and a client process on the others, warmed up by one call."""
    cores = set(os.sched_getaffinity(0))
    client_cores = cores - {args.server_core} or cores
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as workdir:
        server_conn, server_end = ctx.Pipe()
        client_conn, client_end = ctx.Pipe()
        processes = [
            ctx.Process(target=server_main, args=(server_end, workdir, {args.server_core}), daemon=True),
            ctx.Process(target=client_main, args=(client_end, packets, client_cores), daemon=True),
        ]
        for process in processes:
            process.start()
        bench = Bench(server_conn, client_conn, args.window, args.warmup)
        bench.start_calls(["warm-up"])  # imports, tone encoding, first allocations: not a level's cost
        time.sleep(2)
        bench.end_calls(["warm-up"])
        try:
            yield bench
        finally:
            for conn in (server_conn, client_conn):
                request(conn, "quit")
            for process in processes:
                process.join(30)


if __name__ == "__main__":
    main()
