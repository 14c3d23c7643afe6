"""GET /api/calls/token with TELEPHONY_PROVIDER=twilio: only for a logged-in agent, for that agent only."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from twilio.jwt.access_token import AccessToken

from call_center.api.app import PageGuard, create_api
from call_center.core.config import get_settings
from call_center.telephony import get_provider
from call_center.telephony.twilio.provider import TwilioProvider
from tests.integration.conftest import login
from tests.support.fake_twilio import API_SECRET, APP_SID, twilio_settings  # noqa: F401 (fixture)


@pytest.fixture
def client(database, twilio_settings):  # noqa: F811
    """The app over https: with an https PUBLIC_BASE_URL the session cookie is Secure."""
    with TestClient(
        PageGuard(create_api()),
        base_url="https://calls.example.com",
        headers={"Origin": "https://calls.example.com"},
    ) as c:
        yield c


def test_no_token_without_a_session(client, twilio_settings):  # noqa: F811
    assert client.get("/api/calls/token").status_code == 401


def test_the_token_is_for_the_logged_in_agent_whatever_the_query_says(client, twilio_settings, agent, admin):  # noqa: F811
    assert isinstance(get_provider(), TwilioProvider)
    login(client, "agent@example.com")
    response = client.get("/api/calls/token", params={"identity": f"agent_{admin.id}"})
    assert response.status_code == 200
    body = response.json()
    assert body["provider"] == "twilio" and body["identity"] == f"agent_{agent.id}"
    assert body["codec_preferences"] == ["opus", "pcmu"]
    claims = AccessToken.from_jwt(body["token"], API_SECRET).payload
    assert claims["grants"]["identity"] == f"agent_{agent.id}"
    assert claims["grants"]["voice"]["outgoing"]["application_sid"] == APP_SID
    assert claims["grants"]["voice"]["incoming"]["allow"] is True
    assert claims["exp"] == body["expires_at"]
    assert abs(body["expires_at"] - (time.time() + 3600)) < 60


def test_an_incomplete_configuration_is_a_clear_503(client, twilio_settings, agent, monkeypatch):  # noqa: F811
    settings = get_settings().model_copy(update={"TWILIO_TWIML_APP_SID": None})
    monkeypatch.setattr("call_center.api.routes.calls.get_provider", lambda: TwilioProvider(settings))
    login(client, "agent@example.com")
    response = client.get("/api/calls/token")
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert detail["code"] == "twilio.error.config" and "TWILIO_TWIML_APP_SID is not set" in detail["message"]
    assert API_SECRET not in response.text
