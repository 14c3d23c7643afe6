"""The interface the rest of the app uses for telephony, whichever provider carries the calls.

Call lifecycle changes never bypass `services.calls.apply_event`: the local media server's events and
Twilio's status callbacks both end there. Call control that happens in the browser (connect, mute, DTMF,
accept/reject) is the browser engine's job (assets/voice_device.jsx); what needs the server is here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from call_center.models import Agent, Call


class ProviderError(Exception):
    """The provider could not do what was asked; `code` is an i18n key for the UI."""

    def __init__(self, code: str, detail: str):
        self.code = code
        self.detail = detail
        super().__init__(detail)


class TelephonyProvider(ABC):
    """What a telephony provider offers the app."""

    name: str
    supports_hold: bool = False

    @abstractmethod
    def browser_config(self, agent: Agent) -> dict[str, Any]:
        """Everything the agent's browser engine needs to register its phone (token, identity, engine)."""

    async def run_background(self) -> None:  # noqa: B027 (optional hook, default: nothing to run)
        """Long-running work for one app worker (recording downloads, reconcile...); cancelled at shutdown."""

    def health(self) -> dict[str, Any]:
        """Provider facts for /api/health (never secrets)."""
        return {"provider": self.name}

    def describe_call(self, call: Call) -> dict[str, Any]:
        """Provider-specific extras for a call (e.g. whether it can be put on hold)."""
        return {"hold": self.supports_hold}
