"""The recording pipeline without any network: leg files, the aligner, the mix, the MP3, crash recovery."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from call_center.telephony.local.recorder import (
    FINISHED,
    MAX_SKEW,
    MP3_RATE,
    CallRecorder,
    LegAligner,
    LegReader,
    LegWriter,
    RecordingFailure,
    RecordingResult,
    Role,
    recover_orphans,
)
from call_center.telephony.local.rtp_hook import RtpUnwrapper
from call_center.telephony.local.tones import FRAME, RATE, encode_opus


def tone(freq: float, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return 0.3 * np.sin(2 * np.pi * freq * t)


def decode_mp3(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        pcm = np.concatenate([frame.to_ndarray() for frame in container.decode(stream)], axis=1)
        return pcm, stream.rate


def level(channel: np.ndarray, rate: int, start: float, end: float) -> float:
    segment = channel[int(start * rate) : int(end * rate)]
    return float(np.sqrt(np.mean(segment**2)))


def dominant(channel: np.ndarray, rate: int, start: float, end: float) -> float:
    segment = channel[int(start * rate) : int(end * rate)]
    spectrum = np.abs(np.fft.rfft(segment))
    return float(np.fft.rfftfreq(len(segment), 1 / rate)[spectrum.argmax()])


def write_leg(
    recorder: CallRecorder, role: Role, packets: list[bytes], start: float, ts0: int = 12345
) -> None:
    for index, payload in enumerate(packets):
        recorder.write(role, start + index * 0.02, ts0 + index * FRAME, payload)


# Aligner ---------------------------------------------------------------------------------------------


def test_aligner_places_the_first_packet_on_arrival_and_the_rest_by_timestamp() -> None:
    aligner = LegAligner()
    assert aligner.place(1.5, 1000) == round(1.5 * RATE)
    # Jitter in arrival does not move audio: the timestamp decides.
    assert aligner.place(1.5 + 0.037, 1000 + FRAME) == round(1.5 * RATE) + FRAME


def test_aligner_keeps_gaps_as_gaps() -> None:
    aligner = LegAligner()
    first = aligner.place(0.0, 5000)
    # Three seconds without packets (a muted mic, silence suppression): the timestamps say so.
    assert aligner.place(3.02, 5000 + 151 * FRAME) - first == 151 * FRAME


def test_aligner_puts_a_reordered_packet_back_in_its_place() -> None:
    aligner = LegAligner()
    positions = [aligner.place(0.1, 2 * FRAME), aligner.place(0.101, FRAME), aligner.place(0.12, 3 * FRAME)]
    assert positions[1] == positions[0] - FRAME
    assert positions[2] == positions[0] + FRAME


def test_an_rtp_timestamp_wrap_does_not_move_audio() -> None:
    unwrapper, aligner = RtpUnwrapper(), LegAligner()
    raw = [(2**32 - 2 * FRAME + index * FRAME) % 2**32 for index in range(5)]  # wraps after the second
    arrivals = [0.5 + index * 0.02 for index in range(5)]
    positions = [aligner.place(t, unwrapper.unwrap(1, ts, t)) for t, ts in zip(arrivals, raw, strict=True)]
    assert positions == [round(0.5 * RATE) + index * FRAME for index in range(5)]


def test_aligner_reanchors_when_timestamps_and_arrival_disagree_wildly() -> None:
    aligner = LegAligner()
    aligner.place(0.0, 0)
    assert aligner.place(10.0, 7 * 2**20) == 10 * RATE  # a sender that restarted its clock
    assert aligner.place(10.02, 7 * 2**20 + FRAME) == 10 * RATE + FRAME
    assert MAX_SKEW < 10 * RATE


# Leg files -------------------------------------------------------------------------------------------


def test_leg_reader_returns_complete_records_and_waits_for_a_torn_one(tmp_path: Path) -> None:
    path = tmp_path / "agent"
    writer = LegWriter(path)
    writer.append(0.5, 2**33, b"abc")
    writer.append(0.52, 2**33 + FRAME, b"defgh")
    writer.flush()
    whole = path.read_bytes()
    path.write_bytes(whole[:-2])  # a crash in the middle of the last record
    reader = LegReader(path)
    assert reader.read() == [(0.5, 2**33, b"abc")]
    path.write_bytes(whole)
    assert reader.read() == [(0.52, 2**33 + FRAME, b"defgh")]
    writer.close()
    reader.close()


# Mix and MP3 -----------------------------------------------------------------------------------------


def test_mp3_is_stereo_24k_agent_left_customer_right_with_late_join_and_gap(tmp_path: Path) -> None:
    recorder = CallRecorder(tmp_path / "legs" / "call-1", tmp_path / "out" / "call-1.mp3")
    recorder.open()
    write_leg(recorder, "agent", encode_opus(tone(440, 4.0)), start=0.0)
    customer = encode_opus(tone(1000, 3.0))
    # The customer joins at 2 s and is silent (no packets at all) from 3 s to 4 s of its own time.
    write_leg(recorder, "customer", customer[:50], start=2.0, ts0=2**32 - 10 * FRAME)
    for index, payload in enumerate(customer[100:], start=100):
        recorder.write("customer", 2.0 + index * 0.02, 2**32 - 10 * FRAME + index * FRAME, payload)
    result = recorder.finish(6.0)

    assert isinstance(result, RecordingResult)
    assert result.path == tmp_path / "out" / "call-1.mp3" and result.channels == 2
    assert result.size == result.path.stat().st_size > 0
    pcm, rate = decode_mp3(result.path)
    assert rate == MP3_RATE and pcm.shape[0] == 2
    assert pcm.shape[1] / rate == pytest.approx(6.0, abs=0.05)
    left, right = pcm
    assert dominant(left, rate, 0.5, 3.5) == pytest.approx(440, abs=5)
    assert level(left, rate, 4.2, 5.8) < 0.001  # the agent stopped at 4 s
    assert level(right, rate, 0.0, 1.9) < 0.001  # late join: silence before it
    assert dominant(right, rate, 2.2, 2.9) == pytest.approx(1000, abs=5)
    assert level(right, rate, 3.1, 3.9) < 0.001  # the gap
    assert dominant(right, rate, 4.1, 4.9) == pytest.approx(1000, abs=5)
    assert not (tmp_path / "legs" / "call-1").exists()  # leg files are gone once the MP3 is in place
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["call-1.mp3"]  # no temp file left


def test_background_mixing_gives_the_same_audio_as_mixing_at_the_end(tmp_path: Path) -> None:
    agent, customer = encode_opus(tone(300, 12.0)), encode_opus(tone(700, 11.0))
    outputs = []
    for name, steps in (("batch", []), ("live", [3.0, 5.5, 9.0])):
        recorder = CallRecorder(tmp_path / "legs" / name, tmp_path / f"{name}.mp3")
        recorder.open()
        written = 0
        for horizon in [*steps, 12.0]:
            upto = int(horizon / 0.02)  # packets that had arrived by then
            write_leg(recorder, "agent", agent[written:upto], start=written * 0.02, ts0=written * FRAME)
            write_leg(recorder, "customer", customer[written:upto], 1 + written * 0.02, 7 + written * FRAME)
            written = upto
            recorder.flush()
            if horizon in steps:
                recorder.advance(horizon - 2.0)
        result = recorder.finish(12.0)
        assert isinstance(result, RecordingResult)
        outputs.append(decode_mp3(result.path)[0])
    assert outputs[0].shape == outputs[1].shape
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-4)


def test_nothing_recorded_gives_none_and_leaves_nothing(tmp_path: Path) -> None:
    recorder = CallRecorder(tmp_path / "legs" / "quiet", tmp_path / "quiet.mp3")
    recorder.open()
    assert recorder.finish(3.0) is None
    assert not (tmp_path / "legs" / "quiet").exists() and not (tmp_path / "quiet.mp3").exists()


# Crash recovery ----------------------------------------------------------------------------------------


def test_recover_orphans_finishes_what_a_crash_left(tmp_path: Path) -> None:
    legs = tmp_path / "legs"
    crashed = CallRecorder(legs / "crashed", tmp_path / "unused.mp3")
    crashed.open()
    write_leg(crashed, "agent", encode_opus(tone(500, 2.0)), start=0.3)
    write_leg(crashed, "customer", encode_opus(tone(900, 1.0)), start=1.0)
    crashed.flush()  # ... and the process dies: no finish()
    empty = CallRecorder(legs / "empty", tmp_path / "unused.mp3")
    empty.open()
    failed = legs / "failed-before"
    failed.mkdir()
    (failed / FINISHED).write_text('{"failed": "disk full"}\n')

    results = dict(recover_orphans(legs, lambda call_id: tmp_path / "rec" / f"{call_id}.mp3"))

    assert set(results) == {"crashed", "empty"}
    assert isinstance(results["empty"], RecordingFailure)
    result = results["crashed"]
    assert isinstance(result, RecordingResult) and result.path == tmp_path / "rec" / "crashed.mp3"
    assert result.duration == pytest.approx(2.3, abs=0.05)  # up to the last packet recorded
    pcm, rate = decode_mp3(result.path)
    assert dominant(pcm[0], rate, 0.5, 2.0) == pytest.approx(500, abs=5)
    assert dominant(pcm[1], rate, 1.1, 1.9) == pytest.approx(900, abs=5)
    assert level(pcm[1], rate, 0.0, 0.9) < 0.001
    assert sorted(p.name for p in legs.iterdir()) == ["failed-before"]  # kept for a post-mortem
    assert recover_orphans(legs, lambda call_id: tmp_path / f"{call_id}.mp3") == []


def test_a_recording_that_cannot_be_written_fails_and_keeps_its_legs(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("")
    recorder = CallRecorder(tmp_path / "legs" / "doomed", tmp_path / "not-a-dir" / "doomed.mp3")
    recorder.open()
    write_leg(recorder, "agent", encode_opus(tone(440, 1.0)), start=0.0)

    result = recorder.finish(1.0)

    assert isinstance(result, RecordingFailure) and "not-a-dir" in result.reason
    assert recorder.finish(1.0) is result  # asking again does not retry
    kept = tmp_path / "legs" / "doomed"
    assert sorted(p.name for p in kept.iterdir()) == [FINISHED, "left.agent"]
    assert recover_orphans(tmp_path / "legs", lambda call_id: tmp_path / f"{call_id}.mp3") == []
