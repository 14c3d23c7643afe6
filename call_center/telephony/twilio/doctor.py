"""`twilio doctor`: every item of the old troubleshooting list, checked, with the fix for each failure.

The seed's list: "Token generation failed" (a missing TwiML App SID), "No microphone access" (a page not on
HTTPS, or the permission denied), "Call failed to connect" (the tunnel is down, the TwiML App's Voice URL is
wrong, or the number is wrong) and "Recordings not showing" (the app or its API is down).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from requests.exceptions import RequestException
from twilio.http import HttpClient
from twilio.jwt.access_token import AccessToken
from twilio.rest import Client

from call_center.core.config import HELP, TWILIO_PATTERNS, Settings
from call_center.services import numbers
from call_center.services.errors import DomainError
from call_center.telephony.twilio.client import rest_client, secret
from call_center.telephony.twilio.tokens import token_problems, voice_token
from call_center.telephony.twilio.voice import STATUS_PATH

OUTBOUND_PATH = "/api/calls/twiml/outbound"
INBOUND_PATH = "/api/calls/twiml/inbound"
SETUP = "python -m call_center twilio setup --public-url https://<your public URL>"
REQUIRED = (*TWILIO_PATTERNS, "TWILIO_CALLER_ID", "PUBLIC_BASE_URL")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, False, detail, fix)


class Doctor:
    """Runs the checks; the Twilio REST transport and the web client are injectable (tests run offline)."""

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: HttpClient | None = None,
        web: httpx.Client | None = None,
        number: str | None = None,
    ):
        self.settings = settings
        self._http_client = http_client
        self._web = web
        self._number = number
        self._client: Client | None = None

    def run(self) -> list[Check]:
        checks = [*self.settings_checks(), self.token(), self.https()]
        remote: list[tuple[str, Callable[[], Check]]] = [
            ("credentials", self.credentials),
            ("TwiML App", self.twiml_app),
            ("caller ID", self.caller_id),
            ("geo permissions", self.geo_permissions),
            ("public URL", self.public_url),
        ]
        checks += [self._guarded(name, step) for name, step in remote]
        checks.append(self.recordings_store())
        if self._number:
            checks.append(self.dialled_number(self._number))
        return checks

    def _guarded(self, name: str, step: Callable[[], Check]) -> Check:
        try:
            return step()
        except Exception as exc:  # one broken check must not hide the others
            return _fail(name, f"could not check: {_describe(exc)}", _fix_for(exc))

    def _rest(self) -> Client:
        if self._client is None:
            self._client = rest_client(self.settings, self._http_client)
        return self._client

    # Settings -----------------------------------------------------------------------------------------
    def settings_checks(self) -> list[Check]:
        checks = []
        provider = self.settings.TELEPHONY_PROVIDER
        checks.append(
            Check("TELEPHONY_PROVIDER", True, "twilio")
            if provider == "twilio"
            else _fail("TELEPHONY_PROVIDER", f"is {provider!r}", "set TELEPHONY_PROVIDER=twilio in .env")
        )
        for var in REQUIRED:
            value = secret(getattr(self.settings, var))
            pattern = TWILIO_PATTERNS.get(var)
            if not value:
                checks.append(_fail(var, "is not set", HELP[var]))
            elif pattern and not re.fullmatch(pattern, value):
                checks.append(_fail(var, "does not look right (wrong format)", HELP[var]))
            else:
                shown = value if var in ("TWILIO_CALLER_ID", "PUBLIC_BASE_URL") else f"{value[:4]}…"
                checks.append(
                    Check(
                        var, True, f"set ({shown})" if "SECRET" not in var and "TOKEN" not in var else "set"
                    )
                )
        return checks

    def token(self) -> Check:
        """Build a token and read it back (the old "Token generation failed")."""
        problems = token_problems(self.settings)
        if problems:
            var = next(iter(problems))
            return _fail("token", f"cannot generate: {var} {problems[var]}", HELP[var])
        issued = voice_token(self.settings, "agent_doctor")
        decoded = AccessToken.from_jwt(issued.jwt, secret(self.settings.TWILIO_API_SECRET))
        grant = decoded.payload.get("grants", {}).get("voice", {})
        if grant.get("outgoing", {}).get("application_sid") != self.settings.TWILIO_TWIML_APP_SID:
            return _fail("token", "the voice grant does not name the TwiML App", HELP["TWILIO_TWIML_APP_SID"])
        return Check(
            "token",
            True,
            f"voice token with the TwiML App grant, valid {self.settings.TWILIO_TOKEN_TTL_SECONDS} s",
        )

    def https(self) -> Check:
        """Browsers allow the microphone only on https:// or localhost (the old "No microphone access")."""
        base = self.settings.public_base_url
        if base.startswith("https://"):
            return Check("https", True, f"{base} is https (then the browser asks for the microphone: Allow)")
        return _fail(
            "https",
            f"{base} is not https: browsers block the microphone there",
            "use the https URL of a tunnel or proxy as PUBLIC_BASE_URL; in the browser, allow the microphone",
        )

    # Twilio account --------------------------------------------------------------------------------------
    def credentials(self) -> Check:
        account = self._rest().api.v2010.accounts(self.settings.TWILIO_ACCOUNT_SID).fetch()
        if account.status != "active":
            return _fail(
                "credentials", f"the account is {account.status}", "reactivate it in the Twilio Console"
            )
        return Check("credentials", True, f"the API key works for account {account.sid}")

    def twiml_app(self) -> Check:
        """The TwiML App's Voice URL must be our outbound route (the old "Call failed to connect")."""
        sid = self.settings.TWILIO_TWIML_APP_SID
        if not sid:
            return _fail("TwiML App", "TWILIO_TWIML_APP_SID is not set", SETUP)
        app = self._rest().applications(sid).fetch()
        base = self.settings.public_base_url
        wrong = []
        if app.voice_url != base + OUTBOUND_PATH or (app.voice_method or "POST").upper() != "POST":
            wrong.append(
                f"Voice URL is {app.voice_method} {app.voice_url!r}, expected POST {base + OUTBOUND_PATH!r}"
            )
        if app.status_callback != base + STATUS_PATH:
            wrong.append(f"Status Callback is {app.status_callback!r}, expected {base + STATUS_PATH!r}")
        if wrong:
            return _fail(
                "TwiML App", "; ".join(wrong), SETUP.replace("<your public URL>", base.split("://", 1)[-1])
            )
        return Check("TwiML App", True, f"{sid} points at {base}")

    def caller_id(self) -> Check:
        number = self.settings.TWILIO_CALLER_ID or ""
        fix = "buy a number (Console > Phone Numbers > Buy a number) or verify yours (Verified Caller IDs)"
        try:
            number = numbers.to_e164(number, "ZZ")
        except DomainError:
            return _fail("caller ID", f"{number!r} is not an E.164 number", HELP["TWILIO_CALLER_ID"])
        client = self._rest()
        owned = client.incoming_phone_numbers.list(phone_number=number, limit=1)
        if owned:
            inbound = self.settings.public_base_url + INBOUND_PATH
            note = (
                "incoming calls reach agents"
                if owned[0].voice_url == inbound
                else ("incoming calls are not routed here (optional: `twilio setup --configure-number`)")
            )
            return Check("caller ID", True, f"{number} is a Twilio number of this account; {note}")
        if client.outgoing_caller_ids.list(phone_number=number, limit=1):
            return Check("caller ID", True, f"{number} is a verified caller ID (outbound only)")
        return _fail("caller ID", f"{number} is neither a Twilio number nor a verified caller ID here", fix)

    def geo_permissions(self) -> Check:
        """Twilio refuses calls to countries the account has not enabled (a "Call failed to connect")."""
        countries = self._rest().voice.v1.dialing_permissions.countries
        closed = [
            code
            for code in sorted(self.settings.allowed_countries)
            if not countries(code).fetch().low_risk_numbers_enabled
        ]
        if closed:
            return _fail(
                "geo permissions",
                f"calls to {', '.join(closed)} are disabled on the Twilio account",
                f"Console > Voice > Settings > Geo permissions: enable {', '.join(closed)}",
            )
        return Check(
            "geo permissions",
            True,
            f"calls to {', '.join(sorted(self.settings.allowed_countries))} are enabled",
        )

    # This app --------------------------------------------------------------------------------------------
    def public_url(self) -> Check:
        """Is the app reachable where Twilio calls it? (calls failing to connect, recordings not showing)"""
        url = self.settings.public_base_url + "/api/health"
        fix = "start the app and the tunnel; PUBLIC_BASE_URL must be the tunnel's current URL"
        web = self._web or httpx.Client(timeout=10.0)
        try:
            response = web.get(url)
        except httpx.HTTPError as exc:
            return _fail("public URL", f"GET {url} failed ({exc.__class__.__name__})", fix)
        finally:
            if self._web is None:
                web.close()
        try:
            healthy = response.status_code == 200 and response.json().get("status") == "ok"
        except ValueError:  # something else answers there (a tunnel's error page)
            healthy = False
        if not healthy:
            return _fail("public URL", f"GET {url} answered HTTP {response.status_code}", fix)
        return Check("public URL", True, f"{url} answers")

    def recordings_store(self) -> Check:
        directory = self.settings.recordings_dir
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".doctor-"):
                pass
        except OSError as exc:
            return _fail(
                "recordings store", f"{directory} is not writable ({exc.strerror})", HELP["DATA_DIR"]
            )
        return Check("recordings store", True, f"{directory} is writable")

    def dialled_number(self, raw: str) -> Check:
        """What the server will make of a dialled number (the old "…or the dialled number is wrong")."""
        try:
            destination = numbers.destination(raw, self.settings)
        except DomainError as exc:
            return _fail(
                "number", f"{raw!r}: {exc.detail}", f"{HELP['ALLOWED_COUNTRIES']}; {HELP['DEFAULT_REGION']}"
            )
        return Check("number", True, f"{raw!r} is dialled as {destination.e164}")


def _describe(exc: Exception) -> str:
    status: Any = getattr(exc, "status", None)
    if status in (401, 403):
        return f"Twilio refused the credentials (HTTP {status})"
    if status == 404:
        return "not found on this Twilio account (HTTP 404)"
    if isinstance(exc, RequestException):
        return f"cannot reach api.twilio.com ({exc.__class__.__name__})"
    message = getattr(exc, "msg", None) or str(exc)
    return f"{exc.__class__.__name__}: {message}"[:300]


def _fix_for(exc: Exception) -> str:
    status: Any = getattr(exc, "status", None)
    if status in (401, 403):
        return "check TWILIO_API_KEY and TWILIO_API_SECRET, or run `twilio setup` to create a working API key"
    if status == 404:
        return SETUP
    if isinstance(exc, RequestException):
        return "this machine must reach https://api.twilio.com (network, DNS, proxy settings)"
    return "check the TWILIO_* settings, then run the doctor again"


def report(checks: list[Check]) -> tuple[str, bool]:
    """The printable report and whether everything passed."""
    lines = []
    for check in checks:
        lines.append(f"{'PASS' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
        if not check.ok and check.fix:
            lines.append(f"      fix: {check.fix}")
    failed = sum(not c.ok for c in checks)
    lines.append(
        f"\n{len(checks) - failed} of {len(checks)} checks pass."
        + (" Fix the FAIL lines above." if failed else "")
    )
    return "\n".join(lines), failed == 0
