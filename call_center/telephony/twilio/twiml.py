"""TwiML documents, built with the official VoiceResponse (no hand-written XML)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twilio.twiml.voice_response import Dial, VoiceResponse

from call_center.core.i18n import t

LEG_EVENTS = "initiated ringing answered completed"
RECORDING_EVENTS = "completed absent"
# Twilio's text-to-speech language codes for our UI languages.
SAY_LANGUAGE = {"ar": "ar-XA", "en": "en-US"}
VOICEMAIL_MAX_SECONDS = 120


@dataclass(frozen=True)
class Callbacks:
    """Absolute public URLs Twilio calls back (they are signed like any webhook)."""

    status: str
    recording: str
    after_dial: str
    hangup: str


@dataclass(frozen=True)
class AgentTarget:
    identity: str
    call_id: int
    caller_name: str | None


def say_in(response: VoiceResponse, texts: Sequence[tuple[str, str]]) -> None:
    """Say each (language, text) in turn, with Twilio's voice for that language."""
    for lang, text in texts:
        response.say(text, language=SAY_LANGUAGE.get(lang, "en-US"))


def _say(response: VoiceResponse, key: str, languages: Sequence[str]) -> None:
    say_in(response, [(lang, t(key, lang)) for lang in languages])


def dial_number(number: str, *, caller_id: str, timeout: int, callbacks: Callbacks) -> VoiceResponse:
    """The browser's call to a customer: bridged on answer, recorded in two channels from the answer."""
    response = VoiceResponse()
    dial = Dial(
        caller_id=caller_id,
        answer_on_bridge=True,
        timeout=timeout,
        record="record-from-answer-dual",
        recording_status_callback=callbacks.recording,
        recording_status_callback_event=RECORDING_EVENTS,
    )
    dial.number(
        number,
        status_callback=callbacks.status,
        status_callback_event=LEG_EVENTS,
        status_callback_method="POST",
    )
    response.append(dial)
    return response


def refuse(message_key: str, language: str) -> VoiceResponse:
    """A call we will not place: say why, in the agent's language, and hang up."""
    response = VoiceResponse()
    _say(response, message_key, [language])
    response.hangup()
    return response


def ring_agents(agents: Sequence[AgentTarget], *, timeout: int, callbacks: Callbacks) -> VoiceResponse:
    """An incoming call rings every available agent's browser at once; the first to accept takes it."""
    response = VoiceResponse()
    dial = Dial(
        timeout=timeout,
        action=callbacks.after_dial,
        method="POST",
        answer_on_bridge=True,
        record="record-from-answer-dual",
        recording_status_callback=callbacks.recording,
        recording_status_callback_event=RECORDING_EVENTS,
    )
    for agent in agents:
        client = dial.client(
            status_callback=callbacks.status,
            status_callback_event=LEG_EVENTS,
            status_callback_method="POST",
        )
        client.identity(agent.identity)
        client.parameter(name="callId", value=str(agent.call_id))
        if agent.caller_name:
            client.parameter(name="callerName", value=agent.caller_name)
    response.append(dial)
    return response


def voicemail(callbacks: Callbacks, languages: Sequence[str] = ("ar", "en")) -> VoiceResponse:
    """Nobody answered: take a message. `action` ends the call (without it Twilio re-requests this URL)."""
    response = VoiceResponse()
    _say(response, "twilio.say.voicemail", languages)
    response.record(
        action=callbacks.hangup,
        method="POST",
        max_length=VOICEMAIL_MAX_SECONDS,
        play_beep=True,
        recording_status_callback=callbacks.recording,
        recording_status_callback_event=RECORDING_EVENTS,
    )
    response.hangup()
    return response


def closed(texts: Sequence[tuple[str, str]]) -> VoiceResponse:
    """Outside the queue's opening hours: say the closed message (each language in turn), hang up."""
    response = VoiceResponse()
    say_in(response, texts)
    response.hangup()
    return response


def hangup() -> VoiceResponse:
    response = VoiceResponse()
    response.hangup()
    return response
