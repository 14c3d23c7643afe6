"""The local provider's media engine: browsers' WebRTC legs in, Opus packets forwarded between them, recorded.

Forward, do not transcode: inbound RTP is taken raw from aiortc (rtp_hook), appended to the leg's recording
file and handed to the PacketTrack of whoever hears it, which aiortc sends without encoding. Only a leg that
hears two or more others gets a mix (decode, sum, encode for that listener: mixer.py); the recording's
decoding runs a few seconds behind the call in a worker thread (recorder). All methods must be called from
the one event loop the engine runs on; it is not thread-safe.

What each leg hears is its *route*: a sound ("ringback", "hold", "silence"), "echo" (itself, delayed), or
the names of the legs it hears. The carrier sets routes for transfers and monitoring; `connect`, `play`
and `set_hold` are the two-party shorthands.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.rtp import RtpPacket

from call_center.telephony.local.mixer import Mixer
from call_center.telephony.local.recorder import (
    CallRecorder,
    Channel,
    RecordingFailure,
    RecordingResult,
    Role,
    channel_of,
    recover_orphans,
)
from call_center.telephony.local.rtp_hook import (
    RtpUnwrapper,
    check_internals,
    host_addresses,
    install_rtp_hook,
)
from call_center.telephony.local.tones import PacketTrack, Sound, sound_packets

__all__ = ["MediaEngine", "RecordingFailure", "RecordingResult", "Role", "recover_orphans"]

logger = logging.getLogger(__name__)

ECHO_DELAY = 0.2
MIX_INTERVAL = 5.0  # the recording's mix runs this often in the background ...
MIX_MARGIN = 2.0  # ... this far behind live, so late and reordered packets still find their place
_CALL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_ECHO_SOURCE = -1  # the echo line's "SSRC" in its timestamp unwrapper
_OTHER: dict[str, str] = {"agent": "customer", "customer": "agent"}
ECHO_LEG = "echo"  # the recording's name for what the echo line sends back (right channel)
Route = str | tuple[str, ...]
SOUNDS = ("ringback", "hold", "silence", "notice")
ONCE = frozenset({"notice"})  # sounds a leg hears once (then silence); the engine says when (on_played)


@dataclass(eq=False)
class _Leg:
    call: _Call
    role: str  # the leg's name: agent, customer, or e.g. agent2 / supervisor
    pc: RTCPeerConnection
    track: PacketTrack
    created: float
    tone: Sound | None = None
    channel: Channel = "left"
    hears: Route = "silence"  # a sound, "echo" (itself) or the legs it hears
    targets: tuple[Any, ...] = ()  # where this leg's packets go: listeners' tracks, the mixer
    recorded: bool = True
    packets_in: int = 0
    last_rx: float = 0.0
    closing: bool = False


@dataclass(eq=False)
class _Call:
    call_id: str
    start: float
    recorder: CallRecorder
    ready: asyncio.Future[None]
    legs: dict[str, _Leg] = field(default_factory=dict)
    unwrappers: dict[str, RtpUnwrapper] = field(default_factory=dict)
    mode: Literal["bridge", "echo"] | None = None
    routes: dict[str, Route] = field(default_factory=dict)  # set by the carrier; defaults otherwise
    unrecorded: frozenset[str] = frozenset()  # legs nobody on the customer's side hears (a listener)
    mixer: Mixer | None = None
    held: bool = False
    ended: bool = False
    mixing: bool = False
    # Like Twilio's record-from-answer: nothing is recorded until the call is connected (answered); the
    # recording's clock starts there.
    recording: bool = False
    mixed_at: float = 0.0


def _hears(call: _Call, leg: _Leg) -> Route:
    if leg.tone is not None:
        return leg.tone
    if leg.role in call.routes:
        return call.routes[leg.role]
    if call.held:
        return "hold" if leg.role == "customer" else "silence"
    if call.mode == "bridge" and leg.role in _OTHER:
        return (_OTHER[leg.role],)
    return "echo" if call.mode == "echo" and leg.role == "agent" else "silence"


def _unwrapper(call: _Call, name: str) -> RtpUnwrapper:
    found = call.unwrappers.get(name)
    if found is None:
        found = call.unwrappers[name] = RtpUnwrapper()
    return found


class MediaEngine:
    """Peer connections, forwarding, tones, the media watchdog and recordings of local calls."""

    def __init__(
        self,
        *,
        legs_dir: Path,
        media_hosts: Sequence[str],
        on_leg_ended: Callable[[str, str, str], Awaitable[None]] | None = None,
        inactivity_timeout: float = 4.0,
        first_packet_timeout: float = 10.0,
        mix_interval: float | None = MIX_INTERVAL,
    ) -> None:
        check_internals()  # fail at start-up, naming what moved, rather than on the first call
        self.legs_dir = legs_dir
        self.media_hosts = [media_hosts] if isinstance(media_hosts, str) else list(media_hosts)
        self.on_leg_ended = on_leg_ended
        self.inactivity_timeout = inactivity_timeout
        self.first_packet_timeout = first_packet_timeout
        self.mix_interval = mix_interval
        self.recording_path: Callable[[str], Path] = lambda call_id: legs_dir.parent / f"{call_id}.mp3"
        # (call, leg, sound): a sound of ONCE was heard in full (the carrier ends an outbound call's notice)
        self.on_played: Callable[[str, str, Sound], None] | None = None
        self._calls: dict[str, _Call] = {}
        self._pcs: set[RTCPeerConnection] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._watchdog: asyncio.Task[None] | None = None
        self._sounds: dict[str, tuple[bytes, ...]] = {}
        # Background mixing is one thread (it only has to keep up); hang-ups get their own two threads so a
        # finished call never queues behind live calls' mixing.
        self._mixer = ThreadPoolExecutor(1, thread_name_prefix="media-mix")
        self._finisher = ThreadPoolExecutor(2, thread_name_prefix="media-finish")
        self._closed = False
        self._totals = {"legs": 0, "packets_in": 0, "packets_out": 0, "legs_timed_out": 0}

    # Legs ------------------------------------------------------------------------------------------------
    async def add_leg(
        self, call_id: str, role: str, offer_sdp: str, *, channel: Channel | None = None
    ) -> str:
        """Answer a browser's non-trickle offer; returns the answer SDP (candidates included).

        `role` names the leg ("agent", "customer", "agent2", "supervisor" ...); its recording goes to
        `channel` (by default: the customer's side right, everyone else left). Inbound audio is recorded
        once the call is connected (`connect`), which also starts the recording's clock. A second leg of
        the same name replaces the first (recorded into the same file)."""
        if self._closed:
            raise RuntimeError("the media engine is closed")
        if not _CALL_ID.fullmatch(role):
            raise ValueError(f"unusable leg name {role!r}")
        await self._prepare()
        call = self._calls.get(call_id) or self._new_call(call_id)
        try:
            await asyncio.shield(call.ready)
        except Exception:
            self._calls.pop(call_id, None)  # its directory could not be made: no call
            raise
        old = call.legs.get(role)
        if old is not None:
            await self._close_leg(old)
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # no STUN: the media hosts are the addresses
        self._pcs.add(pc)
        leg = call.legs[role] = _Leg(
            call, role, pc, PacketTrack(), created=time.monotonic(), channel=channel or channel_of(role)
        )
        call.recorder.add_leg(role, leg.channel)
        self._totals["legs"] += 1
        try:
            answer = await self._negotiate(leg, offer_sdp)
            if call.ended:
                raise RuntimeError(f"call {call_id} ended while its {role} leg was being added")
        except Exception:
            logger.debug("call %s: %s offer refused", call_id, role, exc_info=True)
            await self._close_leg(leg)
            if not call.legs and not call.ended:
                await self._drop_call(call)
            raise
        self._route(call)
        logger.debug("call %s: %s leg added", call_id, role)
        return answer

    async def _negotiate(self, leg: _Leg, offer_sdp: str) -> str:
        pc = leg.pc
        # Our own transceiver, created before the offer is applied, so the Opus-only preference counts
        # (codecs are negotiated in setRemoteDescription): tones are Opus and so is the recording.
        transceiver = pc.addTransceiver(leg.track, direction="sendrecv")
        capabilities = RTCRtpSender.getCapabilities("audio")
        transceiver.setCodecPreferences(
            [c for c in capabilities.codecs if c.mimeType.lower() == "audio/opus"]
        )
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        if transceiver.mid is None:
            raise ValueError("the offer has no audio")
        install_rtp_hook(transceiver.receiver, partial(self._on_rtp, leg))
        pc.on("connectionstatechange", partial(self._on_state, leg))
        with host_addresses(self.media_hosts):
            await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    def _new_call(self, call_id: str) -> _Call:
        if not _CALL_ID.fullmatch(call_id):
            raise ValueError(f"unusable call id {call_id!r}")  # it names a directory and a file
        recorder = CallRecorder(self.legs_dir / call_id, self.recording_path(call_id))
        ready = asyncio.get_running_loop().run_in_executor(None, recorder.open)
        call = self._calls[call_id] = _Call(call_id, time.monotonic(), recorder, ready)
        return call

    async def _drop_call(self, call: _Call) -> None:
        call.ended = True
        self._calls.pop(call.call_id, None)
        await asyncio.get_running_loop().run_in_executor(self._finisher, call.recorder.finish, 0.0)

    def _on_rtp(self, leg: _Leg, packet: RtpPacket) -> None:
        # Per packet: keep it to attribute updates, one buffered append and a deque append per listener.
        now = time.monotonic()
        leg.packets_in += 1
        leg.last_rx = now
        call = leg.call
        timestamp = _unwrapper(call, leg.role).unwrap(packet.ssrc, packet.timestamp, now)
        payload = packet.payload
        if leg.recorded and call.recording:
            call.recorder.write(leg.role, now - call.start, timestamp, payload)
        for track in leg.targets:
            track.push(id(leg), timestamp, payload, now)

    def _on_state(self, leg: _Leg) -> None:
        state = leg.pc.connectionState
        logger.debug("call %s: %s connection %s", leg.call.call_id, leg.role, state)
        if state in ("failed", "closed") and not leg.closing:
            self._spawn(self._leg_died(leg, f"connection-{state}"))

    async def _leg_died(self, leg: _Leg, reason: str) -> None:
        if leg.closing:
            return
        logger.debug("call %s: %s leg ended by itself (%s)", leg.call.call_id, leg.role, reason)
        await self._close_leg(leg)
        if self.on_leg_ended is not None:
            try:
                await self.on_leg_ended(leg.call.call_id, leg.role, reason)
            except Exception:
                logger.exception("call %s: on_leg_ended failed", leg.call.call_id)

    async def _close_leg(self, leg: _Leg) -> None:
        if leg.closing:
            return
        leg.closing = True
        call = leg.call
        if call.legs.get(leg.role) is leg:
            del call.legs[leg.role]
            self._route(call)
        self._totals["packets_in"] += leg.packets_in
        self._totals["packets_out"] += leg.track.packets_sent
        leg.track.stop()
        try:
            await leg.pc.close()
        finally:
            self._pcs.discard(leg.pc)

    async def end_leg(self, call_id: str, role: str) -> None:
        """Hang up one leg (on_leg_ended is not called); the call and its recording go on."""
        call = self._calls.get(call_id)
        leg = call.legs.get(role) if call else None
        if leg is not None:
            await self._close_leg(leg)

    # What each leg hears -------------------------------------------------------------------------------
    def connect(self, call_id: str, mode: Literal["bridge", "echo"]) -> None:
        """bridge: agent and customer hear each other. echo: the agent hears itself ~0.2 s later, and the
        recording's right channel is what the echo line sent. Stops any tone."""
        call = self._call(call_id)
        call.mode = mode
        if not call.recording:
            call.start, call.recording = time.monotonic(), True
        for leg in call.legs.values():
            leg.tone = None
        self._route(call)

    def record(self, call_id: str) -> None:
        """Start the recording's clock without connecting anyone (a voicemail: the caller alone)."""
        call = self._call(call_id)
        if not call.recording:
            call.start, call.recording = time.monotonic(), True

    async def load_sound(self, name: Sound) -> None:
        """Have a sound ready to play (encoded once per process, off the event loop)."""
        if name not in self._sounds:
            self._sounds[name] = await asyncio.to_thread(sound_packets, name)

    def play(self, call_id: str, role: str, sound: Sound | None) -> None:
        """Loop a pre-encoded tone to a leg instead of what it would hear; None stops it."""
        call = self._call(call_id)
        leg = call.legs.get(role)
        if leg is not None:
            leg.tone = sound
            self._route(call)

    def set_hold(self, call_id: str, on: bool) -> None:
        """On hold neither side hears the other: the customer hears the hold tone, the agent silence. The
        recording goes on; the customer's channel is silent while held."""
        call = self._call(call_id)
        call.held = on
        for leg in call.legs.values():
            leg.tone = None
        self._route(call)

    def _call(self, call_id: str) -> _Call:
        call = self._calls.get(call_id)
        if call is None:
            raise KeyError(f"no call {call_id!r} in progress")
        return call

    def set_routes(
        self, call_id: str, routes: dict[str, Route], *, unrecorded: frozenset[str] = frozenset()
    ) -> None:
        """Who hears what, for the legs named (others keep the two-party defaults). A route is a sound,
        "echo", or the names of the legs heard; two or more names make a mix for that leg alone.
        `unrecorded` legs are left out of the recording (a listening or whispering supervisor)."""
        call = self._call(call_id)
        call.unrecorded = unrecorded
        for name, route in routes.items():
            if isinstance(route, str) and route not in (*SOUNDS, "echo"):
                raise ValueError(f"unknown route {route!r} for {name}")
        call.routes = dict(routes)
        for leg in call.legs.values():
            leg.tone = None
        self._route(call)

    def _route(self, call: _Call) -> None:
        """Set what each leg hears (its track) and who hears it (its targets)."""
        legs = call.legs
        targets: dict[str, list[Any]] = {name: [] for name in legs}
        mixes: dict[str, tuple[tuple[str, ...], Any]] = {}
        for role, leg in legs.items():
            leg.hears = route = _hears(call, leg)
            # Who hears only a hold tone is not heard by anyone either: not recorded (as Twilio's hold).
            leg.recorded = not (
                route == "hold" or role in call.unrecorded or (call.mode == "echo" and role != "agent")
            )
            leg.track.tap = None
            if route == "echo":
                leg.track.forward(ECHO_DELAY)
                leg.track.tap = partial(self._echo_sent, call)
                targets[role].append(leg.track)
            elif isinstance(route, str):
                then = partial(self._played, call.call_id, role, route) if route in ONCE else None
                leg.track.play(self._sounds[route], then)
            else:
                sources = tuple(s for s in route if s in legs and s != role)
                if not sources:
                    leg.track.play(self._sounds["silence"])
                    continue
                leg.track.forward()
                if len(sources) == 1:
                    targets[sources[0]].append(leg.track)
                else:
                    mixes[role] = (sources, leg.track)
        if mixes and call.mixer is None:
            call.mixer = Mixer(call.call_id)
        if call.mixer is not None:
            call.mixer.configure(mixes)
            for source, sink in call.mixer.inputs.items():
                if source in targets:
                    targets[source].append(sink)
            if not call.mixer.active:
                call.mixer = None
        for role, leg in legs.items():
            leg.targets = tuple(targets[role])

    def _played(self, call_id: str, role: str, sound: Sound) -> None:
        """A sound of ONCE has been sent to a leg in full: tell the carrier (on_played)."""
        if self.on_played is not None and call_id in self._calls:
            self.on_played(call_id, role, sound)

    def _echo_sent(self, call: _Call, pts: int, payload: bytes) -> None:
        now = time.monotonic()
        timestamp = _unwrapper(call, ECHO_LEG).unwrap(_ECHO_SOURCE, pts & 0xFFFFFFFF, now)
        if call.recording:
            call.recorder.add_leg(ECHO_LEG, "right")
            call.recorder.write(ECHO_LEG, now - call.start, timestamp, payload)

    # Ending ----------------------------------------------------------------------------------------------
    async def end_call(self, call_id: str) -> RecordingResult | RecordingFailure | None:
        """Close every leg and finish the recording in a thread; None if nothing was recorded (or no call).

        The MP3 is written atomically (temp file, fsync, rename) to `recording_path(call_id)`, resolved
        when the call's first leg was added."""
        call = self._calls.pop(call_id, None)
        if call is None:
            return None
        call.ended = True
        if call.mixer is not None:
            call.mixer.stop()
            call.mixer = None
        end = time.monotonic() - call.start if call.recording else 0.0
        await asyncio.gather(*(self._close_leg(leg) for leg in list(call.legs.values())))
        try:
            await asyncio.shield(call.ready)
        except Exception as exc:
            return RecordingFailure(f"the recording could not be started: {exc}")
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        result = await loop.run_in_executor(self._finisher, call.recorder.finish, end)
        logger.debug("call %s ended: %s (finished in %.3f s)", call_id, result, time.perf_counter() - started)
        return result

    async def close(self) -> None:
        """End every call (finishing their recordings) and release everything."""
        self._closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        await asyncio.gather(*(self.end_call(call_id) for call_id in list(self._calls)))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*(pc.close() for pc in list(self._pcs)), return_exceptions=True)
        self._pcs.clear()
        await asyncio.to_thread(self._mixer.shutdown)
        await asyncio.to_thread(self._finisher.shutdown)

    def flush(self) -> None:
        """Write every live call's buffered recording to disk (before an abrupt exit)."""
        for call in self._calls.values():
            try:
                call.recorder.flush()
            except Exception:  # one file's trouble must not stop the others from being flushed
                logger.exception("call %s: flushing the recording failed", call.call_id)

    # Housekeeping: tones, watchdog, flushing, background mixing ------------------------------------
    async def _prepare(self) -> None:
        if not self._sounds:
            names = ("ringback", "hold", "queue", "queue-notice", "closed", "silence", "notice")
            packets = await asyncio.to_thread(lambda: [sound_packets(name) for name in names])
            self._sounds.update(zip(names, packets, strict=True))
        if self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch(), name="media-watchdog")

    async def _watch(self) -> None:
        # Killed browsers are noticed here, within inactivity_timeout + one tick: ICE consent takes ~30 s.
        tick = min(0.5, self.inactivity_timeout / 4)
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            for call in list(self._calls.values()):
                try:
                    self._check_call(call, now)
                except Exception:  # one call's trouble must not stop the watchdog for the others
                    logger.exception("call %s: watchdog check failed", call.call_id)

    def _check_call(self, call: _Call, now: float) -> None:
        for leg in list(call.legs.values()):
            if self._silent(leg, now):
                self._totals["legs_timed_out"] += 1
                self._spawn(self._leg_died(leg, "media-timeout"))
        try:
            call.recorder.flush()  # a crash loses at most one tick of recording
        except OSError:
            logger.exception("call %s: writing the recording failed", call.call_id)
        self._maybe_mix(call, now)

    def _silent(self, leg: _Leg, now: float) -> bool:
        if leg.closing:
            return False
        if leg.packets_in:
            return now - leg.last_rx > self.inactivity_timeout
        return now - leg.created > self.first_packet_timeout

    def _maybe_mix(self, call: _Call, now: float) -> None:
        if not call.recording or self.mix_interval is None or call.mixing:
            return
        if not call.ready.done() or call.ready.exception():
            return
        if now - call.mixed_at < self.mix_interval:
            return
        horizon = now - call.start - MIX_MARGIN
        if horizon <= 0:
            return
        call.mixing, call.mixed_at = True, now
        future = asyncio.get_running_loop().run_in_executor(self._mixer, call.recorder.advance, horizon)

        def done(future: asyncio.Future[None]) -> None:
            call.mixing = False
            if not future.cancelled() and future.exception() is not None:
                logger.error("call %s: background mixing failed", call.call_id, exc_info=future.exception())

        future.add_done_callback(done)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # Introspection ---------------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Per call and leg: packets in/out, seconds since the last inbound packet; engine totals."""
        now = time.monotonic()
        calls: dict[str, dict[str, Any]] = {
            call_id: {
                "mode": call.mode,
                "held": call.held,
                "mixing": call.mixer is not None,
                "duration": round(now - call.start, 3),
                # Seconds of the call not yet in the MP3 (what end_call still has to mix): stays under
                # mix_interval + MIX_MARGIN while the mixer keeps up.
                "recording_lag": round(now - call.start - call.recorder.mixed_seconds, 1),
                "legs": {role: _leg_stats(leg, now) for role, leg in call.legs.items()},
            }
            for call_id, call in self._calls.items()
        }
        live = [_leg_stats(leg, now) for call in self._calls.values() for leg in call.legs.values()]
        totals = dict(self._totals)
        totals["packets_in"] += sum(leg["packets_in"] for leg in live)
        totals["packets_out"] += sum(leg["packets_out"] for leg in live)
        totals.update(calls=len(calls), live_legs=len(live), peer_connections=len(self._pcs))
        return {"calls": calls, "totals": totals}


def _leg_stats(leg: _Leg, now: float) -> dict[str, Any]:
    return {
        "packets_in": leg.packets_in,
        "packets_out": leg.track.packets_sent,
        "last_packet_age": round(now - leg.last_rx, 3) if leg.packets_in else None,
        "state": leg.pc.connectionState,
        "hears": leg.hears if isinstance(leg.hears, str) else list(leg.hears),
    }
