"""Twilio, offline: a fake REST transport (`http_client`), signed webhook requests, and realistic payloads.

`FakeTwilioHttp` is handed to `twilio.rest.Client(http_client=...)`. It answers only the requests a test
declared with `on(...)`, records every request, and fails loudly on anything else: it raises, and the
`fake_twilio` fixture fails the test at teardown even if the code under test swallowed the error.

Everything for https://api.twilio.com is held to Twilio's published OpenAPI contract
(`tests/support/twilio_contract.py`): a request with a parameter the operation does not declare is refused
like an unknown one, and a route's body must be one Twilio could send. Other hosts (voice.twilio.com, ...)
have no spec loaded and are matched against the routes only. `participant_body`, `conference_body`,
`call_body` and `recording_body` build realistic resources that pass the contract.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from call_center.core.config import reset_settings
from call_center.telephony import reset_provider
from tests.support.twilio_contract import ContractViolation, check_response, contract, covers

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
    params: dict[str, str | list[str]] = field(default_factory=dict)
    times: int | None = None  # None: any number of times
    hits: int = 0
    template: str | None = None  # the spec's path template when the body is held to the contract

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
    params: dict[str, str | list[str]]  # a list for a repeated field (StatusCallbackEvent=...&...)
    username: str | None


class UnexpectedTwilioRequest(AssertionError):
    pass


class TwilioContractViolation(UnexpectedTwilioRequest, ContractViolation):
    """Raised by the fake for a request (or an answer) that Twilio's contract does not allow."""


class FakeTwilioHttp(HttpClient):
    """Answers from a table; records everything; refuses what it was not told about."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("fake_twilio"), False, None)
        self.routes: list[Route] = []
        self.requests: list[Recorded] = []
        self.unexpected: list[str] = []
        # Answers what no route does (tests/support/twilio_sim.py): (method, path, params) -> (status, body)
        self.responder: Callable[[str, str, dict[str, Any]], tuple[int, Any]] | None = None
        self.contract = contract()  # fails here, with how to fetch it, when the spec is not installed

    def on(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        status: int | None = None,
        params: Mapping[str, str | list[str]] | None = None,
        times: int | None = None,
        host: str = "api.twilio.com",
    ) -> Route:
        """Answer `method path` with `body`; the status defaults to the one Twilio's contract declares.

        Raises ContractViolation at once when Twilio has no such operation or could not send this body.
        """
        method, template = method.upper(), None
        if covers(host):
            found = self.contract.match(method, path)
            if status is None:
                status = self.contract.success_status(method, found.operation.template)
            if not found.media:  # media bodies are audio, not JSON
                template = found.operation.template
                self.contract.check_response(method, template, status, body)
        status = 200 if status is None else status
        route = Route(method, host, path, status, body, dict(params or {}), times, template=template)
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
        merged: dict[str, str | list[str]] = {}
        for key, text in parse_qsl(parts.query, keep_blank_values=True):
            merged[key] = [*_as_list(merged[key]), text] if key in merged else text
        # As `requests` encodes a form: str() of each value, a list as repeated fields.
        for key, value in [*(params or {}).items(), *(data or {}).items()]:
            merged[key] = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
        recorded = Recorded(method.upper(), parts.netloc, parts.path, merged, auth[0] if auth else None)
        self.requests.append(recorded)
        if covers(recorded.host):
            try:
                self.contract.check_request(
                    recorded.method, f"https://{recorded.host}{recorded.path}", merged
                )
            except ContractViolation as exc:
                return self._refuse(recorded, "Twilio's contract refuses the request", detail=str(exc))
        for route in self.routes:
            if route.matches(recorded):
                route.hits += 1
                if route.template is not None:  # checked again: a test may have changed the body since
                    try:
                        self.contract.check_response(route.method, route.template, route.status, route.body)
                    except ContractViolation as exc:
                        return self._refuse(
                            recorded, "the fake's answer breaks Twilio's contract", detail=str(exc)
                        )
                text = "" if route.body is None else json.dumps(route.body)
                return Response(route.status, text, {"Content-Type": "application/json"})
        if self.responder is not None and covers(recorded.host):
            status, body = self.responder(recorded.method, recorded.path, merged)
            found = self.contract.match(recorded.method, recorded.path)
            if 200 <= status < 300 and not found.media:
                try:
                    self.contract.check_response(recorded.method, found.operation.template, status, body)
                except ContractViolation as exc:
                    return self._refuse(
                        recorded, "the simulator's answer breaks Twilio's contract", detail=str(exc)
                    )
            return Response(
                status, "" if body is None else json.dumps(body), {"Content-Type": "application/json"}
            )
        return self._refuse(recorded, "unexpected Twilio request (no route)")

    def _refuse(self, recorded: Recorded, why: str, *, detail: str | None = None) -> Response:
        request = f"{recorded.method} https://{recorded.host}{recorded.path} {recorded.params}"
        error: type[UnexpectedTwilioRequest] = TwilioContractViolation
        if detail is None:
            known = "\n  ".join(r.describe() for r in self.routes) or "(nothing)"
            error, detail = UnexpectedTwilioRequest, f"the fake knows:\n  {known}"
        message = f"{why}: {request}\n{detail}"
        self.unexpected.append(message)
        raise error(message)

    def calls_to(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method.upper() and r.path == path]


def _as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


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


# Resources as Twilio returns them ---------------------------------------------------------------------
CREATED = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def twilio_sid(prefix: str, n: int) -> str:
    """A well-formed SID: the resource's two-letter prefix and 32 hex digits, e.g. twilio_sid("CF", 1)."""
    return f"{prefix}{n:032x}"


def rfc2822(at: datetime | None) -> str | None:
    """Twilio's REST date format: 'Mon, 23 Nov 2026 14:00:00 +0000'."""
    return at.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000") if at else None


def conference_path(sid: str | None = None) -> str:
    return account_path(f"Conferences/{sid}.json" if sid else "Conferences.json")


def participant_path(conference_sid: str, call_sid_or_label: str | None = None) -> str:
    tail = f"/{call_sid_or_label}.json" if call_sid_or_label else ".json"
    return account_path(f"Conferences/{conference_sid}/Participants{tail}")


def _resource(fetch_path: str, values: dict[str, Any]) -> dict[str, Any]:
    """Every property the resource declares (Twilio sends them all, null when unset), then `values`.

    The result, extra fields included, must be a body Twilio could answer the resource's fetch with.
    """
    operation = contract().match("GET", fetch_path).operation
    properties = contract().resolve(operation.responses[200] or {})["properties"]
    common = {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "date_created": rfc2822(CREATED),
        "date_updated": rfc2822(CREATED),
        "uri": fetch_path,
    }
    body = dict.fromkeys(properties) | {k: v for k, v in common.items() if k in properties} | values
    check_response("GET", operation.template, 200, body)
    return body


def participant_body(
    conference_sid: str,
    call_sid: str,
    *,
    label: str | None = None,
    status: str = "connected",
    hold: bool = False,
    muted: bool = False,
    end_conference_on_exit: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """A conference participant (status: queued, connecting, ringing, connected, complete or failed)."""
    return _resource(
        participant_path(conference_sid, call_sid),
        {
            "call_sid": call_sid,
            "conference_sid": conference_sid,
            "label": label,
            "status": status,
            "hold": hold,
            "muted": muted,
            "end_conference_on_exit": end_conference_on_exit,
            "start_conference_on_enter": True,
            "coaching": False,
            "queue_time": "0",
        }
        | extra,
    )


def conference_body(
    sid: str, friendly_name: str, *, status: str = "in-progress", **extra: Any
) -> dict[str, Any]:
    """A conference (status: init, in-progress or completed; reason_conference_ended once completed)."""
    return _resource(
        conference_path(sid),
        {
            "sid": sid,
            "friendly_name": friendly_name,
            "status": status,
            "region": "us1",
            "subresource_uris": {
                "participants": participant_path(sid),
                "recordings": account_path(f"Conferences/{sid}/Recordings.json"),
            },
        }
        | extra,
    )


def call_body(
    sid: str,
    *,
    status: str = "in-progress",
    from_: str = CALLER_ID,
    to: str = "+201001234567",
    direction: str = "outbound-api",
    parent_call_sid: str | None = None,
    start: datetime | None = CREATED,
    end: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A call leg (status: queued, ringing, in-progress, completed, busy, failed, no-answer or canceled)."""
    base = account_path(f"Calls/{sid}")
    return _resource(
        base + ".json",
        {
            "sid": sid,
            "parent_call_sid": parent_call_sid,
            "from": from_,
            "from_formatted": from_,
            "to": to,
            "to_formatted": to,
            "status": status,
            "direction": direction,
            "start_time": rfc2822(start),
            "end_time": rfc2822(end),
            "duration": str(int((end - start).total_seconds())) if start and end else None,
            "date_updated": rfc2822(end or start or CREATED),
            "price_unit": "USD",
            "queue_time": "0",
            "subresource_uris": {
                k: f"{base}/{k.title()}.json" for k in ("notifications", "recordings", "events")
            },
        }
        | extra,
    )


def recording_body(
    sid: str,
    call_sid: str,
    *,
    status: str = "completed",
    channels: int = 2,
    duration: int = 60,
    source: str = "DialVerb",
    **extra: Any,
) -> dict[str, Any]:
    """A recording (source: DialVerb, Conference, StartConferenceRecordingAPI, ...)."""
    return _resource(
        account_path(f"Recordings/{sid}.json"),
        {
            "sid": sid,
            "call_sid": call_sid,
            "status": status,
            "channels": channels,
            "duration": str(duration),
            "source": source,
            "start_time": rfc2822(CREATED),
            "price_unit": "USD",
            "media_url": API + account_path(f"Recordings/{sid}"),
            "subresource_uris": {
                "add_on_results": account_path(f"Recordings/{sid}/AddOnResults.json"),
                "transcriptions": account_path(f"Recordings/{sid}/Transcriptions.json"),
            },
        }
        | extra,
    )


# Signed webhook requests ------------------------------------------------------------------------------
def sign(path: str, params: Mapping[str, str], *, base: str = PUBLIC_URL, token: str = AUTH_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(base + path, dict(params)))


def signed_post(client: Any, path: str, params: Mapping[str, str], **kw: Any) -> Any:
    """POST a form to the app as Twilio would, signed for the public URL. A webhook is answered once the
    app's inbox has stored it; this returns once the app has applied it too (services.inbox.drain)."""
    response = client.post(
        path,
        content=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": kw.pop("signature", None) or sign(path, params),
        },
        **kw,
    )
    applied()
    return response


def applied() -> None:
    """Wait until the app (in this process) has applied every callback its inbox acknowledged."""
    from call_center.services import inbox

    inbox.drain()


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
    import numpy as np

    from call_center.core import mp3

    t = np.arange(int(seconds * rate)) / rate
    tones = [np.sin(2 * np.pi * f * t) for f in (440, 660)[:channels]]
    return mp3.encode((np.stack(tones) * 8000).astype(np.int16), rate)
