"""The Twilio engine in a real browser, offline: it loads the bundled SDK, registers with a token from our
server, and explains what goes wrong with Twilio's own error code (here: Twilio cannot be reached)."""

from __future__ import annotations

import base64
import json
import re

import httpx
import pytest
from playwright.sync_api import expect

from call_center.testing.server import start_app
from tests.e2e.conftest import log_in

TWILIO = {
    "TELEPHONY_PROVIDER": "twilio",
    "PUBLIC_BASE_URL": "https://calls.example.com",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "2" * 32,
    "TWILIO_API_KEY": "SK" + "3" * 32,
    "TWILIO_API_SECRET": "A" * 32,
    "TWILIO_TWIML_APP_SID": "AP" + "4" * 32,
    "TWILIO_CALLER_ID": "+201001234567",
}


@pytest.fixture(scope="module")
def twilio_app(tmp_path_factory):
    app = start_app(tmp_path_factory.mktemp("twilio-app") / "data", settings=TWILIO)
    yield app
    app.stop()


def test_the_browser_registers_with_our_token_and_explains_twilio_errors(twilio_app, new_page):
    page = new_page()
    tokens = []
    page.on("response", lambda r: tokens.append(r) if r.url.endswith("/api/calls/token") else None)
    log_in(page, twilio_app)
    # offline, the SDK cannot reach Twilio: the agent is told so, with Twilio's code
    error = page.locator("#device-error")
    expect(error).to_contain_text(
        re.compile(r"Twilio \(Twilio (31005|31009|53000)\)|\(Twilio (31005|31009|53000)\)"), timeout=30000
    )
    expect(error).to_contain_text("تحقق من اتصال الإنترنت والجدار الناري")
    body = tokens[0].json()
    assert body["provider"] == "twilio" and body["identity"] == "agent_1" and body["expires_at"] > 0
    claims = json.loads(base64.urlsafe_b64decode(body["token"].split(".")[1] + "=="))
    assert claims["grants"]["identity"] == "agent_1"
    assert claims["grants"]["voice"]["outgoing"]["application_sid"] == TWILIO["TWILIO_TWIML_APP_SID"]
    # no simulated phones with Twilio, and no local signaling
    assert httpx.get(f"{twilio_app.url}/api/devices/events").status_code in (401, 404)
    expect(page.get_by_role("link", name="هاتف تجريبي")).to_have_count(0)
    page.goto(f"{twilio_app.url}/phone")
    expect(page.get_by_text("404")).to_be_visible()
