"""Downloading a Twilio recording's MP3 with the account's credentials, and checking what came back."""

from __future__ import annotations

import httpx

from call_center.core.config import Settings
from call_center.services.recording_jobs import FetchError, Media
from call_center.telephony.twilio.client import api_credentials, is_twilio_url

# Connecting should be quick; reading a long dual-channel MP3 may take a while on a slow link.
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
# Smaller than any real recording (one MP3 frame is ~400 bytes); anything shorter is an error page.
MIN_BYTES = 512
RETRYABLE_STATUS = frozenset({408, 425, 429})


def mp3_channels(data: bytes) -> int:
    """Channels of the first MPEG audio frame (after an ID3v2 tag); ValueError if `data` is not an MP3."""
    offset = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        # The tag size is a "syncsafe" integer: 7 bits per byte.
        size = (data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F)
        offset = 10 + size + (10 if data[5] & 0x10 else 0)
    for i in range(offset, min(len(data) - 3, offset + 4096)):
        if data[i] != 0xFF or data[i + 1] & 0xE0 != 0xE0:
            continue
        version, layer = (data[i + 1] >> 3) & 3, (data[i + 1] >> 1) & 3
        bitrate, rate = data[i + 2] >> 4, (data[i + 2] >> 2) & 3
        if version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3:
            return 1 if data[i + 3] >> 6 == 3 else 2
    raise ValueError("no MPEG audio frame found")


class TwilioMediaFetcher:
    """A `Fetcher` for services.recording_jobs: HTTP basic auth, redirects followed, bodies verified.

    httpx drops the Authorization header when a redirect leaves the origin, so Twilio's signed media
    redirect never sees our credentials.
    """

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None):
        self._client = httpx.Client(
            auth=api_credentials(settings), timeout=TIMEOUT, follow_redirects=True, transport=transport
        )

    def close(self) -> None:
        self._client.close()

    def __call__(self, url: str) -> Media:
        if not is_twilio_url(url):
            # Credentials go to Twilio's hosts only, whatever a callback or the database says.
            raise FetchError(
                f"refusing to fetch a recording from a non-Twilio URL ({url[:80]})", permanent=True
            )
        try:
            response = self._client.get(url)
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out ({exc.__class__.__name__})") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"network error ({exc.__class__.__name__})") from None
        return verify(response)


def verify(response: httpx.Response) -> Media:
    """Accept only a complete MP3; say why otherwise (and whether retrying can help)."""
    status = response.status_code
    if status >= 500 or status in RETRYABLE_STATUS:
        raise FetchError(f"Twilio answered HTTP {status}")
    if status >= 400:
        raise FetchError(f"Twilio answered HTTP {status} (recording unavailable)", permanent=True)
    if status != 200:
        raise FetchError(f"unexpected HTTP {status}")
    data = response.content
    declared = response.headers.get("content-length")
    if declared and not response.headers.get("content-encoding") and int(declared) != len(data):
        raise FetchError(f"short body: {len(data)} of {declared} bytes")
    if len(data) < MIN_BYTES:
        raise FetchError(f"short body: only {len(data)} bytes")
    try:
        channels = mp3_channels(data)
    except ValueError:
        kind = response.headers.get("content-type", "unknown type")
        raise FetchError(f"not an MP3 ({kind}, {len(data)} bytes)") from None
    return Media(data=data, channels=channels)
