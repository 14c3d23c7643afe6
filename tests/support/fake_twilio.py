"""Twilio, offline: a fake REST transport (`http_client`), signed webhook requests, and realistic payloads.

`FakeTwilioHttp` is handed to `twilio.rest.Client(http_client=...)`. It answers only the requests a test
declared with `on(...)`, records every request, and fails loudly on anything else: it raises, and the
`fake_twilio` fixture fails the test at teardown even if the code under test swallowed the error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from call_center.core.config import reset_settings
from call_center.telephony import reset_provider

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "0123456789abcdef" * 2
API_KEY = "SK" + "b2" * 16
API_SECRET = "Secret0123456789" * 2
APP_SID = "AP" + "c3" * 16
CALLER_ID = "+20221234567"
PUBLIC_URL = "https://calls.example.com"
API = "https://api.twilio.com"

TWILIO_ENV = {
    "TELEPHONY_PROVIDER": "twilio",
    "PUBLIC_BASE_URL": PUBLIC_URL,
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TWILIO_API_KEY": API_KEY,
    "TWILIO_API_SECRET": API_SECRET,
    "TWILIO_TWIML_APP_SID": APP_SID,
    "TWILIO_CALLER_ID": CALLER_ID,
}


def account_path(resource: str) -> str:
    """The REST path of an account resource, e.g. account_path("Calls.json")."""
    return f"/2010-04-01/Accounts/{ACCOUNT_SID}/{resource}"


@dataclass
class Route:
    method: str
    host: str
    path: str
    status: int
    body: Any
    params: dict[str, str] = field(default_factory=dict)
    times: int | None = None  # None: any number of times
    hits: int = 0

    def matches(self, request: Recorded) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return (request.method, request.host, request.path) == (self.method, self.host, self.path) and all(
            request.params.get(k) == v for k, v in self.params.items()
        )

    def describe(self) -> str:
        extra = f" {self.params}" if self.params else ""
        return f"{self.method} https://{self.host}{self.path}{extra} -> {self.status}"


@dataclass(frozen=True)
class Recorded:
    method: str
    host: str
    path: str
    params: dict[str, str]
    username: str | None


class UnexpectedTwilioRequest(AssertionError):
    pass


class FakeTwilioHttp(HttpClient):
    """Answers from a table; records everything; refuses what it was not told about."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("fake_twilio"), False, None)
        self.routes: list[Route] = []
        self.requests: list[Recorded] = []
        self.unexpected: list[str] = []

    def on(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        status: int = 200,
        params: Mapping[str, str] | None = None,
        times: int | None = None,
        host: str = "api.twilio.com",
    ) -> Route:
        route = Route(method.upper(), host, path, status, body, dict(params or {}), times)
        self.routes.append(route)
        return route

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: Mapping[str, object] | None = None,
        data: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        parts = urlsplit(url)
        merged = dict(parse_qsl(parts.query, keep_blank_values=True))
        merged.update({k: str(v) for k, v in (params or {}).items()})
        merged.update({k: str(v) for k, v in (data or {}).items()})
        recorded = Recorded(method.upper(), parts.netloc, parts.path, merged, auth[0] if auth else None)
        self.requests.append(recorded)
        for route in self.routes:
            if route.matches(recorded):
                route.hits += 1
                text = "" if route.body is None else json.dumps(route.body)
                return Response(route.status, text, {"Content-Type": "application/json"})
        return self._unexpected(recorded, "no route")

    def _unexpected(self, recorded: Recorded, why: str) -> Response:
        known = "\n  ".join(r.describe() for r in self.routes) or "(nothing)"
        message = (
            f"unexpected Twilio request ({why}): {recorded.method} https://{recorded.host}{recorded.path} "
            f"{recorded.params}\n"
            f"the fake knows:\n  {known}"
        )
        self.unexpected.append(message)
        raise UnexpectedTwilioRequest(message)

    def calls_to(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method.upper() and r.path == path]


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "more_info": "", "status": status}


def page(key: str, items: list[dict[str, Any]], next_page_uri: str | None = None) -> dict[str, Any]:
    """A REST list page as Twilio's 2010 API returns it."""
    return {
        key: items,
        "next_page_uri": next_page_uri,
        "page": 0,
        "page_size": 50,
        "uri": "/page",
        "start": 0,
        "end": len(items),
        "first_page_uri": "/first",
        "previous_page_uri": None,
    }


# Signed webhook requests ------------------------------------------------------------------------------
def sign(path: str, params: Mapping[str, str], *, base: str = PUBLIC_URL, token: str = AUTH_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(base + path, dict(params)))


def signed_post(client: Any, path: str, params: Mapping[str, str], **kw: Any) -> Any:
    """POST a form to the app as Twilio would, signed for the public URL."""
    return client.post(
        path,
        content=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": kw.pop("signature", None) or sign(path, params),
        },
        **kw,
    )


def status_params(
    call_sid: str, status: str, *, seq: int, at: str, parent: str | None = None, **extra: str
) -> dict[str, str]:
    """A status callback as Twilio sends it (a child leg when `parent` is given)."""
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": status,
        "Direction": "outbound-dial" if parent else "inbound",
        "From": CALLER_ID if parent else "client:agent_1",
        "To": "+201001234567",
        "SequenceNumber": str(seq),
        "Timestamp": at,
        "CallbackSource": "call-progress-events",
    }
    if parent:
        params["ParentCallSid"] = parent
    params.update(extra)
    return params


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilioHttp]:
    """A fake transport; the test fails if anything asked it for a request it did not know."""
    fake = FakeTwilioHttp()
    yield fake
    assert not fake.unexpected, "\n\n".join(fake.unexpected)


@pytest.fixture
def twilio_settings(env: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """TELEPHONY_PROVIDER=twilio with complete, well-formed (fake) Twilio settings."""
    for name, value in TWILIO_ENV.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    reset_provider()
    yield dict(TWILIO_ENV)
    reset_settings()
    reset_provider()


# Recording media ----------------------------------------------------------------------------------------
def make_mp3(channels: int = 2, seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A real MP3 (a tone per channel), encoded with the av wheel's libmp3lame, like Twilio's recordings."""
    import io

    import av
    import numpy as np

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="stereo" if channels == 2 else "mono")
        total = int(seconds * rate)
        t = np.arange(total) / rate
        tones = [np.sin(2 * np.pi * f * t) for f in (440, 660)[:channels]]
        samples = (np.stack(tones) * 8000).astype(np.int16)
        step = 1152
        for start in range(0, total, step):
            # Packed s16 is one plane of interleaved samples: L R L R ... (or just the samples, mono).
            chunk = np.ascontiguousarray(samples[:, start : start + step].T.reshape(1, -1))
            frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout=stream.layout.name)
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()
