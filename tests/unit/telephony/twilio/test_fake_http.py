"""The fake transport itself, and the REST client built on it."""

from __future__ import annotations

import pytest

from call_center.telephony.twilio.client import rest_client
from tests.support.fake_twilio import (
    ACCOUNT_SID,
    API_KEY,
    FakeTwilioHttp,
    UnexpectedTwilioRequest,
    account_path,
    page,
)


def test_an_unknown_request_fails_loudly_and_lists_what_is_known(settings):
    fake = FakeTwilioHttp()
    fake.on("GET", account_path("Applications.json"), page("applications", []))
    client = rest_client(settings, fake)
    with pytest.raises(UnexpectedTwilioRequest) as caught:
        client.calls.list(limit=1)
    message = str(caught.value)
    assert f"GET https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json" in message
    assert "Applications.json" in message  # what it knows
    assert fake.unexpected  # kept for the fixture, even if the caller swallows the error


def test_rest_calls_use_the_api_key_and_follow_pages(settings, fake_twilio):
    first = page("calls", [{"sid": "CA1"}], next_page_uri=account_path("Calls.json?Page=1&PageToken=PA1"))
    fake_twilio.on("GET", account_path("Calls.json"), first, params={"PageSize": "1"}, times=1)
    fake_twilio.on(
        "GET", account_path("Calls.json"), page("calls", [{"sid": "CA2"}]), params={"PageToken": "PA1"}
    )
    sids = [call.sid for call in rest_client(settings, fake_twilio).calls.stream(page_size=1)]
    assert sids == ["CA1", "CA2"]
    assert {r.username for r in fake_twilio.requests} == {API_KEY}


def test_the_auth_token_is_used_only_when_asked(settings, fake_twilio):
    fake_twilio.on("GET", account_path("Applications.json"), page("applications", []))
    rest_client(settings, fake_twilio, account_owner=True).applications.list()
    assert fake_twilio.requests[0].username == ACCOUNT_SID


def test_the_host_is_part_of_the_route(settings, fake_twilio):
    fake_twilio.on("GET", "/v1/DialingPermissions/Countries/EG", {"iso_code": "EG"}, host="voice.twilio.com")
    client = rest_client(settings, fake_twilio)
    assert client.voice.v1.dialing_permissions.countries("EG").fetch().iso_code == "EG"
    fake_twilio.unexpected.clear()  # what follows is meant to be refused
    with pytest.raises(UnexpectedTwilioRequest, match="https://api.twilio.com/v1/DialingPermissions"):
        fake_twilio.request("GET", "https://api.twilio.com/v1/DialingPermissions/Countries/EG")
    fake_twilio.unexpected.clear()
