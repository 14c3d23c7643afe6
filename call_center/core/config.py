"""Settings: read once from the environment and `.env`, validated as a whole.

A bad or missing value stops start-up with one message that names every offending variable and says how to
fix it (`ConfigError`). Twilio settings are required only when `TELEPHONY_PROVIDER=twilio`; placeholder
secrets are refused outside local use (`ENVIRONMENT=production`).
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import secrets
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDERS = {
    "changethis",
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "password",
    "admin",
    "test",
    "xxx",
    "todo",
    "example",
}

# How to fix each variable; shown next to the problem.
HELP: dict[str, str] = {
    "ENVIRONMENT": "set ENVIRONMENT=local (one machine) or ENVIRONMENT=production",
    "HOST": "an IP address to bind, e.g. HOST=127.0.0.1 (this machine only) or HOST=0.0.0.0 (all interfaces)",
    "PORT": "a free TCP port between 1 and 65535, e.g. PORT=3000",
    "DATA_DIR": "a writable directory, e.g. DATA_DIR=./data",
    "DATABASE_URL": "e.g. DATABASE_URL=sqlite:///data/call_center.db or "
    "DATABASE_URL=postgresql+psycopg://user:pass@127.0.0.1:5432/dbname",
    "REDIS_URL": "e.g. REDIS_URL=redis://127.0.0.1:6379/0, or leave it unset for one worker",
    "SECRET_KEY": 'generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"',
    "SESSION_TTL_HOURS": "hours a login lasts, 1 to 720, e.g. SESSION_TTL_HOURS=12",
    "ADMIN_EMAIL": "the first admin's e-mail, e.g. ADMIN_EMAIL=admin@example.com",
    "ADMIN_PASSWORD": "at least 10 characters that are not a placeholder, or leave it unset to have one "
    "generated and printed once",
    "TELEPHONY_PROVIDER": "TELEPHONY_PROVIDER=local (built-in, no account) or TELEPHONY_PROVIDER=twilio",
    "PUBLIC_BASE_URL": "the address browsers and Twilio use to reach this app, e.g. "
    "PUBLIC_BASE_URL=https://calls.example.com (https outside local use)",
    "DEFAULT_REGION": "a two-letter region code for numbers typed without +, e.g. DEFAULT_REGION=EG",
    "ALLOWED_COUNTRIES": "comma-separated region codes agents may call, e.g. ALLOWED_COUNTRIES=EG,SA,AE",
    "CALLS_PER_MINUTE": "outbound calls one agent may start per minute, 1 to 120",
    "RING_TIMEOUT_SECONDS": "seconds an unanswered call rings, 5 to 120",
    "QUEUE_STRATEGY": "how waiting calls reach agents: longest-idle, ring-all, round-robin or fewest-calls",
    "QUEUE_RING_SECONDS": "seconds a queue call rings one agent before the next is tried, 5 to 120",
    "QUEUE_MAX_WAIT_SECONDS": "seconds a caller may wait in the queue before the call ends, 10 to 3600",
    "QUEUE_ANNOUNCE_SECONDS": "seconds between announcements of the caller's position, 10 to 600",
    "QUEUE_MAX_MISSES": "queue calls an agent may let ring out in a row before being set to away, 1 to 20",
    "SL_THRESHOLD_SECONDS": "the service level's target: answered within this many seconds, 1 to 600, "
    "e.g. SL_THRESHOLD_SECONDS=20",
    "SHORT_ABANDON_SECONDS": "callers who hang up within this many seconds of queueing are not counted as "
    "abandoned (misdials), 0 to 60",
    "VOICEMAIL_MAX_SECONDS": "the longest voicemail message a caller may leave, in seconds, 10 to 600",
    "WRAPUP_SECONDS": "seconds of after-call work before the agent takes calls again, 0 (none) to 600, "
    "e.g. WRAPUP_SECONDS=30",
    "MEDIA_HOST": "the address(es) the local media server offers to browsers, comma-separated, e.g. "
    "MEDIA_HOST=127.0.0.1 for one machine or your LAN address",
    "MEDIA_CONTROL_PORT": "a free loopback TCP port for the local media server, e.g. MEDIA_CONTROL_PORT=3101",
    "ECHO_NUMBER": "digits only, e.g. ECHO_NUMBER=1000",
    "COMPANY_NUMBER": "the company number simulated phones dial, in E.164, e.g. COMPANY_NUMBER=+20221234567",
    "TWILIO_ACCOUNT_SID": "copy the Account SID (AC + 32 hex characters) from the Twilio Console home page",
    "TWILIO_AUTH_TOKEN": "copy the Auth Token (32 hex characters) from the Twilio Console home page",
    "TWILIO_API_KEY": "create an API key (SK...) in Console > Account > API keys, or run "
    "`python -m call_center twilio setup`",
    "TWILIO_API_SECRET": "the secret shown once when the API key was created, or run "
    "`python -m call_center twilio setup`",
    "TWILIO_TWIML_APP_SID": "create a TwiML App (AP...) in Console > Voice > TwiML Apps, or run "
    "`python -m call_center twilio setup --public-url https://...`",
    "TWILIO_CALLER_ID": "a Twilio number or verified caller ID in E.164, e.g. TWILIO_CALLER_ID=+201001234567",
    "TWILIO_TOKEN_TTL_SECONDS": "lifetime of browser tokens in seconds, 300 to 86400",
    "LOG_LEVEL": "one of DEBUG, INFO, WARNING, ERROR",
    "RECORDING_RETENTION_DAYS": "days recordings and voicemails are kept, 1 to 3650 (unset: forever)",
    "RECORDING_NOTICE": "true or false: incoming callers hear that the call may be recorded",
    "RECORDING_NOTICE_OUTBOUND": "true or false: customers the agents call hear the recording notice when "
    "they answer (Twilio)",
    "RECORDING_NOTICE_AR": "the recording notice in Arabic, at most 300 characters",
    "RECORDING_NOTICE_EN": "the recording notice in English, at most 300 characters",
    "TIMEZONE": "an IANA time zone for times shown and file names, e.g. TIMEZONE=Africa/Cairo",
    "TRUSTED_PROXIES": "comma-separated addresses or networks of your reverse proxies, e.g. "
    "TRUSTED_PROXIES=127.0.0.1 (nginx on this machine); only their X-Forwarded-For is believed",
    "BLOCKED_NUMBER_TYPES": "comma-separated number types agents may not call, from "
    "PREMIUM_RATE, SHARED_COST, PERSONAL_NUMBER, UAN, VOIP, PAGER, VOICEMAIL, TOLL_FREE, "
    "INTERNATIONAL_NETWORK (satellite and other non-geographic ranges); NONE to allow every type",
}

# phonenumbers' PhoneNumberType names that may be blocked, plus our INTERNATIONAL_NETWORK for the
# non-geographic ranges (+870 Inmarsat, +881 satellite, +882/+883 international networks: region "001").
BLOCKABLE_NUMBER_TYPES = frozenset(
    {
        "PREMIUM_RATE",
        "SHARED_COST",
        "PERSONAL_NUMBER",
        "UAN",
        "VOIP",
        "PAGER",
        "VOICEMAIL",
        "TOLL_FREE",
        "INTERNATIONAL_NETWORK",
        "NONE",
    }
)

TWILIO_PATTERNS = {
    "TWILIO_ACCOUNT_SID": r"AC[0-9a-fA-F]{32}",
    "TWILIO_AUTH_TOKEN": r"[0-9a-fA-F]{32}",
    "TWILIO_API_KEY": r"SK[0-9a-fA-F]{32}",
    "TWILIO_API_SECRET": r"[0-9A-Za-z]{32}",
    "TWILIO_TWIML_APP_SID": r"AP[0-9a-fA-F]{32}",
}


class ConfigError(Exception):
    """Start-up configuration problems, one line per offending variable."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        lines = [
            f"  - {var}: {problem}. Fix: {HELP.get(var, 'see .env.example')}"
            for var, problem in problems.items()
        ]
        super().__init__(
            "The configuration is not valid (environment variables or .env):\n" + "\n".join(lines)
        )


def _is_placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    return lowered in PLACEHOLDERS or lowered.startswith(("your", "<", "xxx", "changeme", "change-this"))


CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """Every setting of the app. Defaults are the embedded, one-machine set-up."""

    model_config = SettingsConfigDict(
        env_file=os.environ.get("CALL_CENTER_ENV_FILE", ".env"),
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=True,
    )

    ENVIRONMENT: Literal["local", "production"] = "local"
    HOST: str = "127.0.0.1"
    PORT: int = Field(3000, ge=1, le=65535)
    DATA_DIR: Path = Path("data")
    DATABASE_URL: str | None = None
    REDIS_URL: str | None = None
    SECRET_KEY: SecretStr | None = None
    SESSION_TTL_HOURS: int = Field(12, ge=1, le=720)
    LOGIN_MAX_FAILURES: int = Field(5, ge=1, le=100)
    LOGIN_WINDOW_MINUTES: int = Field(15, ge=1, le=1440)
    ADMIN_EMAIL: str = "admin@almasar.local"
    ADMIN_NAME: str = "Admin"
    ADMIN_PASSWORD: SecretStr | None = None
    TELEPHONY_PROVIDER: Literal["local", "twilio"] = "local"
    PUBLIC_BASE_URL: str | None = None
    DEFAULT_REGION: str = "EG"
    ALLOWED_COUNTRIES: CommaList = ["EG"]
    CALLS_PER_MINUTE: int = Field(10, ge=1, le=120)
    RING_TIMEOUT_SECONDS: int = Field(30, ge=5, le=120)
    WRAPUP_SECONDS: int = Field(30, ge=0, le=600)
    QUEUE_STRATEGY: Literal["longest-idle", "ring-all", "round-robin", "fewest-calls"] = "longest-idle"
    QUEUE_RING_SECONDS: int = Field(15, ge=5, le=120)
    QUEUE_MAX_WAIT_SECONDS: int = Field(300, ge=10, le=3600)
    QUEUE_ANNOUNCE_SECONDS: int = Field(30, ge=10, le=600)
    QUEUE_MAX_MISSES: int = Field(3, ge=1, le=20)
    VOICEMAIL_MAX_SECONDS: int = Field(120, ge=10, le=600)
    SL_THRESHOLD_SECONDS: int = Field(20, ge=1, le=600)
    SHORT_ABANDON_SECONDS: int = Field(5, ge=0, le=60)
    MEDIA_HOST: CommaList = ["127.0.0.1"]
    MEDIA_CONTROL_PORT: int = Field(0, ge=0, le=65535)
    ECHO_NUMBER: str = "1000"
    COMPANY_NUMBER: str = "+20221234567"
    TWILIO_ACCOUNT_SID: str | None = None
    TWILIO_AUTH_TOKEN: SecretStr | None = None
    TWILIO_API_KEY: str | None = None
    TWILIO_API_SECRET: SecretStr | None = None
    TWILIO_TWIML_APP_SID: str | None = None
    TWILIO_CALLER_ID: str | None = None
    TWILIO_TOKEN_TTL_SECONDS: int = Field(3600, ge=300, le=86400)
    TWILIO_DELETE_AFTER_DOWNLOAD: bool = False
    RECORDING_NOTICE: bool = True
    RECORDING_NOTICE_OUTBOUND: bool = False
    RECORDING_RETENTION_DAYS: int | None = Field(None, ge=1, le=3650)
    RECORDING_NOTICE_AR: str | None = Field(None, max_length=300)
    RECORDING_NOTICE_EN: str | None = Field(None, max_length=300)
    # Where Twilio's REST API is: unset for https://api.twilio.com, a regional edge
    # (https://api.dublin.ie1.twilio.com), or an offline fake on this machine in tests (http://127.0.0.1:...).
    TWILIO_API_URL: str | None = None
    TIMEZONE: str = "Africa/Cairo"
    TRUSTED_PROXIES: CommaList = []
    BLOCKED_NUMBER_TYPES: CommaList = [
        "PREMIUM_RATE",
        "SHARED_COST",
        "PERSONAL_NUMBER",
        "UAN",
        "VOIP",
        "PAGER",
        "INTERNATIONAL_NETWORK",
    ]
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    DEBUG_MEDIA: bool = False

    @field_validator(
        "ALLOWED_COUNTRIES", "MEDIA_HOST", "TRUSTED_PROXIES", "BLOCKED_NUMBER_TYPES", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("TWILIO_API_URL")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
        if not (parts.scheme == "https" and parts.hostname) and not loopback:
            raise ValueError("TWILIO_API_URL must be an https:// URL (or http:// on this machine, for tests)")
        return value.rstrip("/")

    @field_validator("DEFAULT_REGION", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    # Derived values -------------------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.DATA_DIR.expanduser().resolve()

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"

    @property
    def database_url(self) -> str:
        if self.DATABASE_URL:
            return self.DATABASE_URL
        return f"sqlite:///{self.data_dir / 'call_center.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def public_base_url(self) -> str:
        if self.PUBLIC_BASE_URL:
            return self.PUBLIC_BASE_URL.rstrip("/")
        host = "127.0.0.1" if self.HOST in ("0.0.0.0", "::") else self.HOST
        return f"http://{host}:{self.PORT}"

    @property
    def allowed_origins(self) -> list[str]:
        """Origins our pages are served from: the public address and, for local use, this machine's own
        (an agent may open http://127.0.0.1:PORT next to a tunnel)."""
        origins = {self.public_base_url}
        if self.ENVIRONMENT == "local":
            origins |= {
                f"http://127.0.0.1:{self.PORT}",
                f"http://localhost:{self.PORT}",
                f"http://{self.HOST}:{self.PORT}",
            }
        return sorted(origins)

    @property
    def secure_cookies(self) -> bool:
        return self.public_base_url.startswith("https://")

    @property
    def media_control_port(self) -> int:
        return self.MEDIA_CONTROL_PORT or self.PORT + 101

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.TIMEZONE)

    @property
    def allowed_countries(self) -> set[str]:
        return {c.upper() for c in self.ALLOWED_COUNTRIES}

    @property
    def blocked_number_types(self) -> set[str]:
        types = {t.strip().upper() for t in self.BLOCKED_NUMBER_TYPES}
        return set() if types == {"NONE"} else types

    def is_trusted_proxy(self, address: str) -> bool:
        """Whether `address` is one of TRUSTED_PROXIES (an address or a network)."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.TRUSTED_PROXIES)

    def secret_key(self) -> str:
        """The signing key: from SECRET_KEY, or (local use only) generated once and kept in DATA_DIR."""
        if self.SECRET_KEY is not None:
            return self.SECRET_KEY.get_secret_value()
        path = self.data_dir / ".secret_key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


def _check(settings: Settings) -> dict[str, str]:
    """Cross-field rules pydantic cannot express; returns {variable: problem}."""
    problems: dict[str, str] = {}
    production = settings.ENVIRONMENT == "production"

    try:
        ipaddress.ip_address(settings.HOST)
    except ValueError:
        if settings.HOST != "localhost":
            problems["HOST"] = f"{settings.HOST!r} is not an IP address"

    url = settings.database_url
    if not url.startswith(("sqlite://", "postgresql")):
        problems["DATABASE_URL"] = "only sqlite:/// and postgresql+psycopg:// URLs are supported"
    elif url.startswith("postgresql") and not url.startswith("postgresql+psycopg://"):
        problems["DATABASE_URL"] = "use the psycopg 3 driver: postgresql+psycopg://..."

    if settings.REDIS_URL and not settings.REDIS_URL.startswith(("redis://", "rediss://")):
        problems["REDIS_URL"] = "must start with redis:// or rediss://"

    if settings.SECRET_KEY is not None:
        key = settings.SECRET_KEY.get_secret_value()
        if _is_placeholder(key) or len(key) < 32:
            problems["SECRET_KEY"] = "is a placeholder or shorter than 32 characters"
    elif production:
        problems["SECRET_KEY"] = "is required when ENVIRONMENT=production"

    if settings.ADMIN_PASSWORD is not None:
        password = settings.ADMIN_PASSWORD.get_secret_value()
        if len(password) < 10 or _is_placeholder(password):
            problems["ADMIN_PASSWORD"] = "is a placeholder or shorter than 10 characters"
    if "@" not in settings.ADMIN_EMAIL:
        problems["ADMIN_EMAIL"] = f"{settings.ADMIN_EMAIL!r} is not an e-mail address"

    if settings.PUBLIC_BASE_URL:
        parts = urlsplit(settings.PUBLIC_BASE_URL)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems["PUBLIC_BASE_URL"] = f"{settings.PUBLIC_BASE_URL!r} is not an http(s) URL"
        elif production and parts.scheme != "https":
            problems["PUBLIC_BASE_URL"] = "must be https:// when ENVIRONMENT=production (WebRTC needs HTTPS)"
    elif production:
        problems["PUBLIC_BASE_URL"] = "is required when ENVIRONMENT=production"

    regions = phonenumbers.SUPPORTED_REGIONS
    if settings.DEFAULT_REGION not in regions:
        problems["DEFAULT_REGION"] = f"{settings.DEFAULT_REGION!r} is not a known region code"
    bad = [c for c in settings.ALLOWED_COUNTRIES if c.upper() not in regions]
    if bad or not settings.ALLOWED_COUNTRIES:
        problems["ALLOWED_COUNTRIES"] = f"unknown region code(s): {', '.join(bad)}" if bad else "is empty"

    for host in settings.MEDIA_HOST:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            problems["MEDIA_HOST"] = f"{host!r} is not an IP address"
    if not settings.ECHO_NUMBER.isdigit():
        problems["ECHO_NUMBER"] = f"{settings.ECHO_NUMBER!r} is not digits only"
    try:
        company = phonenumbers.parse(settings.COMPANY_NUMBER, None)
        if not phonenumbers.is_possible_number(company):
            raise ValueError
    except (phonenumbers.NumberParseException, ValueError):
        problems["COMPANY_NUMBER"] = f"{settings.COMPANY_NUMBER!r} is not an E.164 number"

    for net in settings.TRUSTED_PROXIES:
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            problems["TRUSTED_PROXIES"] = f"{net!r} is not an IP address or network"
    unknown = settings.blocked_number_types - BLOCKABLE_NUMBER_TYPES
    if unknown:
        problems["BLOCKED_NUMBER_TYPES"] = f"unknown number type(s): {', '.join(sorted(unknown))}"

    try:
        ZoneInfo(settings.TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        problems["TIMEZONE"] = f"{settings.TIMEZONE!r} is not a known time zone"

    if settings.TELEPHONY_PROVIDER == "twilio":
        problems.update(_check_twilio(settings))
    return problems


def _check_twilio(settings: Settings) -> dict[str, str]:
    problems: dict[str, str] = {}
    for var, pattern in TWILIO_PATTERNS.items():
        raw = getattr(settings, var)
        value = raw.get_secret_value() if isinstance(raw, SecretStr) else raw
        if not value:
            problems[var] = "is required when TELEPHONY_PROVIDER=twilio"
        elif _is_placeholder(value) or not re.fullmatch(pattern, value):
            problems[var] = "does not look like a real value (placeholder or wrong format)"
    caller = settings.TWILIO_CALLER_ID
    if not caller:
        problems["TWILIO_CALLER_ID"] = "is required when TELEPHONY_PROVIDER=twilio"
    else:
        try:
            parsed = phonenumbers.parse(caller, None)
            if not phonenumbers.is_valid_number(parsed):
                raise ValueError
        except (phonenumbers.NumberParseException, ValueError):
            problems["TWILIO_CALLER_ID"] = f"{caller!r} is not a valid E.164 number"
    if not settings.PUBLIC_BASE_URL:
        problems["PUBLIC_BASE_URL"] = (
            "is required when TELEPHONY_PROVIDER=twilio (Twilio must reach the webhooks)"
        )
    return problems


def load_settings(**overrides: object) -> Settings:
    """Build and validate settings; raises ConfigError naming every bad variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors():
            var = str(error["loc"][0]) if error["loc"] else "?"
            shown = "" if re.search("SECRET|TOKEN|PASSWORD", var) else f" (got {error.get('input')!r})"
            problems.setdefault(var, f"{error['msg']}{shown}")
        raise ConfigError(problems) from None
    problems = _check(settings)
    if problems:
        raise ConfigError(problems)
    return settings


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, validated once."""
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()
