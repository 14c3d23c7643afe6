"""PacketTrack: outgoing RTP timestamps follow the source, and the wall clock when the source changes."""

from __future__ import annotations

import av
import numpy as np
import pytest

from call_center.telephony.local.tones import FRAME, RATE, PacketTrack, sound_packets


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_forwarded_packets_keep_their_spacing_and_reanchor_on_a_new_source() -> None:
    clock = FakeClock()
    track = PacketTrack(clock=clock)
    sent: list[tuple[int, bytes]] = []
    track.tap = lambda pts, payload: sent.append((pts, payload))
    track.forward()

    track.push(1, 5000, b"a", clock())
    track.push(1, 5000 + 3 * FRAME, b"b", clock())  # two packets lost: the gap stays
    track.push(1, 5000 + 2 * FRAME, b"c", clock())  # a late one goes back in its place
    packets = [await track.recv() for _ in range(3)]
    clock.now += 2.0
    track.push(2, 4_000_000_000, b"d", clock())  # another source, random timestamps: wall clock again
    packets.append(await track.recv())

    assert [p.pts for p in packets] == [0, 3 * FRAME, 2 * FRAME, 2 * RATE]
    assert [bytes(p) for p in packets] == [b"a", b"b", b"c", b"d"]
    assert all(p.time_base == packets[0].time_base and p.time_base.denominator == RATE for p in packets)
    assert sent == [(p.pts, bytes(p)) for p in packets]
    assert track.packets_sent == 4


async def test_a_looped_sound_continues_the_timeline_and_ignores_forwarded_packets() -> None:
    clock = FakeClock()
    track = PacketTrack(clock=clock)
    track.forward()
    track.push(1, 777, b"talk", clock())
    assert (await track.recv()).pts == 0
    clock.now += 1.0
    track.play([b"x", b"y"])
    track.push(1, 777 + FRAME, b"dropped", clock())
    packets = [await track.recv() for _ in range(3)]  # paced at 20 ms by the real event loop
    assert [bytes(p) for p in packets] == [b"x", b"y", b"x"]
    assert [p.pts for p in packets] == [RATE, RATE + FRAME, RATE + 2 * FRAME]


async def test_a_sound_played_once_is_sent_in_full_from_the_first_packet_then_its_last_packet_repeats() -> (
    None
):
    """The recording notice an outbound call's customer hears: it starts with the first packet the leg
    really sends (a connection still being set up loses none of it), and `then` comes once, after it."""
    import asyncio

    clock = FakeClock()
    track = PacketTrack(clock=clock)
    over: list[str] = []
    track.play([b"beep", b"gap", b"beep", b"quiet"], then=lambda: over.append("over"))
    packets = [await track.recv() for _ in range(4)]
    assert over == []  # the last packet has only just gone out
    packets.append(await track.recv())
    await asyncio.sleep(0)
    assert over == ["over"]
    packets += [await track.recv() for _ in range(2)]
    assert [bytes(p) for p in packets] == [b"beep", b"gap", b"beep", b"quiet", b"quiet", b"quiet", b"quiet"]
    assert over == ["over"]  # once
    track.forward()  # the call: forwarding again
    track.push(1, 10, b"agent", clock())
    assert bytes(await track.recv()) == b"agent"


def test_tones_decode_to_what_they_should_sound_like() -> None:
    decoder = av.CodecContext.create("libopus", "r")
    decoder.layout = "mono"
    for name, expected, on in (("ringback", 425.0, 1.0), ("hold", 523.25, 0.7)):
        packets = sound_packets(name)  # type: ignore[arg-type]
        pcm = np.concatenate(
            [frame.to_ndarray()[0] for packet in packets for frame in decoder.decode(av.Packet(packet))]
        ).astype(np.float64)
        head = pcm[int(0.05 * RATE) : int(0.25 * RATE)]
        peak = np.fft.rfftfreq(len(head), 1 / RATE)[np.abs(np.fft.rfft(head)).argmax()]
        assert peak == pytest.approx(expected, abs=4), name
        assert np.sqrt(np.mean(pcm[int((on + 0.1) * RATE) :] ** 2)) < 30, f"{name} has a quiet part"
    assert len(sound_packets("silence")) == 1 and len(sound_packets("ringback")) * FRAME == 5 * RATE
