"""What Twilio asks us when a call starts: TwiML for the browser's outbound call and for incoming calls.

Each TwiML request also creates the call record (Twilio sends it before any status callback), so the
status callbacks that follow always find their call.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from twilio.twiml.voice_response import VoiceResponse

from call_center.core.config import Settings
from call_center.core.i18n import DEFAULT_LANGUAGE, normalise_language
from call_center.models import Agent, CallStatus, Contact, Direction
from call_center.services import call_control, numbers, presence
from call_center.services.calls import ProviderEvent, apply_event, create_call, find_call
from call_center.services.errors import DomainError
from call_center.telephony.twilio import twiml
from call_center.telephony.twilio.callbacks import PROVIDER, agent_id_of
from call_center.telephony.twilio.signature import public_url

logger = logging.getLogger(__name__)

SAY_FOR_ERROR = {
    "dial.error.country": "twilio.say.country",
    "dial.error.rate": "twilio.say.rate",
    **{code: "twilio.say.blocked_type" for code in numbers.BLOCKED_TYPE_ERRORS.values()},
}
STATUS_PATH = "/api/calls/webhook/status"
RECORDING_PATH = "/api/calls/webhook/recording"
AFTER_DIAL_PATH = "/api/calls/twiml/inbound/after-dial"
HANGUP_PATH = "/api/calls/twiml/hangup"


def callbacks(settings: Settings) -> twiml.Callbacks:
    return twiml.Callbacks(
        status=public_url(settings, STATUS_PATH),
        recording=public_url(settings, RECORDING_PATH),
        after_dial=public_url(settings, AFTER_DIAL_PATH),
        hangup=public_url(settings, HANGUP_PATH),
    )


def _customer_number(raw: str, region: str) -> str:
    """E.164 when the number parses, else what Twilio sent (e.g. "anonymous"), cut to the column size."""
    try:
        return numbers.to_e164(raw, region)
    except DomainError:
        return (raw or "unknown").strip()[:32]


def _new_call(db: Session, **fields: object) -> None:
    """Create the call; a concurrent retry of the same TwiML request may have created it already."""
    try:
        with db.begin_nested():
            create_call(db, provider=PROVIDER, **fields)  # type: ignore[arg-type]
        db.commit()
    except IntegrityError:
        db.rollback()


def outbound(db: Session, params: Mapping[str, str], settings: Settings) -> VoiceResponse:
    """The agent's browser dialled `To`: validate, guard against toll fraud, then bridge to the number."""
    sid, raw_to, caller = params.get("CallSid", ""), params.get("To", ""), params.get("From", "")
    agent_id = agent_id_of(caller)
    agent = db.get(Agent, agent_id) if agent_id is not None else None
    if agent is None or not agent.is_active or not sid:
        logger.warning("outbound TwiML refused: %r is not an active agent (call %s)", caller, sid)
        return twiml.refuse("twilio.say.not_allowed", DEFAULT_LANGUAGE)
    existing = find_call(db, PROVIDER, sid)
    try:
        if existing is None:  # a retried TwiML request is the same call, not a new one
            destination = call_control.check_outbound(db, agent, raw_to, settings)
        else:
            destination = numbers.destination(raw_to, settings)
    except DomainError as exc:
        return _refuse(db, params, agent, exc, settings, known=existing is not None)
    if existing is None:
        _new_call(
            db,
            call_sid=sid,
            direction=Direction.OUTBOUND,
            from_number=settings.TWILIO_CALLER_ID or "",
            to_number=destination.e164,
            customer_number=destination.e164,
            agent_id=agent.id,
        )
        logger.info("agent %s dials %s (call %s)", agent.id, destination.e164, sid)
    return twiml.dial_number(
        destination.e164,
        caller_id=settings.TWILIO_CALLER_ID or "",
        timeout=settings.RING_TIMEOUT_SECONDS,
        callbacks=callbacks(settings),
    )


def _refuse(
    db: Session, params: Mapping[str, str], agent: Agent, exc: DomainError, settings: Settings, *, known: bool
) -> VoiceResponse:
    """Say why the call will not be placed, and keep it in the history as failed with the reason."""
    sid, raw_to = params.get("CallSid", ""), params.get("To", "")
    logger.warning("agent %s: call %s to %r refused: %s", agent.id, sid, raw_to[:40], exc.detail)
    if not known:
        call_control.record_refused(
            db,
            provider=PROVIDER,
            agent=agent,
            raw=raw_to,
            error=exc,
            settings=settings,
            call_sid=sid,
            from_number=settings.TWILIO_CALLER_ID or "",
        )
    return twiml.refuse(SAY_FOR_ERROR.get(exc.code, "twilio.say.invalid"), normalise_language(agent.language))


def inbound(db: Session, params: Mapping[str, str], settings: Settings) -> VoiceResponse:
    """A customer called the company number: ring every available agent, or take a voicemail."""
    sid, caller = params.get("CallSid", ""), params.get("From", "")
    customer = _customer_number(caller, settings.DEFAULT_REGION)
    if sid and find_call(db, PROVIDER, sid) is None:
        _new_call(
            db,
            call_sid=sid,
            direction=Direction.INBOUND,
            from_number=customer,
            to_number=(params.get("To") or settings.TWILIO_CALLER_ID or "")[:32],
            customer_number=customer,
        )
    call = find_call(db, PROVIDER, sid)
    agents = presence.available_agents(db)
    if call is None or not agents:
        if sid:
            _call_outcome(db, sid, CallStatus.NO_ANSWER, "no agent available", "no-agent")
        logger.info("incoming call %s from %s: no agent available, voicemail", sid, customer)
        return twiml.voicemail(callbacks(settings))
    contact = db.get(Contact, call.contact_id) if call.contact_id else None
    caller_name = contact.name if contact else None
    targets = [twiml.AgentTarget(agent.identity, call.id, caller_name) for agent in agents]  # type: ignore[arg-type]
    logger.info("incoming call %s from %s rings %s agent(s)", call.id, customer, len(targets))
    return twiml.ring_agents(targets, timeout=settings.RING_TIMEOUT_SECONDS, callbacks=callbacks(settings))


def after_dial(db: Session, params: Mapping[str, str], settings: Settings) -> VoiceResponse:
    """The `<Dial>` to the agents ended: hang up after a conversation, else take a voicemail."""
    sid, outcome = params.get("CallSid", ""), (params.get("DialCallStatus") or "").lower()
    if outcome in ("completed", "answered"):
        return twiml.hangup()
    status = outcome if outcome in CallStatus.TERMINAL else CallStatus.NO_ANSWER
    if sid:
        _call_outcome(db, sid, status, f"no agent answered ({outcome or 'unknown'})", f"dial-{outcome}")
    if status == CallStatus.CANCELED:  # the caller hung up while it rang: nobody is left to leave a message
        return twiml.hangup()
    return twiml.voicemail(callbacks(settings))


def _call_outcome(db: Session, sid: str, status: str, reason: str, tag: str) -> None:
    event = ProviderEvent(
        provider=PROVIDER,
        call_sid=sid,
        status=status,
        reason=reason,
        raw={"outcome": tag},
        dedupe=f"{tag}|{sid}",
    )
    apply_event(db, event)
