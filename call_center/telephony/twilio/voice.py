"""What Twilio asks us when a call starts: TwiML for the browser's outbound call and for incoming calls.

Each TwiML request also creates the call record (Twilio sends it before any status callback), so the
status callbacks that follow always find their call.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlmodel import Session
from twilio.twiml.voice_response import VoiceResponse

from call_center.core.config import Settings
from call_center.core.i18n import DEFAULT_LANGUAGE, normalise_language, t
from call_center.models import Agent, Call, CallStatus, QueueOutcome
from call_center.services import call_control, calls, monitoring, numbers, queue, queues
from call_center.services import callbacks as callbacks_list
from call_center.services.calls import ProviderEvent, apply_event
from call_center.services.errors import DomainError
from call_center.telephony.twilio import conference, twiml
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


def outbound(db: Session, params: Mapping[str, str], settings: Settings) -> VoiceResponse:
    """The agent's browser dialled `To`: validate, guard against toll fraud, then into the call's room (the
    customer is added once the agent is in it: conference_callbacks)."""
    if params.get("MonitorCall"):
        return monitor(db, params, settings)
    sid, raw_to, caller = params.get("CallSid", ""), params.get("To", ""), params.get("From", "")
    agent_id = agent_id_of(caller)
    agent = db.get(Agent, agent_id) if agent_id is not None else None
    if agent is None or not agent.is_active or not sid:
        logger.warning("outbound TwiML refused: %r is not an active agent (call %s)", caller, sid)
        return twiml.refuse("twilio.say.not_allowed", DEFAULT_LANGUAGE)
    language = normalise_language(agent.language)
    try:
        call, _ = call_control.open_outbound(
            db, provider=PROVIDER, agent=agent, raw=raw_to, settings=settings, call_sid=sid,
            from_number=settings.TWILIO_CALLER_ID or "",
        )  # fmt: skip
    except DomainError as exc:
        return twiml.refuse(SAY_FOR_ERROR.get(exc.code, "twilio.say.invalid"), language)
    if call.status == CallStatus.FAILED:  # Twilio asking again for a call we refused
        return twiml.refuse(SAY_FOR_ERROR.get(call.hangup_reason or "", "twilio.say.invalid"), language)
    return conference.agent_joins(call, settings)


def monitor(db: Session, params: Mapping[str, str], settings: Settings) -> VoiceResponse:
    """A supervisor's browser asks to monitor a live call (the SDK's connect with `MonitorCall` and `Mode`):
    services.monitoring decides whether they may; their leg joins the call's room with its flags."""
    sid, caller = params.get("CallSid", ""), params.get("From", "")
    agent_id = agent_id_of(caller)
    supervisor = db.get(Agent, agent_id) if agent_id is not None else None
    call = calls.find_call(db, PROVIDER, params.get("MonitorCall"))
    language = normalise_language(supervisor.language if supervisor else None)
    if supervisor is None or call is None or not sid:
        logger.warning("monitoring TwiML refused: %r, call %r", caller, params.get("MonitorCall"))
        return twiml.refuse("twilio.say.not_allowed", language)
    try:
        plan = monitoring.plan(db, supervisor, call, params.get("Mode", ""))
    except DomainError as exc:
        logger.info("call %s: monitoring by %s refused: %s", call.id, supervisor.id, exc.code)
        return twiml.refuse("twilio.say.not_allowed", language)
    conference.remember_monitor_leg(db, call, sid, plan.leg)
    db.commit()
    return conference.supervisor_joins(call, settings, plan)


def inbound(db: Session, params: Mapping[str, str], settings: Settings) -> VoiceResponse:
    """A customer called the company number: into the call's room, which is their place in the queue (the
    queue enters it once Twilio says they joined: conference_callbacks), or a voicemail when no agent is
    logged in to wait for."""
    sid, caller = params.get("CallSid", ""), params.get("From", "")
    if not sid:
        return twiml.voicemail(callbacks(settings))
    to = params.get("To") or settings.TWILIO_CALLER_ID or ""
    call = call_control.open_inbound(
        db, provider=PROVIDER, call_sid=sid, caller=caller, to=to, settings=settings
    )
    if call.status in CallStatus.TERMINAL:
        if call.queue_outcome == QueueOutcome.CLOSED:  # Twilio asking again
            return twiml.closed(closed_message(queues.config(db, queue.queue_of(db, call))))
        return twiml.voicemail(callbacks(settings))
    shut = queue.closed(db, call)
    if shut is not None:  # the caller hears why, the line hangs up; the call is a missed one to call back
        call_control.fail(db, PROVIDER, sid, CallStatus.NO_ANSWER, queues.CLOSED_REASON)
        db.refresh(call)
        callbacks_list.call_ended(db, call)
        db.commit()
        return twiml.closed(closed_message(shut))
    if queue.entry_of(db, call.id or 0) is None and not queue.anyone_logged_in(db, queue.queue_of(db, call)):
        call_control.fail(db, PROVIDER, sid, CallStatus.NO_ANSWER, call_control.NO_AGENTS)
        logger.info("incoming call %s from %s: no agent logged in, voicemail", call.id, call.customer_number)
        return twiml.voicemail(callbacks(settings))
    logger.info("incoming call %s from %s waits for an agent", call.id, call.customer_number)
    return conference.customer_waits(call, settings)


def closed_message(config: queues.QueueConfig) -> list[tuple[str, str]]:
    """The queue's closed message in Arabic then English (the standard words where it has none)."""
    own = {"ar": config.closed_message_ar, "en": config.closed_message_en}
    return [(lang, own[lang] or t("queue.say.closed", lang)) for lang in ("ar", "en")]


def wait(db: Session, call_id: int | None, settings: Settings) -> VoiceResponse:
    """What a customer in the room hears until an agent joins: their position while they are in the
    queue (conference.queue_wait), our ringback otherwise."""
    call = db.get(Call, call_id) if call_id is not None else None
    entry = queue.entry_of(db, call.id or 0) if call is not None else None
    if call is None or entry is None:
        return conference.play_loop(settings, "ringback")
    position = dict(queue.positions(db, entry.queue)).get(call.id or 0)
    if position is not None and entry.position != position:
        entry.position = position
        db.add(entry)
    return conference.queue_wait(call, settings, position, queues.config(db, entry.queue).announce_seconds)


def voicemail(settings: Settings) -> VoiceResponse:
    """Where a waiting customer goes when no agent took the call (conference_callbacks._to_voicemail)."""
    return twiml.voicemail(callbacks(settings))


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
