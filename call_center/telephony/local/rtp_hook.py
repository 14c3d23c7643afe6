"""Everything that reaches into aiortc/aioice internals, in one place.

aiortc has no public hook for raw RTP, and aioice no setting for which local addresses it offers. Both are
worked around here, and `check_internals()` says loudly, by name, what moved if a new version breaks the
assumptions. aiortc is pinned exactly (1.16.0) for this reason: upgrade it on purpose, with the guard test.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

import aioice.ice
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpreceiver import RTCRtpReceiver, StreamStatistics
from aiortc.rtp import RtpPacket

OPUS_RATE = 48000
# RTCRtpReceiver's name-mangled fields the hook shares with aiortc's own RTCP report task.
_CODECS = "_RTCRtpReceiver__codecs"
_STREAMS = "_RTCRtpReceiver__remote_streams"


class AiortcInternalsChanged(RuntimeError):
    """A private aiortc/aioice detail the media engine relies on is gone or different."""


class _DummyTransport:
    state = "new"
    _stats_id = "transport"

    def _get_stats(self) -> dict[str, Any]:
        return {}


def check_internals() -> None:
    """Raise AiortcInternalsChanged naming the first private attribute that moved."""
    params = list(inspect.signature(RTCRtpReceiver._handle_rtp_packet).parameters)
    if params != ["self", "packet", "arrival_time_ms"]:
        raise AiortcInternalsChanged(
            f"RTCRtpReceiver._handle_rtp_packet{tuple(params)} changed its signature"
        )
    receiver = RTCRtpReceiver("audio", _DummyTransport())  # type: ignore[arg-type]
    for name in (_CODECS, _STREAMS):
        if not isinstance(receiver.__dict__.get(name), dict):
            raise AiortcInternalsChanged(f"RTCRtpReceiver.{name} is no longer a dict set in __init__")
    if not isinstance(receiver.__dict__.get("_enabled"), bool):
        raise AiortcInternalsChanged("RTCRtpReceiver._enabled is no longer a bool set in __init__")
    if not callable(getattr(StreamStatistics, "add", None)):
        raise AiortcInternalsChanged("aiortc.rtcrtpreceiver.StreamStatistics.add is gone")
    _require_call(
        RTCDtlsTransport._handle_rtp_data, "._handle_rtp_packet(", "RTCDtlsTransport._handle_rtp_data"
    )
    if list(inspect.signature(aioice.ice.get_host_addresses).parameters) != ["use_ipv4", "use_ipv6"]:
        raise AiortcInternalsChanged(
            "aioice.ice.get_host_addresses(use_ipv4, use_ipv6) changed its signature"
        )
    gather = aioice.ice.Connection.gather_candidates
    _require_call(gather, "get_host_addresses(", "aioice.ice.Connection.gather_candidates")


def _require_call(function: Callable[..., Any], call: str, where: str) -> None:
    # The hook and the address override only work if aiortc/aioice still call through these names.
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError) as exc:
        raise AiortcInternalsChanged(f"cannot read the source of {where} to check it calls {call}") from exc
    if call not in source:
        raise AiortcInternalsChanged(f"{where} no longer calls {call}...)")


def install_rtp_hook(receiver: RTCRtpReceiver, on_packet: Callable[[RtpPacket], None]) -> None:
    """Deliver each inbound Opus RTP packet to `on_packet`, skipping aiortc's jitter buffer and decoder.

    The receiver's RTCP statistics are still fed (the same StreamStatistics aiortc's RTCP task reads), so the
    receiver reports the browser gets stay correct. aiortc's decoder thread is still started by
    `receive()`; it just never gets work.
    """
    try:
        codecs: dict[int, Any] = receiver.__dict__[_CODECS]
        streams: dict[int, StreamStatistics] = receiver.__dict__[_STREAMS]
    except KeyError as exc:
        raise AiortcInternalsChanged(f"RTCRtpReceiver.{exc.args[0]} is gone") from exc

    async def handle_rtp_packet(packet: RtpPacket, arrival_time_ms: int) -> None:
        if not receiver._enabled:
            return
        codec = codecs.get(packet.payload_type)
        if codec is None:
            return
        stream = streams.get(packet.ssrc)
        if stream is None:
            stream = streams[packet.ssrc] = StreamStatistics(codec.clockRate)
        stream.add(packet)
        if packet.payload and codec.mimeType.lower() == "audio/opus":
            on_packet(packet)

    # An instance attribute shadows the method: the DTLS transport looks it up on the receiver per packet.
    receiver._handle_rtp_packet = handle_rtp_packet  # type: ignore[method-assign]


class RtpUnwrapper:
    """Extends 32-bit RTP timestamps to a monotonic-ish int, continuous across SSRC changes."""

    __slots__ = ("ssrc", "last_raw", "last", "last_time")

    def __init__(self) -> None:
        self.ssrc: int | None = None
        self.last_raw = 0
        self.last = 0
        self.last_time = 0.0

    def unwrap(self, ssrc: int, timestamp: int, now: float) -> int:
        if ssrc != self.ssrc:
            # A new source starts at a random timestamp: carry on from the old one by the time that passed.
            if self.ssrc is None:
                self.last = timestamp
            else:
                self.last += max(1, round((now - self.last_time) * OPUS_RATE))
            self.ssrc = ssrc
        else:
            # Signed 32-bit difference: a reordered packet steps back a little instead of jumping ~2**32.
            self.last += ((timestamp - self.last_raw + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        self.last_raw = timestamp
        self.last_time = now
        return self.last


# aioice offers every interface address except 127.0.0.1, and has no option to choose. It looks the list up
# through the module-level `get_host_addresses` while gathering (inside setLocalDescription), so we wrap that
# one function once: inside `host_addresses(...)` (a context variable, so it follows the asyncio task that
# gathers and nothing else) it returns the configured media hosts; everywhere else, aioice's own answer.
_MEDIA_HOSTS: ContextVar[tuple[str, ...] | None] = ContextVar("media_hosts", default=None)
_aioice_get_host_addresses = aioice.ice.get_host_addresses


def _get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    hosts = _MEDIA_HOSTS.get()
    if hosts is None:
        return _aioice_get_host_addresses(use_ipv4, use_ipv6)
    return [host for host in hosts if (use_ipv6 if ":" in host else use_ipv4)]


@contextlib.contextmanager
def host_addresses(hosts: Sequence[str]) -> Iterator[None]:
    """ICE gathering inside this block offers exactly `hosts` (empty: aioice's default discovery)."""
    aioice.ice.get_host_addresses = _get_host_addresses  # idempotent
    token = _MEDIA_HOSTS.set(tuple(hosts) if hosts else None)
    try:
        yield
    finally:
        _MEDIA_HOSTS.reset(token)
