"""Phone numbers: parsing to E.164, display formats, and the toll-fraud guard for outbound calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import phonenumbers
from sqlalchemy import func
from sqlmodel import Session, col, select

from call_center.core.config import Settings
from call_center.models import Call, Direction
from call_center.models.base import utcnow
from call_center.services.errors import Forbidden, InvalidInput, RateLimited


@dataclass(frozen=True)
class Destination:
    """A number an agent may call: E.164 plus what the UI shows."""

    e164: str
    region: str
    display: str
    is_echo: bool = False


def parse(raw: str, region: str) -> phonenumbers.PhoneNumber:
    """The number in `raw` (national numbers read in `region`), or InvalidInput."""
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise InvalidInput("dial.error.invalid", "enter a phone number")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput("dial.error.invalid", f"{raw!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("dial.error.invalid", f"{raw!r} is not a valid phone number")
    return number


def to_e164(raw: str, region: str) -> str:
    return phonenumbers.format_number(parse(raw, region), phonenumbers.PhoneNumberFormat.E164)


# libphonenumber groups Egyptian mobiles as "10 01234567"; people write and read them as "100 123 4567".
_EG_MOBILE = phonenumbers.NumberFormat(pattern=r"(\d{3})(\d{3})(\d{4})", format=r"\1 \2 \3")


def display(e164: str, region: str = "EG") -> str:
    """International format, e.g. +20 100 123 4567 (digits only numbers, like the echo line, as they are)."""
    try:
        number = phonenumbers.parse(e164, region)
    except phonenumbers.NumberParseException:
        return e164
    if not phonenumbers.is_possible_number(number):
        return e164
    if (
        phonenumbers.region_code_for_number(number) == "EG"
        and phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
    ):
        return phonenumbers.format_by_pattern(
            number, phonenumbers.PhoneNumberFormat.INTERNATIONAL, [_EG_MOBILE]
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# What the dialer says for each blocked type (i18n keys).
BLOCKED_TYPE_ERRORS = {
    "PREMIUM_RATE": "dial.error.premium",
    "SHARED_COST": "dial.error.shared_cost",
    "PERSONAL_NUMBER": "dial.error.personal",
    "UAN": "dial.error.uan",
    "VOIP": "dial.error.voip",
    "PAGER": "dial.error.pager",
    "VOICEMAIL": "dial.error.voicemail",
    "TOLL_FREE": "dial.error.toll_free",
    "INTERNATIONAL_NETWORK": "dial.error.international_network",
}
NON_GEOGRAPHIC = "001"  # phonenumbers' region for +800, +808, +870, +881, +882, +883, +888, +979


def number_type(number: phonenumbers.PhoneNumber) -> str:
    """The number's type by name (phonenumbers.PhoneNumberType), or INTERNATIONAL_NETWORK for the
    non-geographic ranges (satellite, international networks), whatever their nominal type."""
    if phonenumbers.region_code_for_number(number) == NON_GEOGRAPHIC:
        return "INTERNATIONAL_NETWORK"
    kind = phonenumbers.number_type(number)
    names = {v: k for k, v in vars(phonenumbers.PhoneNumberType).items() if isinstance(v, int)}
    return names.get(kind, "UNKNOWN")


def destination(raw: str, settings: Settings) -> Destination:
    """Validate what an agent dialled: a real number in an allowed country and not of a blocked type
    (premium rate, shared cost, personal numbers ... see BLOCKED_NUMBER_TYPES), or the echo line."""
    digits = "".join(ch for ch in (raw or "") if not ch.isspace())
    if settings.TELEPHONY_PROVIDER == "local" and digits == settings.ECHO_NUMBER:
        return Destination(e164=digits, region="", display=digits, is_echo=True)
    number = parse(raw, settings.DEFAULT_REGION)
    region = phonenumbers.region_code_for_number(number) or ""
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    kind = number_type(number)
    if kind in settings.blocked_number_types:
        raise Forbidden(
            BLOCKED_TYPE_ERRORS.get(kind, "dial.error.blocked_type"),
            f"{kind.lower().replace('_', ' ')} numbers may not be called ({e164})",
        )
    if region not in settings.allowed_countries:
        raise Forbidden(
            "dial.error.country", f"calls to {region or 'this destination'} are not allowed ({e164})"
        )
    return Destination(e164=e164, region=region, display=display(e164, settings.DEFAULT_REGION))


def check_rate(db: Session, agent_id: int, per_minute: int) -> None:
    """Refuse a new outbound call if the agent already started `per_minute` in the last minute."""
    since = utcnow() - timedelta(minutes=1)
    count = db.exec(
        select(func.count())
        .select_from(Call)
        .where(
            col(Call.agent_id) == agent_id,
            Call.direction == Direction.OUTBOUND,
            col(Call.created_at) >= since,
        )
    ).one()
    if int(count) >= per_minute:
        raise RateLimited("dial.error.rate", f"more than {per_minute} calls in a minute")
