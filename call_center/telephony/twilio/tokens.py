"""Voice access tokens for the agents' browsers (Twilio Voice SDK 2.x)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from call_center.core.config import Settings
from call_center.telephony.base import ProviderError
from call_center.telephony.twilio.client import secret

TOKEN_SETTINGS = ("TWILIO_ACCOUNT_SID", "TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_TWIML_APP_SID")


@dataclass(frozen=True)
class VoiceToken:
    jwt: str
    identity: str
    expires_at: int  # unix seconds: the browser schedules its refresh from this


def token_problems(settings: Settings) -> dict[str, str]:
    """What stops a token from being valid: {variable: problem}; empty when tokens can be issued."""
    problems = {var: "is not set" for var in TOKEN_SETTINGS if not secret(getattr(settings, var))}
    key = settings.TWILIO_API_KEY or ""
    # The seed fell back to the account SID and auth token; Twilio rejects such tokens (error 20101).
    if key.startswith("AC"):
        problems["TWILIO_API_KEY"] = "is an account SID; tokens need an API key SID (SK...)"
    elif key and not key.startswith("SK"):
        problems["TWILIO_API_KEY"] = "must be an API key SID (SK...)"
    app = settings.TWILIO_TWIML_APP_SID or ""
    if app and not app.startswith("AP"):
        problems["TWILIO_TWIML_APP_SID"] = "must be a TwiML App SID (AP...)"
    return problems


def voice_token(settings: Settings, identity: str, *, now: int | None = None) -> VoiceToken:
    """A signed token letting `identity` place calls through the TwiML App and receive calls."""
    problems = token_problems(settings)
    if problems:
        detail = "; ".join(f"{var} {problem}" for var, problem in problems.items())
        raise ProviderError(
            "twilio.error.config",
            f"cannot issue Twilio tokens: {detail} (run `python -m call_center twilio setup`)",
        )
    issued = int(time.time()) if now is None else now
    expires_at = issued + settings.TWILIO_TOKEN_TTL_SECONDS
    token = AccessToken(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_API_KEY,
        secret(settings.TWILIO_API_SECRET),
        identity=identity,
        nbf=issued,
        ttl=settings.TWILIO_TOKEN_TTL_SECONDS,
        valid_until=expires_at,
    )
    token.add_grant(VoiceGrant(outgoing_application_sid=settings.TWILIO_TWIML_APP_SID, incoming_allow=True))
    return VoiceToken(jwt=token.to_jwt(), identity=identity, expires_at=expires_at)
