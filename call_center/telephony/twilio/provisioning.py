"""`twilio setup`: create or update the TwiML App and an API key, and write their SIDs to `.env`."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from twilio.base.exceptions import TwilioRestException
from twilio.http import HttpClient
from twilio.rest import Client
from twilio.rest.api.v2010.account.application import ApplicationInstance

from call_center.core.config import Settings
from call_center.telephony.twilio.client import rest_client
from call_center.telephony.twilio.doctor import INBOUND_PATH, OUTBOUND_PATH
from call_center.telephony.twilio.voice import STATUS_PATH

APP_NAME = "AlMasar Voice App"  # the seed's friendly name, so an existing app is found and updated
KEY_NAME = "AlMasar call center"


class SetupError(Exception):
    """Setup cannot go on; the message says what to do."""


@dataclass
class SetupResult:
    actions: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def check_public_url(url: str) -> str:
    """The public base URL without a trailing slash; SetupError if Twilio could never reach it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SetupError(f"--public-url {url!r} is not an http(s) URL, e.g. https://abc.trycloudflare.com")
    if parts.hostname in ("localhost", "127.0.0.1", "::1", "0.0.0.0") or parts.hostname.endswith(".local"):
        raise SetupError(
            f"Twilio cannot reach {parts.hostname}: start a tunnel and pass its public https URL instead"
        )
    return url.strip().rstrip("/")


def _missing(status: int) -> bool:
    return status == 404


def setup(
    settings: Settings,
    public_url: str,
    *,
    http_client: HttpClient | None = None,
    configure_number: bool = False,
) -> SetupResult:
    """Provision the account for this app at `public_url`; returns what it did and the .env values."""
    base = check_public_url(public_url)
    if not settings.TWILIO_ACCOUNT_SID or not settings.TWILIO_AUTH_TOKEN:
        raise SetupError(
            "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (Twilio Console home page) in .env first"
        )
    client = rest_client(settings, http_client, account_owner=True)
    result = SetupResult(env={"PUBLIC_BASE_URL": base})
    urls = {
        "voice_url": base + OUTBOUND_PATH,
        "voice_method": "POST",
        "status_callback": base + STATUS_PATH,
        "status_callback_method": "POST",
    }
    app = _existing_app(client, settings.TWILIO_TWIML_APP_SID)
    if app is not None:
        client.applications(app.sid).update(**urls)
        result.actions.append(f"updated TwiML App {app.sid}: Voice URL {urls['voice_url']}")
    else:
        app = client.applications.create(friendly_name=APP_NAME, **urls)
        result.actions.append(f"created TwiML App {app.sid} ({APP_NAME}): Voice URL {urls['voice_url']}")
    result.actions.append(f"status callback: {urls['status_callback']}")
    result.env["TWILIO_TWIML_APP_SID"] = str(app.sid)
    _api_key(client, settings, http_client, result)
    if configure_number:
        _number(client, settings, base, result)
    return result


def _existing_app(client: Client, sid: str | None) -> ApplicationInstance | None:
    if sid:
        try:
            return client.applications(sid).fetch()
        except TwilioRestException as exc:
            if not _missing(exc.status):
                raise
    found = client.applications.list(friendly_name=APP_NAME, limit=1)
    return found[0] if found else None


def _api_key(client: Client, settings: Settings, http_client: HttpClient | None, result: SetupResult) -> None:
    """Keep a working API key; otherwise create one (its secret is shown by Twilio only once: into .env)."""
    if settings.TWILIO_API_KEY and settings.TWILIO_API_SECRET:
        try:
            # Authenticating with the key itself proves both the SID and the secret.
            rest_client(settings, http_client).api.v2010.accounts(settings.TWILIO_ACCOUNT_SID).fetch()
            result.actions.append(f"kept API key {settings.TWILIO_API_KEY} (it works)")
            return
        except TwilioRestException as exc:
            if exc.status not in (401, 403, 404):
                raise
            result.actions.append(
                f"API key {settings.TWILIO_API_KEY} was refused (HTTP {exc.status}); replacing it"
            )
    key = client.new_keys.create(friendly_name=KEY_NAME)
    result.env["TWILIO_API_KEY"] = str(key.sid)
    result.env["TWILIO_API_SECRET"] = str(key.secret)
    result.actions.append(f"created API key {key.sid} ({KEY_NAME}); its secret is written to .env only")


def _number(client: Client, settings: Settings, base: str, result: SetupResult) -> None:
    number = settings.TWILIO_CALLER_ID
    owned = client.incoming_phone_numbers.list(phone_number=number, limit=1) if number else []
    if not owned:
        result.actions.append(
            f"TWILIO_CALLER_ID {number!r} is not a Twilio number here: incoming calls not set up"
        )
        return
    client.incoming_phone_numbers(owned[0].sid).update(
        voice_url=base + INBOUND_PATH,
        voice_method="POST",
        status_callback=base + STATUS_PATH,
        status_callback_method="POST",
    )
    result.actions.append(f"incoming calls to {number} now ring the agents ({base + INBOUND_PATH})")


def write_env(path: Path, values: dict[str, str]) -> None:
    """Set `values` in a .env file, keeping every other line; atomic, readable by the owner only."""
    lines = path.read_text().splitlines() if path.exists() else []
    pending = dict(values)
    for index, line in enumerate(lines):
        match = re.match(r"^\s*([A-Z0-9_]+)\s*=", line)
        if match and match.group(1) in pending:
            lines[index] = f"{match.group(1)}={pending.pop(match.group(1))}"
    lines += [f"{name}={value}" for name, value in pending.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".env-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
