"""A call's recording as a tester checks it: fetched through the app's own API, decoded, by channel.

    recording = recording_of(app, app.latest_call())
    assert recording.channels == 2
    assert channel_matches(recording.channel("customer"), recording.rate, customer_voice) > 0.5

Left channel = the agent side, right = the customer (as in Twilio's dual-channel recordings).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from call_center.testing.audio import decode
from call_center.testing.server import CallCenterApp

CHANNELS = {"agent": 0, "left": 0, "customer": 1, "right": 1}


@dataclass(frozen=True)
class Recording:
    id: int
    call_id: int
    status: str
    path: Path  # the MP3 as the app served it
    rate: int
    audio: np.ndarray  # channels x samples, float32
    info: dict[str, Any]

    @property
    def channels(self) -> int:
        return int(self.audio.shape[0])

    @property
    def seconds(self) -> float:
        return self.audio.shape[1] / self.rate

    def channel(self, side: str) -> np.ndarray:
        """ "agent"/"left" or "customer"/"right"."""
        return self.audio[CHANNELS[side]]

    def between(self, side: str, start: float, end: float | None = None) -> np.ndarray:
        """A channel from `start` to `end` seconds into the recording (e.g. before and after a transfer)."""
        first = max(0, int(start * self.rate))
        last = self.audio.shape[1] if end is None else max(first, int(end * self.rate))
        return self.channel(side)[first:last]

    @property
    def mp3(self) -> bytes:
        return self.path.read_bytes()


class RecordingNotReady(AssertionError):
    pass


def recording_of(app: CallCenterApp, call: dict[str, Any], *, timeout: float = 30) -> Recording:
    """The call's latest recording once it is ready (waits up to `timeout`); fails on `failed`."""
    sid = call.get("call_sid") or call.get("provider_call_sid")
    deadline = time.monotonic() + timeout
    found: dict[str, Any] | None = None
    with app.api() as client:
        while time.monotonic() < deadline:
            response = client.get(f"/api/calls/recordings/{sid}")
            response.raise_for_status()
            rows = response.json()["data"]
            found = rows[0] if rows else None
            if found and found["status"] == "failed":
                raise RecordingNotReady(f"the recording of call {call['id']} failed: {found['reason']}")
            if found and found["status"] == "ready":
                break
            time.sleep(0.25)
        else:
            raise RecordingNotReady(
                f"the recording of call {call['id']} was not ready within {timeout} s: {found}"
            )
        media = client.get(found["url"])
        media.raise_for_status()
    path = Path(tempfile.mkdtemp(prefix="recording-")) / f"call-{call['id']}.mp3"
    path.write_bytes(media.content)
    rate, audio = decode(path)
    return Recording(found["id"], call["id"], found["status"], path, rate, audio, found)
