"""X-Twilio-Signature: checked with the official RequestValidator against the public URL.

Twilio signs the URL it requested, which is the public one (PUBLIC_BASE_URL, e.g. a tunnel or a proxy), not
the address this process sees; so the URL is rebuilt from PUBLIC_BASE_URL + path (+ query string).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from twilio.request_validator import RequestValidator

from call_center.core.config import Settings
from call_center.telephony.twilio.client import secret

HEADER = "X-Twilio-Signature"


class FormParams:
    """POST parameters as the validator reads them (repeated names keep every value)."""

    def __init__(self, pairs: Sequence[tuple[str, str]]):
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name, []).append(value)

    def __iter__(self) -> Iterator[str]:  # the validator iterates the names
        return iter(self._values)

    def getall(self, name: str) -> list[str]:
        return self._values.get(name, [])

    def as_dict(self) -> dict[str, str]:
        """One value per name (Twilio never repeats the parameters we read)."""
        return {name: values[0] for name, values in self._values.items()}


def public_url(settings: Settings, path: str, query: str = "") -> str:
    """The URL Twilio requested and signed."""
    url = settings.public_base_url + path
    return f"{url}?{query}" if query else url


def is_valid(settings: Settings, url: str, params: FormParams | Mapping[str, str], signature: str) -> bool:
    """Whether `signature` is Twilio's signature of this request (False when it cannot be checked)."""
    token = secret(settings.TWILIO_AUTH_TOKEN)
    if not token or not signature:
        return False
    return bool(RequestValidator(token).validate(url, params, signature))


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The signature Twilio would send (for tests, the benchmark and `twilio doctor`)."""
    return str(RequestValidator(auth_token).compute_signature(url, params))
