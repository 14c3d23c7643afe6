"""The interface the rest of the app uses for telephony, whichever provider carries the calls.

Call lifecycle changes never bypass `services.calls.apply_event`: the local media server's callbacks and
Twilio's status callbacks both end there. The browser engine (assets/voice_device.jsx) does what happens
in the browser; the operations here are the server's part of each step:

- browser engine config: `browser_config` (token, identity);
- place a call / answer / decline: `place_call`, `answer`, `reject` (Twilio: the SDK talks to Twilio and
  Twilio asks our TwiML routes, so these are the local provider's);
- hang up, hold/resume, DTMF: `hangup`, `hold`, `send_digits`;
- ring agents for an incoming call: `ring_agents` (local: offers pushed to the agents' phones; Twilio:
  `<Client>` identities in the inbound TwiML);
- recording hand-off: every provider ends in `services.recordings` (`start_recording` / `mark_ready` /
  `mark_failed`): the local media server reports a finished file in our store, Twilio's recordings are
  copied into it by durable jobs (`run_background`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from sqlmodel import Session

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

    # Call control: unsupported unless a provider says otherwise -------------------------------------------
    def _unsupported(self, what: str) -> ProviderError:
        return ProviderError("call.error.unsupported", f"{what} is not done by the server with {self.name}")

    def place_call(self, db: Session, device: Any, to: str, offer: str) -> dict[str, Any]:
        """Start a call from a browser phone to `to` (validated, rate-limited); returns its answer."""
        raise self._unsupported("placing a call")

    def answer(self, db: Session, device: Any, call_sid: str, offer: str) -> dict[str, Any]:
        raise self._unsupported("answering")

    def reject(self, db: Session, device: Any, call_sid: str) -> None:
        raise self._unsupported("declining")

    def hangup(self, db: Session, device: Any, call_sid: str) -> None:
        raise self._unsupported("hanging up")

    def hold(self, db: Session, device: Any, call_sid: str, on: bool) -> None:
        raise self._unsupported("hold")

    def send_digits(self, db: Session, device: Any, call_sid: str, digits: str) -> None:
        raise self._unsupported("sending keypad tones")

    def ring_agents(self, db: Session, call: Call, agents: list[Agent]) -> None:
        raise self._unsupported("ringing agents")

    def health(self) -> dict[str, Any]:
        """Provider facts for /api/health (never secrets)."""
        return {"provider": self.name}

    def describe_call(self, call: Call) -> dict[str, Any]:
        """Provider-specific extras for a call (e.g. whether it can be put on hold)."""
        return {"hold": self.supports_hold}
