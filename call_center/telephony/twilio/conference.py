"""Every Twilio call is a conference, as in Twilio's own reference components: the pattern that gives hold
and transfer (a `<Dial><Number>` bridge has neither).

- Outbound: the agent's browser leg joins the room `call-<id>` from our TwiML (startConferenceOnEnter, and
  endConferenceOnExit so the customer is never left alone when the agent goes); when Twilio says the agent
  joined, the customer's number is added with the Participants API (caller ID, ring timeout, our status
  callbacks). The agent's softphone shows "ringing" until the customer's leg answers (no audio before).
- Inbound: the customer waits in the room, which is their place in the queue (services.queue): the wait
  TwiML says their position (`<Say>`, Arabic then English) and plays our waiting music, then asks again
  (`<Redirect>`), so the position is heard on entry and every QUEUE_ANNOUNCE_SECONDS. The queue's rounds
  ring agents as participants (`client:agent_<id>`) by its strategy; the first to join gets the call,
  the others stop ringing or, if they joined too, are removed ("answered by another agent"). The wait
  over, or nobody logged in: the customer is redirected out of the room to voicemail.
- Hold: the customer's participant with hold=true and our own tone as holdUrl. Transfer: the target is a
  participant too; the first agent leaves once the call is handed over (endConferenceOnExit moves to the
  target first, or removing the first agent would end the call).

Which leg a callback is about comes from the query string our URLs carry (`?call=<id>&leg=<label>`, signed
by Twilio with the rest of the URL), or from the call's known legs. Labels: "agent" (the first agent of an
outbound call), "customer", "agent_<id>" (an agent rung for an inbound call), "target_a<id>_<tag>" /
"target_n<digits>_<tag>" (a transfer target: an agent or a number), "sup_<id>_<tag>" (a supervisor
monitoring the call: services.monitoring; their browser joins from our TwiML, muted to listen, coaching the
agent's leg to whisper, as a party to barge, switched with the Participants API).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, select
from twilio.base.exceptions import TwilioException
from twilio.rest import Client
from twilio.twiml.voice_response import Dial, VoiceResponse

from call_center.core.config import Settings
from call_center.models import (
    Agent,
    Call,
    CallEvent,
    CallOffer,
    CallStatus,
    CallTransfer,
    Direction,
    PartyKind,
)
from call_center.models.base import utcnow
from call_center.services.calls import insert_event
from call_center.telephony.base import ProviderError
from call_center.telephony.twilio.signature import public_url

logger = logging.getLogger(__name__)

STATUS_PATH = "/api/calls/webhook/status"
RECORDING_PATH = "/api/calls/webhook/recording"
CONFERENCE_PATH = "/api/calls/webhook/conference"
WAIT_PATH = "/api/calls/twiml/wait"
HOLD_PATH = "/api/calls/twiml/hold"
VOICEMAIL_PATH = "/api/calls/twiml/voicemail"
NOTICE_PATH = "/api/calls/twiml/notice"
TONE_PATH = "/api/calls/media/{name}.mp3"

CONFERENCE_EVENTS = ["start", "end", "join", "leave", "hold"]
LEG_EVENTS = ["initiated", "ringing", "answered", "completed"]
RECORDING_EVENTS = ["completed", "absent"]

AGENT, CUSTOMER = "agent", "customer"
_LABEL = re.compile(
    r"^(?:agent_(?P<rung>\d+)|target_(?:a(?P<agent>\d+)|n(?P<number>\d+))_[0-9a-f]+|sup_(?P<sup>\d+)_[0-9a-f]+)$"
)
MONITOR_LEG = "monitor-leg"  # a stored event: which CallSid a supervisor's monitoring label is


def room(call: Call) -> str:
    return f"call-{call.id}"


# Labels ---------------------------------------------------------------------------------------------------
def ring_label(agent_id: int) -> str:
    return f"agent_{agent_id}"


def target_label(*, agent_id: int | None, number: str | None, tag: str) -> str:
    return f"target_a{agent_id}_{tag}" if agent_id else f"target_n{(number or '').lstrip('+')}_{tag}"


def parse_label(label: str) -> tuple[str, int | None, str | None]:
    """(party kind, agent id, number) of a label; ValueError for one we never give."""
    if label == AGENT:
        return PartyKind.AGENT, None, None
    if label == CUSTOMER:
        return PartyKind.CUSTOMER, None, None
    match = _LABEL.match(label)
    if match is None:
        raise ValueError(f"unknown participant label {label!r}")
    if match.group("rung"):
        return PartyKind.AGENT, int(match.group("rung")), None
    if match.group("sup"):
        return PartyKind.SUPERVISOR, int(match.group("sup")), None
    if match.group("agent"):
        return PartyKind.TARGET, int(match.group("agent")), None
    return PartyKind.TARGET, None, "+" + str(match.group("number"))


def label_of_leg(db: Session, call: Call, leg: str, hint: str | None = None) -> str | None:
    """Which of the call's legs a Twilio CallSid is (a callback without our query string)."""
    if hint:
        return hint
    if leg == call.provider_call_sid:
        return AGENT if call.direction == Direction.OUTBOUND else CUSTOMER
    if leg == call.child_call_sid and call.direction == Direction.OUTBOUND:
        return CUSTOMER
    rung = db.exec(
        select(CallOffer.agent_id).where(CallOffer.call_id == call.id, CallOffer.leg == leg)
    ).first()
    if rung is not None:
        return ring_label(rung)
    transfer = db.exec(
        select(CallTransfer).where(CallTransfer.call_id == call.id, CallTransfer.target_leg == leg)
    ).first()
    if transfer is not None:
        return target_label(agent_id=transfer.to_agent_id, number=transfer.to_number, tag="0")
    monitor = db.exec(
        select(CallEvent.status).where(
            CallEvent.call_id == call.id, CallEvent.kind == MONITOR_LEG, CallEvent.provider_call_sid == leg
        )
    ).first()
    return monitor


def remember_monitor_leg(db: Session, call: Call, leg: str, label: str) -> None:
    """A supervisor's browser leg asked to join: its CallSid is that label (for callbacks that carry no
    ParticipantLabel). Flushes."""
    insert_event(
        db,
        {
            "call_id": call.id,
            "provider": "twilio",
            "provider_call_sid": leg,
            "kind": MONITOR_LEG,
            "status": label,
            "dedupe_key": hashlib.sha256(f"twilio|{call.id}|{MONITOR_LEG}|{leg}".encode()).hexdigest(),
            "payload": "{}",
            "received_at": utcnow(),
        },
    )


def customer_leg(call: Call) -> str | None:
    return call.provider_call_sid if call.direction == Direction.INBOUND else call.child_call_sid


# Our URLs -------------------------------------------------------------------------------------------------
def conference_url(settings: Settings, call: Call) -> str:
    return public_url(settings, CONFERENCE_PATH, f"call={call.id}")


def leg_url(settings: Settings, call: Call, label: str) -> str:
    return public_url(settings, STATUS_PATH, f"call={call.id}&leg={label}")


def recording_url(settings: Settings, call: Call) -> str:
    return public_url(settings, RECORDING_PATH, f"call={call.id}")


def tone_url(settings: Settings, name: str) -> str:
    return public_url(settings, TONE_PATH.format(name=name))


# TwiML ----------------------------------------------------------------------------------------------------
def _join(call: Call, settings: Settings, *, label: str, start: bool, wait_url: str) -> VoiceResponse:
    response = VoiceResponse()
    dial = Dial()
    dial.conference(
        room(call),
        beep=False,
        start_conference_on_enter=start,
        end_conference_on_exit=True,
        wait_url=wait_url,
        wait_method="POST",
        participant_label=label,
        status_callback=conference_url(settings, call),
        status_callback_event=" ".join(CONFERENCE_EVENTS),
        status_callback_method="POST",
    )
    response.append(dial)
    return response


def supervisor_joins(call: Call, settings: Settings, plan: Any) -> VoiceResponse:
    """A supervisor's browser leg (services.monitoring's plan): into the call's room, muted (listen), coaching
    the agent's leg (whisper) or as a party (barge); it neither starts nor ends the room."""
    response = VoiceResponse()
    dial = Dial()
    dial.conference(
        room(call),
        beep=False,
        muted=plan.muted,
        coach=plan.coach,
        start_conference_on_enter=False,
        end_conference_on_exit=False,
        wait_url="",
        wait_method="POST",
        participant_label=plan.leg,
        status_callback=conference_url(settings, call),
        status_callback_event=" ".join(CONFERENCE_EVENTS),
        status_callback_method="POST",
    )
    response.append(dial)
    return response


def agent_joins(call: Call, settings: Settings) -> VoiceResponse:
    """The agent's browser leg of an outbound call: it opens the room (no wait music: the softphone plays
    the ringback until the customer answers), and its leaving ends the call."""
    return _join(call, settings, label=AGENT, start=True, wait_url="")


def wait_url(settings: Settings, call: Call) -> str:
    return public_url(settings, WAIT_PATH, f"call={call.id}")


def recording_notice(settings: Settings) -> VoiceResponse:
    """The recording notice, Arabic then English: the company's own words (RECORDING_NOTICE_AR / _EN) or
    ours."""
    from call_center.core.i18n import t
    from call_center.telephony.twilio.twiml import say_in

    response = VoiceResponse()
    own = {"ar": settings.RECORDING_NOTICE_AR, "en": settings.RECORDING_NOTICE_EN}
    say_in(response, [(lang, own[lang] or t("twilio.say.recording_notice", lang)) for lang in ("ar", "en")])
    return response


def customer_waits(call: Call, settings: Settings) -> VoiceResponse:
    """An incoming customer: the recording notice (RECORDING_NOTICE), then in the room (their place in the
    queue) until an agent joins; what they hear meanwhile is `queue_wait`."""
    response = _join(call, settings, label=CUSTOMER, start=False, wait_url=wait_url(settings, call))
    if not settings.RECORDING_NOTICE:
        return response
    noticed = recording_notice(settings)
    for verb in response.verbs:
        noticed.append(verb)
    return noticed


def queue_wait(
    call: Call, settings: Settings, position: int | None, announce_seconds: int | None = None
) -> VoiceResponse:
    """The waiting customer's wait TwiML: their position (if they are still in line), our waiting music
    for the queue's announcement period (QUEUE_ANNOUNCE_SECONDS unless it sets its own), then this again
    (only Say, Play, Pause and Redirect are allowed here)."""
    from call_center.core.i18n import t
    from call_center.telephony.local.tones import QUEUE_PERIOD_SECONDS
    from call_center.telephony.twilio.twiml import say_in

    response = VoiceResponse()
    if position is not None:
        say_in(
            response,
            [(lang, t("queue.say.position", lang).format(position=position)) for lang in ("ar", "en")],
        )
    period = announce_seconds or settings.QUEUE_ANNOUNCE_SECONDS
    loops = max(1, -(-period // QUEUE_PERIOD_SECONDS))
    response.play(tone_url(settings, "queue"), loop=loops)
    response.redirect(wait_url(settings, call), method="POST")
    return response


def play_loop(settings: Settings, name: str) -> VoiceResponse:
    """Our own tone, looped (the wait music of a waiting customer, the hold music of a held one)."""
    response = VoiceResponse()
    response.play(tone_url(settings, name), loop=0)
    return response


# REST: the conference's participants ----------------------------------------------------------------------
class Conference:
    """The Participants API (and the call legs) of one call's room. Every failure is a ProviderError whose
    code the UI shows."""

    def __init__(self, client: Client, settings: Settings):
        self.client = client
        self.settings = settings

    def _do(self, what: str, action: Any) -> Any:
        try:
            return action()
        except TwilioException as exc:
            logger.warning("twilio: %s failed: %s", what, exc)
            raise ProviderError("call.error.provider", f"Twilio refused to {what}: {exc}") from None

    def _sid(self, call: Call) -> str:
        if not call.conference_sid:
            raise ProviderError("call.error.not_answered", f"call {call.id} has no conference yet")
        return call.conference_sid

    def add(
        self,
        call: Call,
        *,
        to: str,
        from_: str,
        label: str,
        end_conference_on_exit: bool,
        timeout: int,
    ) -> str:
        """Dial a participant into the room; its CallSid."""
        conference = call.conference_sid or room(call)
        participant = self._do(
            f"add {label} to the call",
            lambda: self.client.conferences(conference).participants.create(
                from_=from_,
                to=to,
                label=label,
                beep="false",
                early_media=False,
                start_conference_on_enter=True,
                end_conference_on_exit=end_conference_on_exit,
                timeout=timeout,
                status_callback=leg_url(self.settings, call, label),
                status_callback_method="POST",
                status_callback_event=LEG_EVENTS,
                conference_status_callback=conference_url(self.settings, call),
                conference_status_callback_method="POST",
                conference_status_callback_event=CONFERENCE_EVENTS,
            ),
        )
        return str(participant.call_sid)

    def hold(self, call: Call, leg: str, on: bool) -> None:
        participant = self.client.conferences(self._sid(call)).participants(leg)
        if on:
            hold_url = public_url(self.settings, HOLD_PATH)
            self._do("hold", lambda: participant.update(hold=True, hold_url=hold_url, hold_method="POST"))
        else:
            self._do("resume", lambda: participant.update(hold=False))

    def announce_notice(self, call: Call, leg: str) -> None:
        """The customer who just answered an outbound call hears the recording notice (only they do)."""
        participant = self.client.conferences(self._sid(call)).participants(leg)
        url = public_url(self.settings, NOTICE_PATH)
        self._do(
            "say the recording notice", lambda: participant.update(announce_url=url, announce_method="POST")
        )

    def monitor(self, call: Call, leg: str, *, muted: bool, coach: str | None) -> None:
        """A supervisor's participant: muted (listen), coaching `coach` (whisper), or neither (barge)."""
        participant = self.client.conferences(self._sid(call)).participants(leg)
        if coach:
            change = {"muted": muted, "coaching": True, "call_sid_to_coach": coach}
        else:
            change = {"muted": muted, "coaching": False}
        self._do("change the monitoring", lambda: participant.update(**change))

    def ends_call_on_exit(self, call: Call, leg: str, value: bool) -> None:
        participant = self.client.conferences(self._sid(call)).participants(leg)
        self._do("hand the call over", lambda: participant.update(end_conference_on_exit=value))

    def remove(self, call: Call, leg: str) -> None:
        self._do(
            "remove a party", lambda: self.client.conferences(self._sid(call)).participants(leg).delete()
        )

    def stop_leg(self, leg: str) -> None:
        """Hang up a leg: cancel it while it rings, complete it once answered (Twilio refuses the other)."""
        try:
            self.client.calls(leg).update(status="canceled")
        except TwilioException:
            self._do("hang up a leg", lambda: self.client.calls(leg).update(status="completed"))

    def end(self, call: Call) -> None:
        if call.conference_sid:
            self._do(
                "end the call",
                lambda: self.client.conferences(call.conference_sid).update(status="completed"),
            )

    def record(self, call: Call, leg: str) -> str:
        """Record the customer's leg in two channels (what they say / what they hear): one recording that
        covers the whole customer conversation, whoever the agents were. Its RecordingSid."""
        recording = self._do(
            "start the recording",
            lambda: self.client.calls(leg).recordings.create(
                recording_channels="dual",
                recording_status_callback=recording_url(self.settings, call),
                recording_status_callback_method="POST",
                recording_status_callback_event=RECORDING_EVENTS,
            ),
        )
        return str(recording.sid)

    def redirect(self, leg: str, path: str) -> None:
        url = public_url(self.settings, path)
        self._do(
            "send the caller to voicemail", lambda: self.client.calls(leg).update(url=url, method="POST")
        )


def number_for_caller_id(call: Call, settings: Settings) -> str:
    """What a rung agent's softphone sees as the caller: the customer's number when it has one."""
    return call.customer_number if call.customer_number.startswith("+") else (settings.TWILIO_CALLER_ID or "")


def client_address(agent: Agent) -> str:
    return f"client:{agent.identity}"


def reason_left(params: Mapping[str, str]) -> str:
    """How a participant left, as a party status: left (hung up or removed) or why it never joined."""
    status = (params.get("ParticipantCallStatus") or "").lower()
    if status in ("no-answer", "busy", "failed", "canceled"):
        return "declined" if status == "busy" else status
    return "left"


def terminal(status: str) -> bool:
    return status in CallStatus.TERMINAL
