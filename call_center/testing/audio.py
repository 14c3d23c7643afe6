"""Fake voices and audio checks: espeak-ng speech for a browser's fake microphone, what a page hears, and
whether a recording's channel follows a given voice.

    voice = say("Good morning, my order number is 456", lang="en", pitch=75)
    ...
    assert channel_matches(recording.channel("customer"), recording.rate, voice) > 0.5
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import av
import numpy as np

RATE = 48000
ESPEAK_VOICE = {"ar": "ar", "en": "en"}


class VoiceToolMissing(RuntimeError):
    pass


def _tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if not found:
        raise VoiceToolMissing(f"{name} is needed for fake voices: sudo apt-get install {package}")
    return found


def voices_dir() -> Path:
    path = Path(tempfile.gettempdir()) / "call-center-voices"
    path.mkdir(exist_ok=True)
    return path


def say(
    text: str,
    lang: str = "en",
    *,
    pitch: int = 50,
    speed: int = 150,
    variant: str = "",
    path: Path | None = None,
) -> Path:
    """A 48 kHz mono WAV of `text` spoken by espeak-ng (`lang` "ar" or "en"), for a fake microphone.

    Chromium's fake microphone plays the file in a loop. Two voices are told apart in a recording by their
    loudness envelopes, so give different speakers different sentences (and a different pitch).
    The file is cached by its parameters."""
    voice = ESPEAK_VOICE.get(lang, lang) + (f"+{variant}" if variant else "")
    key = hashlib.sha256(f"{voice}|{pitch}|{speed}|{text}".encode()).hexdigest()[:16]
    target = path or voices_dir() / f"{lang}-{key}.wav"
    if target.exists():
        return target
    raw = target.with_suffix(".raw.wav")
    espeak = _tool("espeak-ng", "espeak-ng")
    sox = _tool("sox", "sox")
    subprocess.run(
        [espeak, "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(raw), text], check=True
    )
    subprocess.run([sox, str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(target)], check=True)
    raw.unlink()
    return target


# The kit's two default speakers (an agent and a customer), different enough to tell apart.
def agent_voice() -> Path:
    return say(
        "Hello, this is Sara from Al Masar. How can I help you today? Please tell me your order number.",
        "en",
    )


def customer_voice() -> Path:
    return say(
        "Good morning. My order number is four five six. The delivery did not arrive yesterday at all.",
        "en",
        variant="f3",
        pitch=75,
        speed=135,
    )


def colleague_voice() -> Path:
    """A second agent (a transfer target), different from both of the above."""
    return say(
        "This is Omar from the billing team. I can see your account now. Let me check the last invoice.",
        "en",
        variant="m3",
        pitch=25,
        speed=165,
    )


def supervisor_voice() -> Path:
    """A supervisor who listens in, whispers or barges in, different from the three above."""
    return say(
        "Supervisor here. Offer the customer a refund and a free delivery next week, then close the ticket.",
        "en",
        variant="f5",
        pitch=60,
        speed=175,
    )


def decode(path: Path) -> tuple[int, np.ndarray]:
    """(sample rate, float32 array shaped channels x samples) of an audio file (MP3, WAV ...)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        chunks = []
        for frame in container.decode(stream):
            data = frame.to_ndarray()
            if data.dtype != np.float32:
                scale = float(np.iinfo(data.dtype).max)  # type: ignore[type-var]
                data = data.astype(np.float32) / scale
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


# Voices are compared by their loudness in four speech bands, frame by frame (20 ms): one envelope per band.
# Two speakers' overall loudness may rise and fall alike by chance; their four bands much less so.
BANDS_HZ = ((100, 600), (600, 1200), (1200, 2200), (2200, 3600))
FRAME_MS = 20
SEGMENT = 50  # frames (1 s) matched at a time ...
HOP = 25  # ... every half second ...
DRIFT = 3  # ... each starting at most 3 frames (60 ms) from where the previous one matched ...
JUMP_COST = 0.5  # ... or anywhere, for this much of one second's correlation (a jitter buffer's reset)


def band_envelopes(signal: np.ndarray, rate: int) -> np.ndarray:
    """Frames x bands: the amplitude in each of BANDS_HZ per 20 ms frame (needs rate > 7.2 kHz)."""
    size = int(rate * FRAME_MS / 1000)
    frames = len(signal) // size
    if frames == 0:
        return np.zeros((0, len(BANDS_HZ)))
    windowed = signal[: frames * size].astype(np.float64).reshape(frames, size) * np.hanning(size)
    power = np.abs(np.fft.rfft(windowed, axis=1)) ** 2
    freqs = np.fft.rfftfreq(size, 1 / rate)
    return np.sqrt(np.stack([power[:, (freqs >= lo) & (freqs < hi)].sum(axis=1) for lo, hi in BANDS_HZ], 1))


def _segment_scores(heard: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Segments x offsets: how well each 1 s segment of `heard` follows `source` (played in a loop) when
    the source is `offset` frames ahead, as a Pearson correlation over the segment's frames and bands.
    Silent segments (no variation) are left out."""
    period, frames = len(source), len(heard)
    rows = []
    for start in range(0, max(1, frames - SEGMENT + 1), HOP):
        part = heard[start : start + SEGMENT]
        spread = part.std(axis=0)
        if len(part) < 10 or not np.any(spread > 1e-9):
            continue
        part = (part - part.mean(axis=0)) / (spread + 1e-12)
        index = (np.arange(period)[:, None] + start + np.arange(len(part))[None, :]) % period
        candidates = source[index]  # offsets x frames x bands
        candidates = (candidates - candidates.mean(axis=1, keepdims=True)) / (
            candidates.std(axis=1, keepdims=True) + 1e-12
        )
        rows.append(np.einsum("ofb,fb->o", candidates, part) / part.size)
    return np.array(rows)


def follows(heard: np.ndarray, source: np.ndarray) -> float:
    """How well band envelopes `heard` follow `source` looped, 0..1, allowing the alignment to drift.

    What a browser plays or a server records is not the source's exact timeline: under load a jitter
    buffer stretches or drops audio, a capture skips a buffer, a fake microphone slips. One offset for a
    whole listen then matches the real speaker no better than a stranger (measured: 0.34 against 0.28).
    A jitter buffer that resets jumps by hundreds of milliseconds at once (seen: 440 ms).
    So each second is matched on its own, and the best path of offsets is taken (dynamic programming):
    it moves at most DRIFT frames per half second for free, or jumps anywhere for JUMP_COST; its mean
    correlation is the score. Measured on 36 listens by phones and softphones with a core kept busy:
    0.68-0.97 for the speaker, at most 0.42 for anyone else."""
    if len(heard) < SEGMENT // 2 or len(source) < 10:
        return 0.0
    scores = _segment_scores(heard, source)
    if len(scores) == 0:
        return 0.0
    total = scores[0].copy()
    for row in scores[1:]:
        best = total.copy()
        for step in range(1, DRIFT + 1):
            best = np.maximum(best, np.maximum(np.roll(total, step), np.roll(total, -step)))
        best = np.maximum(best, total.max() - JUMP_COST)
        total = best + row
    return max(0.0, float(total.max() / len(scores)))


def channel_matches(channel: np.ndarray, rate: int, source_wav: Path) -> float:
    """How well a recorded channel follows a source WAV (the speech a fake microphone looped), 0..1.

    About 0.6-0.97 for the speaker of that channel, at most about 0.45 for anyone else; 0 for silence."""
    audible = np.flatnonzero(np.abs(channel) > 1e-4)
    if len(audible) == 0:
        return 0.0
    active = channel[audible[0] : audible[-1] + 1]  # without the silence before a leg joined / after it left
    if len(active) < rate:  # less than a second of audio
        return 0.0
    return follows(band_envelopes(active, rate), _source_bands(source_wav))


_SOURCES: dict[str, np.ndarray] = {}


def _source_bands(path: Path) -> np.ndarray:
    """A voice file's band envelopes (cached: every check of a test compares against the same few)."""
    key = f"{path}|{path.stat().st_mtime_ns}"
    if key not in _SOURCES:
        rate, samples = decode(path)
        _SOURCES[key] = band_envelopes(samples[0], rate)
    return _SOURCES[key]


def sounds_like(samples: np.ndarray, rate: int, source_wav: Path) -> float:
    """How well audio a page heard (Softphone.listen / TestPhone.listen) follows a voice, 0..1: like
    `channel_matches` for a recording's channel. About 0.6 and more for the one speaking, at most about
    0.45 for a voice not heard."""
    return channel_matches(samples, rate, source_wav)


def tone_share(samples: np.ndarray, rate: int, freqs: tuple[float, ...], width: float = 20.0) -> float:
    """The share of the heard energy within `width` Hz of `freqs` (e.g. the hold tone's notes), 0..1.
    Speech spreads over the spectrum; a tone puts most of its energy on its notes."""
    if len(samples) < rate // 10 or not np.any(samples):
        return 0.0
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    bins = np.fft.rfftfreq(len(samples), 1 / rate)
    audible = (bins > 80) & (bins < 3800)
    near = np.zeros_like(audible)
    for freq in freqs:
        near |= np.abs(bins - freq) <= width
    total = spectrum[audible].sum()
    return float(spectrum[near & audible].sum() / total) if total > 0 else 0.0


# The hold tone the app plays (a soft two-note chime, telephony/local/tones.py and the Twilio hold URL).
HOLD_TONE = (523.25, 659.25)
# The local provider's recording notice (no speech there): two 0.5 s beeps at 1400 Hz, one second apart.
NOTICE_TONE = (1400.0,)
HOLD_TONE_PERIOD = 4.0  # seconds: one chime (0.7 s), then silence; listen longer than this to hear it
