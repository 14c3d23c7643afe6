from __future__ import annotations

import base64

import httpx
import pytest

from call_center.services.recording_jobs import FetchError
from call_center.telephony.twilio.client import media_url
from call_center.telephony.twilio.media import TwilioMediaFetcher, mp3_channels, verify
from tests.support.fake_twilio import ACCOUNT_SID, API_KEY, API_SECRET, make_mp3

URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE1.mp3?RequestedChannels=2"


@pytest.fixture(scope="module")
def stereo() -> bytes:
    return make_mp3(2)


def test_channels_of_real_mp3s(stereo):
    assert mp3_channels(stereo) == 2
    assert mp3_channels(make_mp3(1)) == 1
    with pytest.raises(ValueError):
        mp3_channels(b"<html>error</html>" * 100)


def test_media_url_from_callback_url_or_rest_uri():
    base = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE1"
    assert media_url(base) == base + ".mp3?RequestedChannels=2"
    assert media_url(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE1.json", dual=False) == base + ".mp3"


@pytest.mark.parametrize(
    ("response", "permanent", "reason"),
    [
        (httpx.Response(503), False, "HTTP 503"),
        (httpx.Response(429), False, "HTTP 429"),
        (httpx.Response(404), True, "HTTP 404"),
        (
            httpx.Response(200, content=b"<html>" * 200, headers={"content-type": "text/html"}),
            False,
            "not an MP3",
        ),
        (httpx.Response(200, content=b"\xff\xfb\x90\x00"), False, "short body"),
    ],
)
def test_what_is_refused_and_whether_to_retry(response, permanent, reason):
    with pytest.raises(FetchError) as caught:
        verify(response)
    assert caught.value.permanent is permanent and reason in caught.value.reason


def test_a_body_shorter_than_its_content_length_is_truncated(stereo):
    response = httpx.Response(200, content=stereo[:-100], headers={"content-length": str(len(stereo))})
    with pytest.raises(FetchError, match="short body"):
        verify(response)


def test_fetch_authenticates_to_twilio_only_and_follows_the_media_redirect(settings, stereo):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "api.twilio.com":
            return httpx.Response(302, headers={"location": "https://media.example-cdn.net/RE1.mp3?sig=x"})
        return httpx.Response(200, content=stereo)

    media = TwilioMediaFetcher(settings, httpx.MockTransport(handler))(URL)
    assert media.data == stereo and media.channels == 2
    first, second = seen
    assert (
        first.headers["authorization"]
        == "Basic " + base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
    )
    assert "authorization" not in second.headers  # our credentials never leave Twilio


def test_timeouts_and_network_errors_are_transient(settings):
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(FetchError, match="timed out") as caught:
        TwilioMediaFetcher(settings, httpx.MockTransport(timeout))(URL)
    assert not caught.value.permanent


def test_a_non_twilio_url_gets_no_request_and_no_credentials(settings):
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no request expected, got {request.url}")

    fetcher = TwilioMediaFetcher(settings, httpx.MockTransport(never))
    for url in (
        "https://evil.example/RE1.mp3",
        "http://api.twilio.com/RE1.mp3",
        "https://twilio.com.evil.io/x",
    ):
        with pytest.raises(FetchError) as caught:
            fetcher(url)
        assert caught.value.permanent
