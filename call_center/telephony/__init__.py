"""Telephony providers behind one interface (base.TelephonyProvider); get_provider() picks the one in use."""

from __future__ import annotations

import functools

from call_center.core.config import get_settings
from call_center.telephony.base import TelephonyProvider


@functools.lru_cache(maxsize=1)
def get_provider() -> TelephonyProvider:
    """The provider TELEPHONY_PROVIDER names (one instance per process)."""
    if get_settings().TELEPHONY_PROVIDER == "twilio":
        from call_center.telephony.twilio.provider import TwilioProvider

        return TwilioProvider()
    from call_center.telephony.local.provider import LocalProvider

    return LocalProvider()


def reset_provider() -> None:
    get_provider.cache_clear()
