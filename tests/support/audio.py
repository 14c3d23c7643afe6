"""Test audio: spoken WAVs for fake microphones, MP3 decoding, and envelope correlation with a source."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np

RATE = 48000


def speech_wav(path: Path, text: str, *, voice: str = "en", pitch: int = 50, speed: int = 150) -> Path:
    """A 48 kHz mono WAV of `text` spoken by espeak-ng (Chromium's fake microphone plays it in a loop)."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(
        ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(raw), text], check=True
    )
    subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(path)], check=True)
    raw.unlink()
    return path


def decode(path: Path) -> tuple[int, np.ndarray]:
    """(sample rate, float32 array shaped channels x samples) of an audio file."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        chunks = []
        for frame in container.decode(stream):
            data = frame.to_ndarray()
            if data.dtype != np.float32:
                data = data.astype(np.float32) / np.iinfo(data.dtype).max
            if not frame.format.is_planar:
                data = data.reshape(-1, len(frame.layout.channels)).T
            chunks.append(data)
    return rate, np.concatenate(chunks, axis=1)


def envelope(signal: np.ndarray, rate: int, frame_ms: int = 20) -> np.ndarray:
    """RMS per frame: a loudness envelope (robust to codecs, echo cancellation and resampling)."""
    size = int(rate * frame_ms / 1000)
    frames = len(signal) // size
    trimmed = signal[: frames * size].reshape(frames, size)
    return np.sqrt((trimmed.astype(np.float64) ** 2).mean(axis=1))


def looped_correlation(recorded: np.ndarray, source: np.ndarray) -> float:
    """Best Pearson correlation of `recorded` against `source` played in a loop, over every offset."""
    period, n = len(source), len(recorded)
    if n < 10 or period < 10:
        return 0.0
    indices = (np.arange(period)[:, None] + np.arange(n)[None, :]) % period
    candidates = source[indices]
    rec = (recorded - recorded.mean()) / (recorded.std() + 1e-12)
    cand = (candidates - candidates.mean(axis=1, keepdims=True)) / (
        candidates.std(axis=1, keepdims=True) + 1e-12
    )
    return float((cand @ rec).max() / n)


def channel_matches(channel: np.ndarray, rate: int, source_wav: Path) -> float:
    """How well a recorded channel follows a source WAV (the speech the fake microphone looped)."""
    source_rate, source = decode(source_wav)
    audible = np.flatnonzero(np.abs(channel) > 1e-4)
    if len(audible) == 0:
        return 0.0
    active = channel[
        audible[0] : audible[-1] + 1
    ]  # without the silence before the leg joined / after it left
    if len(active) < rate:  # less than a second of audio
        return 0.0
    return looped_correlation(envelope(active, rate), envelope(source[0], source_rate))
