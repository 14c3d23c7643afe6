from __future__ import annotations

import jwt
import pytest
from twilio.jwt import JwtDecodeError
from twilio.jwt.access_token import AccessToken

from call_center.models import Agent
from call_center.telephony.base import ProviderError
from call_center.telephony.twilio.provider import TwilioProvider
from call_center.telephony.twilio.tokens import voice_token
from tests.support.fake_twilio import ACCOUNT_SID, API_KEY, API_SECRET, APP_SID

NOW = 1_900_000_000


def test_token_grants_voice_to_the_agent_identity(settings):
    token = voice_token(settings, "agent_7", now=NOW)
    header = jwt.get_unverified_header(token.jwt)
    claims = jwt.decode(
        token.jwt, API_SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_nbf": False}
    )
    assert header["cty"] == "twilio-fpa;v=1"
    assert claims["iss"] == API_KEY and claims["sub"] == ACCOUNT_SID
    assert claims["grants"] == {
        "identity": "agent_7",
        "voice": {"incoming": {"allow": True}, "outgoing": {"application_sid": APP_SID}},
    }
    assert claims["nbf"] == NOW
    assert claims["exp"] == token.expires_at == NOW + 3600


def test_ttl_comes_from_the_settings(settings):
    settings.TWILIO_TOKEN_TTL_SECONDS = 600
    token = voice_token(settings, "agent_1")
    decoded = AccessToken.from_jwt(token.jwt, API_SECRET)
    assert decoded.payload["exp"] - decoded.payload["nbf"] == 600


def test_a_token_signed_with_another_secret_does_not_verify(settings):
    token = voice_token(settings, "agent_1")
    with pytest.raises(JwtDecodeError):
        AccessToken.from_jwt(token.jwt, "another-secret-0123456789abcdefgh")


@pytest.mark.parametrize(
    "var", ["TWILIO_ACCOUNT_SID", "TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_TWIML_APP_SID"]
)
def test_a_missing_setting_is_a_configuration_error_naming_it(settings, var):
    setattr(settings, var, None)
    with pytest.raises(ProviderError) as caught:
        voice_token(settings, "agent_1")
    assert caught.value.code == "twilio.error.config"
    assert var in caught.value.detail and "twilio setup" in caught.value.detail


def test_the_account_sid_is_no_substitute_for_an_api_key(settings):
    # The seed fell back to (account SID, auth token): Twilio rejects those tokens.
    settings.TWILIO_API_KEY = ACCOUNT_SID
    with pytest.raises(ProviderError, match="TWILIO_API_KEY is an account SID"):
        voice_token(settings, "agent_1")


def test_browser_config_carries_token_identity_expiry_and_codecs(settings):
    config = TwilioProvider(settings).browser_config(
        Agent(id=42, email="a@x.com", name="A", password_hash="x")
    )
    assert config["provider"] == "twilio" and config["identity"] == "agent_42"
    assert config["codec_preferences"] == ["opus", "pcmu"]
    claims = AccessToken.from_jwt(config["token"], API_SECRET).payload
    assert claims["grants"]["identity"] == "agent_42"
    assert claims["exp"] == config["expires_at"]
