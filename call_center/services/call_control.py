"""What happens to a call, whichever provider carries it (the call-control layer).

Providers implement primitives (place a leg, ring a phone, bridge, hold, end) and report what they can
do; this module decides: who may dial what, who is rung, who gets a call, and what the history keeps when
something is refused. Reasons are stored as i18n keys, so the history shows them in the viewer's language.
"""

from __future__ import annotations

import logging
import secrets

from sqlmodel import Session

from call_center.core.config import Settings
from call_center.models import Agent, CallStatus, Direction
from call_center.services import calls, numbers
from call_center.services.calls import ProviderEvent
from call_center.services.errors import DomainError

logger = logging.getLogger(__name__)


def _best_number(raw: str, region: str) -> str:
    """E.164 when it parses, else what was typed (cut to the column's size)."""
    try:
        return numbers.to_e164(raw, region)
    except DomainError:
        return (raw or "").strip()[:32] or "?"


def check_outbound(db: Session, agent: Agent, raw: str, settings: Settings) -> numbers.Destination:
    """Where an agent may call: a valid number, not of a blocked type, in an allowed country, within the
    agent's rate. Raises the DomainError that says why not."""
    destination = numbers.destination(raw, settings)
    if not destination.is_echo:
        numbers.check_rate(db, agent.id or 0, settings.CALLS_PER_MINUTE)
    return destination


def record_refused(
    db: Session,
    *,
    provider: str,
    agent: Agent,
    raw: str,
    error: DomainError,
    settings: Settings,
    call_sid: str | None = None,
    from_number: str = "",
) -> int | None:
    """Keep a refused outbound call in the history as failed, with the reason as its i18n key. Commits.

    A number that does not parse is a typo, not a call: it is kept only when the provider has a call for
    it already (`call_sid`, e.g. Twilio asking for TwiML)."""
    if error.code == "dial.error.invalid" and call_sid is None:
        return None
    sid = call_sid or "RF" + secrets.token_hex(16)
    customer = _best_number(raw, settings.DEFAULT_REGION)
    call = calls.create_call(
        db,
        provider=provider,
        call_sid=sid,
        direction=Direction.OUTBOUND,
        from_number=from_number or settings.COMPANY_NUMBER,
        to_number=customer,
        customer_number=customer,
        agent_id=agent.id,
    )
    db.commit()
    calls.apply_event(
        db,
        ProviderEvent(
            provider,
            sid,
            CallStatus.FAILED,
            reason=error.code,
            raw={"to": raw[:40], "code": error.code, "detail": error.detail},
            dedupe=f"refused|{sid}",
        ),
    )
    logger.warning("agent %s: call to %r refused (%s): %s", agent.id, raw[:40], error.code, error.detail)
    return call.id
