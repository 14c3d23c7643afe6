"""`twilio setup` and `twilio doctor`, offline: Twilio through the fake transport, the web mocked."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import httpx
import pytest

from call_center.core.config import Settings
from call_center.telephony.twilio import cli, provisioning
from call_center.telephony.twilio.doctor import Doctor, report
from tests.support.fake_twilio import (
    ACCOUNT_SID,
    API_KEY,
    APP_SID,
    CALLER_ID,
    PUBLIC_URL,
    TWILIO_ENV,
    account_path,
    error_body,
    page,
)

NEW_KEY = "SK" + "d4" * 16
NEW_SECRET = "NewSecret0123456789abcdefghijklm"[:32]
GOOD_APP = {
    "sid": APP_SID,
    "friendly_name": "AlMasar Voice App",
    "voice_url": f"{PUBLIC_URL}/api/calls/twiml/outbound",
    "voice_method": "POST",
    "status_callback": f"{PUBLIC_URL}/api/calls/webhook/status",
    "status_callback_method": "POST",
}


def healthy_web(status: int = 200) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        assert str(request.url) == f"{PUBLIC_URL}/api/health"
        return httpx.Response(status, json={"status": "ok" if status == 200 else "error"})

    return httpx.Client(transport=httpx.MockTransport(handler))


def geo(fake, enabled=True, status=200):
    body = (
        {"iso_code": "EG", "low_risk_numbers_enabled": enabled}
        if status == 200
        else error_body(status, 20003, "no")
    )
    fake.on("GET", "/v1/DialingPermissions/Countries/EG", body, status=status, host="voice.twilio.com")


def healthy_twilio(fake, *, app=GOOD_APP, owned=True):
    geo(fake)
    fake.on("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}.json", {"sid": ACCOUNT_SID, "status": "active"})
    fake.on("GET", account_path(f"Applications/{APP_SID}.json"), app)
    numbers = [{"sid": "PN1", "phone_number": CALLER_ID, "voice_url": ""}] if owned else []
    fake.on("GET", account_path("IncomingPhoneNumbers.json"), page("incoming_phone_numbers", numbers))


def lines(checks):
    return {c.name: c for c in checks}


def test_everything_passes_on_a_good_setup(settings, fake_twilio):
    healthy_twilio(fake_twilio)
    checks = Doctor(settings, http_client=fake_twilio, web=healthy_web(), number="01001234567").run()
    text, ok = report(checks)
    assert ok, text
    assert "FAIL" not in text
    assert lines(checks)["number"].detail == "'01001234567' is dialled as +201001234567"


def test_each_problem_fails_with_its_fix(settings, fake_twilio):
    settings.TWILIO_TWIML_APP_SID = None
    settings.PUBLIC_BASE_URL = "http://calls.example.com"
    fake_twilio.on(
        "GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}.json", {"sid": ACCOUNT_SID, "status": "active"}
    )
    fake_twilio.on("GET", account_path("IncomingPhoneNumbers.json"), page("incoming_phone_numbers", []))
    fake_twilio.on("GET", account_path("OutgoingCallerIds.json"), page("outgoing_caller_ids", []))
    geo(fake_twilio, enabled=False)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    web = httpx.Client(transport=httpx.MockTransport(down))
    checks = lines(Doctor(settings, http_client=fake_twilio, web=web, number="+12025550143").run())
    failed = {name for name, check in checks.items() if not check.ok}
    assert failed == {
        "TWILIO_TWIML_APP_SID",
        "token",
        "https",
        "TwiML App",
        "caller ID",
        "geo permissions",
        "public URL",
        "number",
    }
    assert "TwiML App" in checks["token"].fix and "twilio setup" in checks["TwiML App"].fix
    assert "allow the microphone" in checks["https"].fix
    assert "tunnel" in checks["public URL"].fix
    assert "Verified Caller IDs" in checks["caller ID"].fix
    assert checks["geo permissions"].fix == "Console > Voice > Settings > Geo permissions: enable EG"
    assert "ALLOWED_COUNTRIES" in checks["number"].fix
    text, ok = report(list(checks.values()))
    assert not ok and text.count("fix:") == len(failed)


def test_a_twiml_app_pointing_elsewhere_fails(settings, fake_twilio):
    healthy_twilio(
        fake_twilio, app={**GOOD_APP, "voice_url": "https://old-tunnel.example/api/calls/twiml/outbound"}
    )
    check = Doctor(settings, http_client=fake_twilio, web=healthy_web()).twiml_app()
    assert not check.ok and "old-tunnel" in check.detail and "twilio setup" in check.fix


def test_rejected_credentials_are_explained(settings, fake_twilio):
    refused = error_body(401, 20003, "Authenticate")
    fake_twilio.on("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}.json", refused, status=401)
    fake_twilio.on("GET", account_path(f"Applications/{APP_SID}.json"), refused, status=401)
    fake_twilio.on("GET", account_path("IncomingPhoneNumbers.json"), refused, status=401)
    geo(fake_twilio, status=401)
    checks = lines(Doctor(settings, http_client=fake_twilio, web=healthy_web()).run())
    for name in ("credentials", "TwiML App", "caller ID", "geo permissions"):
        assert not checks[name].ok and "HTTP 401" in checks[name].detail, checks[name]
    assert checks["token"].ok and checks["public URL"].ok  # the others still ran


def test_doctor_command_exit_code(monkeypatch, tmp_path, fake_twilio):
    for name, value in TWILIO_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    healthy_twilio(fake_twilio)
    out = io.StringIO()
    code = cli.run_doctor(
        argparse.Namespace(number=None), http_client=fake_twilio, web=healthy_web(), out=out
    )
    assert code == 0, out.getvalue()
    monkeypatch.delenv("TWILIO_API_SECRET")
    out = io.StringIO()
    assert (
        cli.run_doctor(argparse.Namespace(number=None), http_client=fake_twilio, web=healthy_web(), out=out)
        == 1
    )
    assert "FAIL  TWILIO_API_SECRET: is not set" in out.getvalue()


# setup --------------------------------------------------------------------------------------------------
def owner_settings(tmp_path: Path, **extra) -> Settings:
    values = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_ENV["TWILIO_AUTH_TOKEN"],
        **extra,
    }
    return Settings(DATA_DIR=tmp_path, **values)  # type: ignore[arg-type]


def test_setup_creates_the_app_and_a_key_and_writes_env(tmp_path, fake_twilio, monkeypatch):
    fake_twilio.on("GET", account_path("Applications.json"), page("applications", []))
    fake_twilio.on("POST", account_path("Applications.json"), GOOD_APP)
    fake_twilio.on("POST", account_path("Keys.json"), {"sid": NEW_KEY, "secret": NEW_SECRET})
    env = tmp_path / ".env"
    env.write_text("# mine\nPORT=3100\nPUBLIC_BASE_URL=https://old.example\n")
    args = argparse.Namespace(public_url=PUBLIC_URL + "/", env_file=env, configure_number=False)
    monkeypatch.setattr(cli, "_settings", lambda _out: owner_settings(tmp_path))
    out = io.StringIO()
    code = cli.run_setup(args, http_client=fake_twilio, out=out)
    assert code == 0, out.getvalue()
    created = fake_twilio.calls_to("POST", account_path("Applications.json"))[0].params
    assert created["VoiceUrl"] == f"{PUBLIC_URL}/api/calls/twiml/outbound"
    assert created["StatusCallback"] == f"{PUBLIC_URL}/api/calls/webhook/status"
    assert created["FriendlyName"] == "AlMasar Voice App" and created["VoiceMethod"] == "POST"
    assert {r.username for r in fake_twilio.requests} == {ACCOUNT_SID}
    assert env.read_text() == (
        f"# mine\nPORT=3100\nPUBLIC_BASE_URL={PUBLIC_URL}\nTWILIO_TWIML_APP_SID={APP_SID}\n"
        f"TWILIO_API_KEY={NEW_KEY}\nTWILIO_API_SECRET={NEW_SECRET}\n"
    )
    assert env.stat().st_mode & 0o777 == 0o600
    assert f"created TwiML App {APP_SID}" in out.getvalue() and NEW_SECRET not in out.getvalue()


def test_setup_updates_the_existing_app_and_keeps_a_working_key(tmp_path, fake_twilio):
    fake_twilio.on("GET", account_path(f"Applications/{APP_SID}.json"), GOOD_APP)
    fake_twilio.on("POST", account_path(f"Applications/{APP_SID}.json"), GOOD_APP)
    fake_twilio.on(
        "GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}.json", {"sid": ACCOUNT_SID, "status": "active"}
    )
    fake_twilio.on(
        "GET", account_path("IncomingPhoneNumbers.json"), page("incoming_phone_numbers", [{"sid": "PN1"}])
    )
    fake_twilio.on("POST", account_path("IncomingPhoneNumbers/PN1.json"), {"sid": "PN1"})
    settings = owner_settings(
        tmp_path,
        TWILIO_TWIML_APP_SID=APP_SID,
        TWILIO_API_KEY=API_KEY,
        TWILIO_API_SECRET=TWILIO_ENV["TWILIO_API_SECRET"],
        TWILIO_CALLER_ID=CALLER_ID,
    )
    result = provisioning.setup(settings, PUBLIC_URL, http_client=fake_twilio, configure_number=True)
    assert result.env == {"PUBLIC_BASE_URL": PUBLIC_URL, "TWILIO_TWIML_APP_SID": APP_SID}
    update = fake_twilio.calls_to("POST", account_path(f"Applications/{APP_SID}.json"))[0].params
    assert update["VoiceUrl"] == f"{PUBLIC_URL}/api/calls/twiml/outbound"
    number = fake_twilio.calls_to("POST", account_path("IncomingPhoneNumbers/PN1.json"))[0].params
    assert number["VoiceUrl"] == f"{PUBLIC_URL}/api/calls/twiml/inbound"
    key_check = fake_twilio.calls_to("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}.json")[0]
    assert key_check.username == API_KEY  # the key proved itself
    assert not fake_twilio.calls_to("POST", account_path("Keys.json"))


def test_setup_replaces_a_refused_key_and_a_deleted_app(tmp_path, fake_twilio):
    fake_twilio.on(
        "GET", account_path(f"Applications/{APP_SID}.json"), error_body(404, 20404, "gone"), status=404
    )
    fake_twilio.on("GET", account_path("Applications.json"), page("applications", []))
    fake_twilio.on("POST", account_path("Applications.json"), {**GOOD_APP, "sid": "AP" + "e5" * 16})
    fake_twilio.on(
        "GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}.json", error_body(401, 20003, "no"), status=401
    )
    fake_twilio.on("POST", account_path("Keys.json"), {"sid": NEW_KEY, "secret": NEW_SECRET})
    settings = owner_settings(
        tmp_path, TWILIO_TWIML_APP_SID=APP_SID, TWILIO_API_KEY=API_KEY, TWILIO_API_SECRET="x" * 32
    )
    result = provisioning.setup(settings, PUBLIC_URL, http_client=fake_twilio)
    assert result.env["TWILIO_TWIML_APP_SID"] == "AP" + "e5" * 16
    assert result.env["TWILIO_API_KEY"] == NEW_KEY
    assert any("was refused (HTTP 401)" in action for action in result.actions)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:3000", "https://localhost", "ftp://x.example", "calls.example.com"]
)
def test_setup_refuses_urls_twilio_cannot_reach(tmp_path, url):
    with pytest.raises(provisioning.SetupError):
        provisioning.setup(owner_settings(tmp_path), url)


def test_setup_needs_the_account_credentials(tmp_path):
    with pytest.raises(provisioning.SetupError, match="TWILIO_AUTH_TOKEN"):
        provisioning.setup(Settings(DATA_DIR=tmp_path), PUBLIC_URL)  # type: ignore[call-arg]
