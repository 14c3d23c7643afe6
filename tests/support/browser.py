"""Debian Chromium for Playwright: the flags this machine needs, and fake microphones per browser."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_args(fake_audio: Path | None = None, *, deny_microphone: bool = False) -> list[str]:
    """Launch flags; with `fake_audio`, the browser's microphone plays that WAV file."""
    args = list(BASE_ARGS) + [
        "--allow-loopback-in-peer-connection",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if fake_audio is not None:
        args += [
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={fake_audio}",
        ]
        if not deny_microphone:
            args.append("--use-fake-ui-for-media-stream")
    return args
