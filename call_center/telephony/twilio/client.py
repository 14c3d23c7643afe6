"""Twilio's REST API through the official library, with its transport as the seam tests replace.

Everything that talks to api.twilio.com at run time (reconcile, deleting a downloaded recording, `twilio
setup` and `twilio doctor`) gets its `twilio.rest.Client` from here, so a test passes a fake `http_client`
and no request can leave the machine.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from call_center.core.config import Settings
from call_center.telephony.base import ProviderError

API_BASE = "https://api.twilio.com"
# Twilio answers the REST API in well under a second; a stuck connection must not stall a worker.
REST_TIMEOUT_SECONDS = 15.0


def secret(value: object) -> str | None:
    """The plain value of a setting that may be a pydantic SecretStr."""
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    return getter() if callable(getter) else str(value)


def api_credentials(settings: Settings) -> tuple[str, str]:
    """(username, password) for the REST API and media: the API key if there is one, else the auth token."""
    key, key_secret = settings.TWILIO_API_KEY, secret(settings.TWILIO_API_SECRET)
    if key and key_secret:
        return key, key_secret
    account, token = settings.TWILIO_ACCOUNT_SID, secret(settings.TWILIO_AUTH_TOKEN)
    if account and token:
        return account, token
    raise ProviderError(
        "twilio.error.config",
        "set TWILIO_API_KEY and TWILIO_API_SECRET (or TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN) "
        "to use Twilio's REST API",
    )


def rest_client(
    settings: Settings, http_client: HttpClient | None = None, *, account_owner: bool = False
) -> Client:
    """A REST client for the configured account.

    `account_owner=True` authenticates with the account SID and auth token: creating API keys needs it
    (a standard API key cannot create keys).
    """
    account = settings.TWILIO_ACCOUNT_SID
    if not account:
        raise ProviderError("twilio.error.config", "TWILIO_ACCOUNT_SID is not set")
    if account_owner:
        token = secret(settings.TWILIO_AUTH_TOKEN)
        if not token:
            raise ProviderError("twilio.error.config", "TWILIO_AUTH_TOKEN is not set")
        username, password = account, token
    else:
        username, password = api_credentials(settings)
    client = Client(
        username=username,
        password=password,
        account_sid=account,
        http_client=http_client or TwilioHttpClient(timeout=REST_TIMEOUT_SECONDS),
        environment={},  # never pick up credentials from os.environ behind our back
    )
    if settings.TWILIO_API_URL:
        client.api.base_url = settings.TWILIO_API_URL  # a regional edge, or the tests' offline fake
    return client


def is_twilio_url(url: str) -> bool:
    """Only Twilio's own hosts may receive our credentials (a recording URL comes from a callback)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and (host == "twilio.com" or host.endswith(".twilio.com"))


def media_url(recording_url_or_uri: str, *, dual: bool = True) -> str:
    """The MP3 of a recording from its callback `RecordingUrl` or its REST `uri` (…/RE….json)."""
    base = recording_url_or_uri
    if base.startswith("/"):
        base = API_BASE + base
    base = base.split("?", 1)[0]
    for suffix in (".json", ".mp3", ".wav"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    url = base + ".mp3"
    return url + "?RequestedChannels=2" if dual else url
