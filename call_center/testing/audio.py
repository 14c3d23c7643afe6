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
    """How well a recorded channel follows a source WAV (the speech a fake microphone looped), 0..1.

    About 0.6-0.9 for the speaker of that channel, well below for anyone else; 0 for silence."""
    source_rate, source = decode(source_wav)
    audible = np.flatnonzero(np.abs(channel) > 1e-4)
    if len(audible) == 0:
        return 0.0
    active = channel[audible[0] : audible[-1] + 1]  # without the silence before a leg joined / after it left
    if len(active) < rate:  # less than a second of audio
        return 0.0
    return looped_correlation(envelope(active, rate), envelope(source[0], source_rate))


def sounds_like(samples: np.ndarray, rate: int, source_wav: Path) -> float:
    """How well audio a page heard (Softphone.listen / TestPhone.listen) follows a voice, 0..1: like
    `channel_matches` for a recording's channel. About 0.5 and more for the one speaking."""
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
HOLD_TONE_PERIOD = 4.0  # seconds: one chime (0.7 s), then silence; listen longer than this to hear it
