"""The aiortc/aioice internals the engine relies on (fail loudly when they move) and the RTP helpers."""

from __future__ import annotations

import aioice.ice
import aiortc
import pytest
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtp import RtpPacket

from call_center.telephony.local import rtp_hook
from call_center.telephony.local.rtp_hook import (
    AiortcInternalsChanged,
    RtpUnwrapper,
    check_internals,
    host_addresses,
    install_rtp_hook,
)

OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)
PCMU = RTCRtpCodecParameters(mimeType="audio/PCMU", clockRate=8000, channels=1, payloadType=0)


def test_aiortc_is_the_version_the_hook_was_written_for() -> None:
    assert aiortc.__version__ == "1.16.0", (
        "rtp_hook.py replaces the private RTCRtpReceiver._handle_rtp_packet of aiortc 1.16.0; re-check it "
        "against the new version's rtcrtpreceiver.py, then update this pin and requirements.txt together"
    )


def test_the_private_internals_the_hook_uses_are_still_there() -> None:
    check_internals()  # raises AiortcInternalsChanged naming the attribute that moved


def test_the_guard_names_what_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    original = RTCRtpReceiver.__init__

    def renamed(self: RTCRtpReceiver, kind: str, transport: object) -> None:
        original(self, kind, transport)  # type: ignore[arg-type]
        self.__dict__["_RTCRtpReceiver__codec_map"] = self.__dict__.pop("_RTCRtpReceiver__codecs")

    monkeypatch.setattr(RTCRtpReceiver, "__init__", renamed)
    with pytest.raises(AiortcInternalsChanged, match="_RTCRtpReceiver__codecs"):
        check_internals()


async def test_the_hook_hands_over_opus_packets_and_keeps_rtcp_statistics() -> None:
    receiver = RTCRtpReceiver("audio", rtp_hook._DummyTransport())  # type: ignore[arg-type]
    receiver.__dict__["_RTCRtpReceiver__codecs"].update({111: OPUS, 0: PCMU})
    seen: list[RtpPacket] = []
    install_rtp_hook(receiver, seen.append)

    for sequence, (payload_type, payload) in enumerate([(111, b"\x01opus"), (0, b"pcmu"), (99, b"?")]):
        packet = RtpPacket(
            payload_type=payload_type, sequence_number=sequence, timestamp=960 * sequence, ssrc=7
        )
        packet.payload = payload
        await receiver._handle_rtp_packet(packet, arrival_time_ms=0)

    assert [p.payload for p in seen] == [b"\x01opus"]  # not PCMU, not an unknown payload type
    stats = [s for s in (await receiver.getStats()).values() if s.type == "inbound-rtp"]
    assert [(s.ssrc, s.packetsReceived) for s in stats] == [(7, 2)]  # RTCP RRs count what we took
    receiver._enabled = False
    await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
    assert len(seen) == 1


def test_unwrapper_crosses_the_32_bit_wrap() -> None:
    unwrapper = RtpUnwrapper()
    values = [unwrapper.unwrap(5, ts, 0.0) for ts in (2**32 - 960, 0, 960)]
    assert values == [2**32 - 960, 2**32, 2**32 + 960]


def test_unwrapper_steps_back_for_a_reordered_packet_instead_of_jumping() -> None:
    unwrapper = RtpUnwrapper()
    values = [unwrapper.unwrap(5, ts, 0.0) for ts in (960, 2**32 - 960, 1920)]
    assert values == [960, -960, 1920]  # the late packet from before the wrap, then on again
    unwrapper = RtpUnwrapper()
    values = [unwrapper.unwrap(5, ts, 0.0) for ts in (0, 1920, 960, 2880)]
    assert values == [0, 1920, 960, 2880]


def test_unwrapper_continues_by_elapsed_time_when_the_source_changes() -> None:
    unwrapper = RtpUnwrapper()
    assert unwrapper.unwrap(1, 1000, 10.0) == 1000
    # A new SSRC (the browser reconnected) starts at a random timestamp: 2 s later on our clock.
    assert unwrapper.unwrap(2, 3_000_000_000, 12.0) == 1000 + 2 * 48000
    assert unwrapper.unwrap(2, 3_000_000_960, 12.02) == 1000 + 2 * 48000 + 960


def test_host_addresses_choose_what_aioice_offers_only_inside_the_block() -> None:
    with host_addresses(["127.0.0.1", "::1"]):
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1", "::1"]
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False) == ["127.0.0.1"]
    assert "127.0.0.1" not in aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False)


async def test_gathering_inside_the_block_offers_loopback() -> None:
    pc = aiortc.RTCPeerConnection(aiortc.RTCConfiguration(iceServers=[]))
    pc.addTransceiver("audio")
    with host_addresses(["127.0.0.1"]):
        await pc.setLocalDescription(await pc.createOffer())
    candidates = [line for line in pc.localDescription.sdp.splitlines() if line.startswith("a=candidate")]
    await pc.close()
    assert candidates and all(" 127.0.0.1 " in line for line in candidates)
