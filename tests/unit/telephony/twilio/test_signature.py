from __future__ import annotations

from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

from call_center.telephony.twilio.signature import FormParams, is_valid, public_url, sign
from tests.support.fake_twilio import AUTH_TOKEN, PUBLIC_URL

PARAMS = {"CallSid": "CA123", "CallStatus": "ringing", "To": "+201001234567"}


def test_the_url_is_the_public_one_with_its_query(settings):
    assert public_url(settings, "/api/calls/webhook/status") == f"{PUBLIC_URL}/api/calls/webhook/status"
    assert public_url(settings, "/api/x", "a=1&b=2") == f"{PUBLIC_URL}/api/x?a=1&b=2"


def test_trailing_slash_in_the_setting_does_not_change_the_url(settings):
    settings.PUBLIC_BASE_URL = PUBLIC_URL + "/"
    assert public_url(settings, "/api/x") == f"{PUBLIC_URL}/api/x"


def test_valid_forged_altered_and_misdirected_signatures(settings):
    url = f"{PUBLIC_URL}/api/calls/webhook/status"
    good = sign(AUTH_TOKEN, url, PARAMS)
    assert is_valid(settings, url, PARAMS, good)
    assert not is_valid(settings, url, PARAMS, "")
    assert not is_valid(settings, url, PARAMS, sign("f" * 32, url, PARAMS))
    assert not is_valid(settings, url, {**PARAMS, "CallStatus": "completed"}, good)
    assert not is_valid(settings, "http://127.0.0.1:3000/api/calls/webhook/status", PARAMS, good)


def test_nothing_validates_without_an_auth_token(settings):
    url = f"{PUBLIC_URL}/api/x"
    signature = sign(AUTH_TOKEN, url, PARAMS)
    settings.TWILIO_AUTH_TOKEN = None
    assert not is_valid(settings, url, PARAMS, signature)


def test_repeated_parameters_are_signed_like_twilio_does():
    body = "To=%2B201001234567&Digits=1&Digits=2"
    pairs = parse_qsl(body)
    form = FormParams(pairs)
    url = f"{PUBLIC_URL}/api/x"

    class Multi(dict):
        def getall(self, name):
            return [v for k, v in pairs if k == name]

    expected = RequestValidator(AUTH_TOKEN).compute_signature(url, Multi(pairs))
    assert RequestValidator(AUTH_TOKEN).compute_signature(url, form) == expected
    assert form.as_dict() == {"To": "+201001234567", "Digits": "1"}
