"""Twilio's routes: TwiML for the TwiML App and phone numbers, and the signed status/recording webhooks.

Every route checks X-Twilio-Signature (TwilioSigned). The webhooks (status, conference, recording) are
stored in the durable inbox and answered once stored; they are applied just after, in the background
(services.inbox). A TwiML route answers with what the call does next, so its database work runs in the
request: in one worker thread (never on the event loop), in a session of its own; nothing slow (no
download) happens in a request. On SQLite, that work takes the process's writer lock (core.db.write_lock):
SQLite takes one writer at a time, and writers that collide wait in its busy handler's sleeps (tens of
milliseconds), which is what ruins tail latency under a burst. Queueing them in the process instead keeps
each one to its own cost.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import Annotated, TypeVar

import anyio
from fastapi import APIRouter, HTTPException, Query, Response
from sqlmodel import Session
from twilio.twiml.voice_response import VoiceResponse

from call_center.api.twilio_deps import TwilioSigned
from call_center.core.config import get_settings
from call_center.core.db import get_engine, write_lock
from call_center.models import InboxKind
from call_center.services import inbox
from call_center.services.calls import normalise_status
from call_center.telephony.local import tones
from call_center.telephony.twilio import callbacks, conference, twiml, voice

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/calls", tags=["twilio"])

T = TypeVar("T")
CallQuery = Annotated[int | None, Query(description="our call's id, in the URLs we give Twilio")]
LegQuery = Annotated[str | None, Query(max_length=64, description="which participant: its label")]
# PostgreSQL locks rows, so callbacks of different calls proceed in parallel (bounded by the pool).
PARALLEL_WRITERS = 8


_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _writers(sqlite: bool) -> anyio.CapacityLimiter:
    """This event loop's limiter (a limiter belongs to the loop that waits on it)."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(1 if sqlite else PARALLEL_WRITERS)
    return limiter


async def _in_session(work: Callable[[Session], T]) -> T:
    """Run `work` with a fresh session in a worker thread (one hop), committing at the end."""

    def run() -> T:
        with write_lock(), Session(get_engine(), expire_on_commit=False) as db:
            result = work(db)
            db.commit()
            return result

    return await anyio.to_thread.run_sync(run, limiter=_writers(get_settings().is_sqlite))


def _xml(document: VoiceResponse) -> Response:
    return Response(content=str(document), media_type="application/xml")


@router.post("/twiml/outbound")
async def twiml_outbound(params: TwilioSigned) -> Response:
    """The TwiML App's voice URL: an agent's browser is calling `To`."""
    return _xml(await _in_session(lambda db: voice.outbound(db, params, get_settings())))


@router.post("/twiml/inbound")
async def twiml_inbound(params: TwilioSigned) -> Response:
    """The company number's voice URL: a customer is calling."""
    return _xml(await _in_session(lambda db: voice.inbound(db, params, get_settings())))


@router.post("/twiml/inbound/after-dial")
async def twiml_after_dial(params: TwilioSigned) -> Response:
    """The `<Dial>` action of an incoming call: hang up, or take a voicemail if nobody answered."""
    return _xml(await _in_session(lambda db: voice.after_dial(db, params, get_settings())))


@router.post("/twiml/wait")
async def twiml_wait(_params: TwilioSigned, call: CallQuery = None) -> Response:
    """What a customer in the call's room hears until an agent joins: their place in the queue and our
    waiting music (asked again after QUEUE_ANNOUNCE_SECONDS), or our ringback."""
    return _xml(await _in_session(lambda db: voice.wait(db, call, get_settings())))


@router.post("/twiml/hold")
async def twiml_hold(_params: TwilioSigned) -> Response:
    """Hold music of a held participant: our own hold tone (no third-party URL)."""
    return _xml(conference.play_loop(get_settings(), "hold"))


@router.post("/twiml/notice")
async def twiml_notice(_params: TwilioSigned) -> Response:
    """The recording notice an outbound call's customer hears when they answer (a participant's
    announcement, RECORDING_NOTICE_OUTBOUND)."""
    return _xml(conference.recording_notice(get_settings()))


@router.post("/twiml/voicemail")
async def twiml_voicemail(_params: TwilioSigned) -> Response:
    """A waiting customer nobody took: take a message."""
    return _xml(voice.voicemail(get_settings()))


@router.get("/media/{name}.mp3", include_in_schema=False)
async def tone(name: str) -> Response:
    """Our tones as MP3 for Twilio's <Play> (public: a tone is no secret, and Twilio fetches it unsigned)."""
    if name not in tones.MP3_TONES:
        raise HTTPException(status_code=404, detail={"code": "error.not_found", "message": "no such tone"})
    data = await anyio.to_thread.run_sync(tones.mp3, name)
    return Response(content=data, media_type="audio/mpeg", headers={"cache-control": "public, max-age=86400"})


@router.post("/twiml/hangup")
async def twiml_hangup(_params: TwilioSigned) -> Response:
    """Where a voicemail `<Record>` goes when it ends."""
    return _xml(twiml.hangup())


@router.post("/webhook/status", status_code=204)
async def webhook_status(params: TwilioSigned, call: CallQuery = None, leg: LegQuery = None) -> Response:
    """A call leg's status changed: a participant we added (`?call=&leg=`), or the TwiML App's and the
    number's own legs. Stored in the inbox, applied just after (services.inbox)."""
    try:
        if call is not None and leg:
            normalise_status(params.get("CallStatus", ""))
            conference.parse_label(leg)
            await _store(InboxKind.LEG, params, call, leg)
        else:
            callbacks.to_event(params)
            await _store(InboxKind.STATUS, params, None, None)
    except ValueError as exc:
        logger.warning("status callback refused: %s", exc)
        detail = {"code": "twilio.error.callback", "message": str(exc)}
        raise HTTPException(status_code=400, detail=detail) from None
    return Response(status_code=204)


@router.post("/webhook/conference", status_code=204)
async def webhook_conference(params: TwilioSigned, call: CallQuery = None) -> Response:
    """The call's room: started, ended, a participant joined, left, was held."""
    if call is None:
        raise HTTPException(400, detail={"code": "twilio.error.callback", "message": "call is missing"})
    await _store(InboxKind.CONFERENCE, params, call, None)
    return Response(status_code=204)


@router.post("/webhook/recording", status_code=204)
async def webhook_recording(params: TwilioSigned, call: CallQuery = None) -> Response:
    """A recording is available (or failed): queue its download into our store."""
    await _store(InboxKind.RECORDING, params, call, None)
    return Response(status_code=204)


async def _store(kind: str, params: dict[str, str], call: int | None, leg: str | None) -> None:
    """Acknowledge only what is stored: a callback we could not store is answered 503 (Twilio retries)."""
    try:
        await inbox.store(kind, params, call_id=call, leg=leg)
    except inbox.StoreFailed:
        detail = {"code": "twilio.error.inbox", "message": "the callback could not be stored; send it again"}
        raise HTTPException(status_code=503, detail=detail) from None
