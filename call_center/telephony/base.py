"""The interface the rest of the app uses for telephony, whichever provider carries the calls.

The decisions (who may dial what, who is rung, who gets a call, hold and transfers) are the call-control
layer's (services.call_control, services.transfers); a provider implements primitives and says what it can
do (`capabilities`; the UI asks these, never a provider's name):

- the browser engine's configuration: `browser_config` (token, identity);
- the local browser phones' signaling: `place_call`, `answer`, `reject`, `hangup`, `send_digits` (with
  Twilio, the SDK talks to Twilio and Twilio asks our TwiML routes instead);
- legs and parties: `ring_agents` / `stop_ringing`, `hold_customer`, `invite` / `cancel_invite`,
  `remove_party`, `handoff`, and a supervisor's leg (`monitor`, `set_monitor`; services.monitoring);
- lifecycle changes never bypass `services.calls.apply_event` (statuses) and `services.parties.apply`
  (parties): the media server's callbacks and Twilio's callbacks both end there;
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


class Capability:
    """What a provider can do on an answered call (the UI asks these, never a provider's name)."""

    HOLD = "hold"
    ECHO = "echo"  # a test line that plays back what it hears
    TRANSFER = "transfer"
    MONITOR = "monitor"


class TelephonyProvider(ABC):
    """What a telephony provider offers the app."""

    name: str
    capabilities: frozenset[str] = frozenset()

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

    def send_digits(self, db: Session, device: Any, call_sid: str, digits: str) -> None:
        raise self._unsupported("sending keypad tones")

    def monitor(self, db: Session, device: Any, call_sid: str, offer: str, mode: str) -> dict[str, Any]:
        """A supervisor's browser joins a live call to listen, whisper or barge (services.monitoring
        decides whether it may); returns its answer."""
        raise self._unsupported("monitoring")

    # Primitives the call-control layer (services.call_control, services.transfers) drives ------------------
    def ring_agents(self, db: Session, call: Call, agents: list[Agent]) -> dict[int, str] | None:
        """Ring these agents' phones for an incoming call; the leg ringing each (if the provider has
        legs to stop: Twilio participants), by agent id."""
        raise self._unsupported("ringing agents")

    def stop_ringing(self, db: Session, call: Call, agent_id: int, leg: str) -> None:  # noqa: B027
        """Stop one agent's ringing leg (another agent answered, or they declined)."""

    def signal_customer(self, db: Session, call: Call, message: dict[str, Any]) -> None:  # noqa: B027
        """Tell the customer's side about the call, if the provider has a device there (local phones)."""

    def announce_position(self, db: Session, call: Call, position: int) -> None:  # noqa: B027
        """A queued caller hears their place in line (and the waiting music after it)."""

    def end_unanswered(self, db: Session, call: Call, reason: str) -> None:
        """End a call nobody answered, for a reason of ours (an i18n key: the queue's wait is over)."""
        raise self._unsupported("ending a queued call")

    def hold_customer(self, db: Session, call: Call, on: bool) -> None:
        """Put the customer on hold (they hear our hold tone and nobody hears them) or take them off."""
        raise self._unsupported("hold")

    def invite(
        self, db: Session, call: Call, *, agent: Agent | None, number: str | None, ring_timeout: int, tag: str
    ) -> str:
        """Ring a transfer target (an agent's softphone, or a number) to join the answered call; its leg.
        The provider reports the leg as party events (joined, or not reached)."""
        raise self._unsupported("transfer")

    def cancel_invite(self, db: Session, call: Call, leg: str) -> None:
        raise self._unsupported("transfer")

    def remove_party(self, db: Session, call: Call, leg: str) -> None:
        """A party leaves the call (the customer and the others stay)."""
        raise self._unsupported("transfer")

    def set_monitor(self, db: Session, call: Call, leg: str, *, muted: bool, coach: str | None) -> None:
        """Change a supervisor's leg: muted (listen), heard by `coach` alone (whisper), or neither (barge)."""
        raise self._unsupported("monitoring")

    def handoff(self, db: Session, call: Call, leaving: str, staying: str) -> None:  # noqa: B027
        """Before `leaving` is removed, `staying` becomes the one whose leaving ends the call (Twilio's
        endConferenceOnExit); providers whose calls end when the customer is alone need nothing."""

    def call_ended(self, db: Session, call: Call) -> None:  # noqa: B027
        """The call ended (by the customer's side, or our decision): release what the provider still holds
        for it (Twilio: its conference)."""

    def health(self) -> dict[str, Any]:
        """Provider facts for /api/health (never secrets)."""
        return {"provider": self.name}

    def can(self, capability: str) -> bool:
        return capability in self.capabilities
