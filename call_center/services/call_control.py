"""What happens to a call, whichever provider carries it (the call-control layer).

Providers implement primitives (a leg that rings, a party that joins, holds or leaves: see
`telephony.base.TelephonyProvider`) and report what they can do; this module decides: who may dial what,
who is rung, who gets a call, what the softphones are told, and what the history keeps when something is
refused. Reasons are stored as i18n keys, so the history shows them in the viewer's language.

Both providers' routes end here:
- an agent dials: `open_outbound` (validated, rate-limited, kept as failed when refused);
- a customer calls the company: `open_inbound`, then the queue (services.queue) picks agents and rings
  them with `ring_offered` (or `ring`: offers recorded, the provider rings their phones);
- an agent answers: `claim` (exactly one agent gets the call; the other rings stop with "answered by
  another agent");
- a status or party event was applied: `after_status`, `after_party` (recording, softphones told,
  transfers moved on, rings closed when the call ends).
Hold and transfers are in `services.transfers`, on the same primitives.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from call_center.core.config import Settings
from call_center.models import Agent, Call, CallParty, CallStatus, CallTransfer, Direction, OfferOutcome
from call_center.services import (
    agent_states,
    callbacks,
    calls,
    devices,
    monitoring,
    numbers,
    offers,
    parties,
    queue,
    wrapup,
)
from call_center.services.calls import ProviderEvent
from call_center.services.errors import Conflict, DomainError, Forbidden

logger = logging.getLogger(__name__)

NO_AGENTS = "call.error.no_agents"
ANSWERED_ELSEWHERE = "answered-elsewhere"


def _provider() -> Any:
    from call_center.telephony import get_provider

    return get_provider()


def _best_number(raw: str, region: str) -> str:
    """E.164 when it parses, else what was typed or sent (e.g. "anonymous"), cut to the column's size."""
    try:
        return numbers.to_e164(raw, region)
    except DomainError:
        return (raw or "").strip()[:32] or "unknown"


def agent_name(db: Session, call: Call) -> str:
    agent = db.get(Agent, call.agent_id) if call.agent_id else None
    return agent.name if agent else ""


def caller_name(db: Session, number: str) -> str | None:
    contact = calls.contact_for(db, number)
    return contact.name if contact else None


# Placing a call ------------------------------------------------------------------------------------------
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
    fail(db, provider, sid, CallStatus.FAILED, error.code, raw={"to": raw[:40], "detail": error.detail})
    logger.warning("agent %s: call to %r refused (%s): %s", agent.id, raw[:40], error.code, error.detail)
    return call.id


def fail(
    db: Session,
    provider: str,
    sid: str,
    status: str,
    code: str,
    *,
    raw: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """End a call with our own decision (a refusal, nobody to take it): its reason is the i18n key. `at`:
    when it happened, if a provider's event says (else now)."""
    event = ProviderEvent(
        provider, sid, status, at=at, reason=code, raw={"code": code, **(raw or {})}, dedupe=f"{sid}:{code}"
    )
    calls.apply_event(db, event)


def _create(db: Session, **fields: Any) -> Call:
    """Create a call; a provider retrying the same request (Twilio re-asking for TwiML) finds it."""
    existing = calls.find_call(db, fields["provider"], fields["call_sid"])
    if existing is not None:
        return existing
    try:
        with db.begin_nested():
            call = calls.create_call(db, **fields)
        db.commit()
        return call
    except IntegrityError:
        db.rollback()
        found = calls.find_call(db, fields["provider"], fields["call_sid"])
        assert found is not None
        return found


def open_outbound(
    db: Session,
    *,
    provider: str,
    agent: Agent,
    raw: str,
    settings: Settings,
    call_sid: str,
    from_number: str,
) -> tuple[Call, numbers.Destination]:
    """An agent dials `raw`: the guard (toll fraud, rate), then the call in the history. Commits.

    A refusal raises its DomainError after keeping the attempt as a failed call. A provider asking again
    for a call it has (the same `call_sid`) gets that call, not a second check of the rate."""
    existing = calls.find_call(db, provider, call_sid)
    if existing is not None:
        return existing, numbers.destination(raw, settings)
    try:
        destination = check_outbound(db, agent, raw, settings)
    except DomainError as exc:
        record_refused(
            db, provider=provider, agent=agent, raw=raw, error=exc, settings=settings,
            call_sid=call_sid if provider != "local" else None, from_number=from_number,
        )  # fmt: skip
        raise
    call = _create(
        db,
        provider=provider,
        call_sid=call_sid,
        direction=Direction.OUTBOUND,
        from_number=from_number,
        to_number=destination.e164,
        customer_number=destination.e164,
        agent_id=agent.id,
    )
    callbacks.dialled(db, agent.id or 0, destination.e164, call)
    db.commit()
    logger.info("call %s: agent %s dials %s", call.id, agent.id, destination.e164)
    return call, destination


# A customer calls ----------------------------------------------------------------------------------------
def open_inbound(
    db: Session, *, provider: str, call_sid: str, caller: str, to: str, settings: Settings
) -> Call:
    """A customer calls the company: the call in the history (once, however often the provider asks)."""
    customer = _best_number(caller, settings.DEFAULT_REGION)
    return _create(
        db,
        provider=provider,
        call_sid=call_sid,
        direction=Direction.INBOUND,
        from_number=customer,
        to_number=(to or settings.COMPANY_NUMBER)[:32],
        customer_number=customer,
    )


def ring(db: Session, call: Call, agents: list[Agent]) -> None:
    """Ring these agents' phones for `call` (all at once; the first to answer gets it). Commits."""
    offers.open_offers(db, call.id or 0, [a.id or 0 for a in agents])
    ring_offered(db, call, agents)


def ring_offered(db: Session, call: Call, agents: list[Agent]) -> None:
    """The provider rings phones whose offers are recorded already (the queue records them under its
    lock, then rings). Commits."""
    legs = _provider().ring_agents(db, call, agents) or {}
    for agent_id, leg in legs.items():
        offers.set_leg(db, call.id or 0, agent_id, leg)
    agent_states.track_many(db, [a.id or 0 for a in agents])
    db.commit()
    logger.info("call %s rings %d agent(s)", call.id, len(agents))


def offer_message(db: Session, call: Call, **extra: Any) -> dict[str, Any]:
    """What a ringing softphone shows: who calls, by name if they are a contact."""
    return {
        "type": "incoming",
        "call_sid": call.provider_call_sid,
        "from": call.customer_number,
        "caller_name": caller_name(db, call.customer_number),
        **extra,
    }


# Answering ------------------------------------------------------------------------------------------------
def check_offered(db: Session, call: Call, agent_id: int) -> None:
    """An agent acting on an unanswered call must have been offered it (it rings on their phone)."""
    if call.status in CallStatus.TERMINAL:
        raise Conflict("call.error.gone", "the call has ended")
    outcome = offers.latest_outcome(db, call.id or 0, agent_id)
    if outcome == OfferOutcome.TAKEN or (call.agent_id is not None and call.agent_id != agent_id):
        raise Conflict("call.error.taken", "another agent answered first")
    if call.direction != Direction.INBOUND or outcome != OfferOutcome.RINGING:
        raise Forbidden("call.error.not_offered", "that call was not offered to you")


def claim(db: Session, call: Call, agent_id: int) -> None:
    """The first agent to answer gets the call; Conflict("call.error.taken") for everyone else. Every other
    ringing phone stops, told it was answered elsewhere. Commits."""
    if not calls.claim_call(db, call.id or 0, agent_id):
        db.rollback()
        raise Conflict("call.error.taken", "another agent answered first")
    rings = offers.answered_with_legs(db, call.id or 0, agent_id)
    db.refresh(call)
    devices.tell_agents(
        db, list(rings), {"type": "cancel", "call_sid": call.provider_call_sid, "reason": ANSWERED_ELSEWHERE}
    )
    queue.answered(db, call, agent_id)
    calls.publish_call(db, call)
    agent_states.track_many(db, [agent_id, *rings])
    db.commit()
    provider = _provider()
    for other, leg in rings.items():
        if leg:
            provider.stop_ringing(db, call, other, leg)
    logger.info("call %s taken by agent %s", call.id, agent_id)
    if rings and queue.entry_of(db, call.id or 0) is not None:
        queue.dispatch(db)  # the agents it also rang (ring-all) can take the next caller


def decline(db: Session, call: Call, agent_id: int) -> None:
    """An agent declines a ringing call: only their own phone stops. Commits."""
    check_offered(db, call, agent_id)
    leg = offers.leg_of(db, call.id or 0, agent_id)
    offers.end_offer(db, call.id or 0, agent_id, OfferOutcome.DECLINED)
    agent_states.track(db, agent_id)
    db.commit()
    if leg:
        _provider().stop_ringing(db, call, agent_id, leg)
    if queue.entry_of(db, call.id or 0) is not None:
        queue.dispatch(db)  # the next agent, now


# After a provider's event ---------------------------------------------------------------------------------
def after_status(db: Session, call: Call) -> None:
    """A status event changed the call: the softphones hear it; an ended call closes its rings, parties and
    transfer. Commits."""
    from call_center.services import transfers

    if call.status in CallStatus.TERMINAL:
        # the supervisors who monitored it hear it ended (their legs ended with it)
        watching = [p.agent_id for p in monitoring.watchers(db, call) if p.agent_id]
        rings = offers.ringing_with_legs(db, call.id or 0)
        offers.call_ended(db, call.id or 0)
        devices.tell_agents(
            db, list(rings), {"type": "cancel", "call_sid": call.provider_call_sid, "reason": call.status}
        )
        parties.refold(db, call)
        transfers.call_ended(db, call)
        queue.call_ended(db, call)
        callbacks.call_ended(db, call)
        wrapup.start(db, call, at=call.ended_at)
        agent_states.track_many(db, [*rings, *followers(db, call)])
        devices.tell_agents(db, watching, devices.status(call.provider_call_sid, call.status))
        db.commit()
        provider = _provider()
        for agent_id, leg in rings.items():
            if leg:
                provider.stop_ringing(db, call, agent_id, leg)
        provider.call_ended(db, call)
    signal(db, call, {"type": "status", "status": call.status, "reason": call.hangup_reason,
                      "by": call.hangup_by})  # fmt: skip
    db.commit()
    if call.status in CallStatus.TERMINAL and rings and queue.entry_of(db, call.id or 0) is not None:
        queue.dispatch(db)  # the agents it rang are free for the next caller


def after_party(db: Session, call: Call, leg: str, status: str) -> None:
    """A party event was new: a transfer moves on (target answered, not reached, left). Commits."""
    from call_center.services import transfers

    transfers.sync(db, call)
    monitoring.sync(db, call, leg, status)
    agent_states.track_many(db, followers(db, call))
    db.commit()


def agents_of(db: Session, call: Call) -> list[int]:
    """The agents whose softphones follow this call: its agent, every agent in it, and (while an incoming
    call is unanswered) every agent it rings for."""
    ids = dict.fromkeys([call.agent_id] if call.agent_id else [])
    ids.update(dict.fromkeys(parties.agents_in_call(db, call)))
    if call.direction == Direction.INBOUND and call.agent_id is None:
        ids.update(dict.fromkeys(offers.ringing_agents(db, call.id or 0)))
    return list(ids)


def followers(db: Session, call: Call) -> list[int]:
    """Every agent whose state this call may change: its agent, everyone who took part, everyone rung
    for a transfer of it."""
    took_part = db.exec(select(CallParty.agent_id).where(CallParty.call_id == call.id)).all()
    rung = db.exec(select(CallTransfer.to_agent_id).where(CallTransfer.call_id == call.id)).all()
    return [a for a in dict.fromkeys([call.agent_id, *took_part, *rung]) if a]


def signal(db: Session, call: Call, message: dict[str, Any]) -> None:
    """Tell every softphone following `call` (and the provider's customer side, if it has one) about it.
    Sent when `db` commits."""
    body = {"call_sid": call.provider_call_sid, **message}
    devices.tell_agents(db, agents_of(db, call), body)
    _provider().signal_customer(db, call, body)


def current_state(db: Session, agent_id: int) -> list[dict[str, Any]]:
    """Messages that bring a (re)connecting softphone up to date: calls ringing for the agent (offers and
    transfers to them), the calls they are in with their status, hold and transfer."""
    from call_center.services import transfers

    messages: list[dict[str, Any]] = []
    for call in calls_followed(db, agent_id):
        sid = call.provider_call_sid
        invited = transfers.pending_for_agent(db, call, agent_id)
        if invited is not None:
            messages.append(offer_message(db, call, leg=invited.target_leg))
            continue
        if call.agent_id is None:
            messages.append(offer_message(db, call))
        messages.append(devices.status(sid, call.status))
        if call.agent_id == agent_id and transfers.on_hold(db, call):
            messages.append({"type": "hold", "call_sid": sid, "on": True})
        if (transfer := transfers.describe(db, call)) is not None:
            messages.append({"type": "transfer", "call_sid": sid, **transfer})
        if call.agent_id == agent_id and monitoring.watchers(db, call):
            messages.append(monitoring.message(db, call))
    return messages


def calls_followed(db: Session, agent_id: int) -> list[Call]:
    """Live calls an agent's softphone follows: theirs, ones they are in, and ones ringing for them."""
    from call_center.services import transfers

    live = (CallStatus.QUEUED, CallStatus.INITIATED, CallStatus.RINGING, CallStatus.IN_PROGRESS)
    ringing = offers.ringing_calls(db, agent_id)
    query = select(Call).where(
        col(Call.status).in_(live),
        or_(
            col(Call.agent_id) == agent_id,
            col(Call.id).in_(parties.live_calls_of(agent_id)),
            and_(col(Call.agent_id).is_(None), col(Call.id).in_(ringing or [-1])),
            col(Call.id).in_(transfers.ringing_for(agent_id)),
        ),
    )
    return list(db.exec(query))
