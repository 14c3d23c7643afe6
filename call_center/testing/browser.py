"""Debian's Chromium for Playwright: found (or a clear message), launched with the flags this kind of machine
needs, one fake microphone per browser process.

No `playwright install`: the kit drives the system Chromium (`apt-get install chromium`). Set
`CALL_CENTER_CHROMIUM=/path/to/chromium` to use another build.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class ChromiumNotFound(RuntimeError):
    pass


def chromium_path() -> str:
    """The Chromium executable, or ChromiumNotFound saying how to get one."""
    wanted = os.environ.get("CALL_CENTER_CHROMIUM")
    if wanted:
        if not Path(wanted).is_file():
            raise ChromiumNotFound(f"CALL_CENTER_CHROMIUM={wanted} does not exist")
        return wanted
    for candidate in CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    raise ChromiumNotFound(
        "Chromium was not found. Install Debian's package (sudo apt-get install chromium) or set "
        "CALL_CENTER_CHROMIUM to a Chromium executable. `playwright install` is not used: its browser "
        "downloads are not reachable here and the kit is tested with the system Chromium."
    )


# Kept for the tests and benchmarks that imported it under this name.
CHROMIUM = CANDIDATES[0]


def chromium_args(fake_audio: Path | None = None, *, deny_microphone: bool = False) -> list[str]:
    """Launch flags; with `fake_audio`, the browser's microphone plays that WAV file (in a loop).

    WebRTC stays on loopback (the app's media server offers 127.0.0.1), which Chromium only allows with
    --allow-loopback-in-peer-connection. Audio autoplay is allowed so ringtones and remote audio play in
    a headless page."""
    args = list(BASE_ARGS) + [
        "--allow-loopback-in-peer-connection",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if fake_audio is not None:
        args += ["--use-fake-device-for-media-stream", f"--use-file-for-fake-audio-capture={fake_audio}"]
        if not deny_microphone:
            args.append("--use-fake-ui-for-media-stream")
    return args
