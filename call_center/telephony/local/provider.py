"""The local provider as the app sees it: browser engine configuration (the media server is `carrier`)."""

from __future__ import annotations

from typing import Any

from call_center.core.config import get_settings
from call_center.models import Agent
from call_center.telephony.base import TelephonyProvider


class LocalProvider(TelephonyProvider):
    name = "local"
    supports_hold = True

    def browser_config(self, agent: Agent) -> dict[str, Any]:
        settings = get_settings()
        return {
            "provider": self.name,
            "identity": agent.identity,
            "echo_number": settings.ECHO_NUMBER,
            "company_number": settings.COMPANY_NUMBER,
        }
