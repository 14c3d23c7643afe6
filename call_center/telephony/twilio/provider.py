"""The Twilio provider as the app sees it: browser tokens, and the background work of one worker."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import anyio
import httpx
from sqlmodel import Session, select
from twilio.base.exceptions import TwilioException
from twilio.http import HttpClient
from twilio.rest import Client

from call_center.core.config import Settings, get_settings
from call_center.core.db import get_engine
from call_center.models import Agent, Call, CallStatus, Direction, Recording, RecordingStatus
from call_center.models.base import utcnow
from call_center.services import call_control, devices, queue, queues, recording_jobs
from call_center.services.recordings import get_store
from call_center.telephony.base import Capability, ProviderError, TelephonyProvider
from call_center.telephony.twilio import reconcile
from call_center.telephony.twilio.client import rest_client
from call_center.telephony.twilio.conference import (
    Conference,
    client_address,
    customer_leg,
    number_for_caller_id,
    ring_label,
    target_label,
)
from call_center.telephony.twilio.media import TwilioMediaFetcher
from call_center.telephony.twilio.tokens import token_problems, voice_token

logger = logging.getLogger(__name__)

JOB_POLL_SECONDS = 5.0
RECONCILE_EVERY = timedelta(minutes=5)


class TwilioProvider(TelephonyProvider):
    """Twilio carries the media; we issue tokens, answer TwiML and webhooks, drive each call's conference
    (telephony/twilio/conference.py) and copy recordings."""

    name = "twilio"
    capabilities = frozenset({Capability.HOLD, Capability.TRANSFER, Capability.MONITOR})

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        http_client: HttpClient | None = None,
        media_transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] = utcnow,
    ):
        # The seams tests replace: Twilio's REST transport, the media download transport, the clock.
        self._settings = settings
        self._http_client = http_client
        self._media_transport = media_transport
        self._clock = clock

    @property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    def browser_config(self, agent: Agent) -> dict[str, Any]:
        token = voice_token(self.settings, agent.identity)
        return {
            "provider": self.name,
            "identity": token.identity,
            "token": token.jwt,
            "expires_at": token.expires_at,
            "codec_preferences": ["opus", "pcmu"],
        }

    def health(self) -> dict[str, Any]:
        return {"provider": self.name, "configured": not token_problems(self.settings)}

    def rest(self) -> Client:
        return rest_client(self.settings, self._http_client)

    def conference(self) -> Conference:
        return Conference(self.rest(), self.settings)

    # Primitives of the call-control layer: participants of the call's conference ---------------------------
    def ring_agents(self, db: Session, call: Call, agents: list[Agent]) -> dict[int, str]:
        conference, legs = self.conference(), {}
        caller = number_for_caller_id(call, self.settings)
        # A queued call rings each agent the queue's ring time (the queue's round stops it then and rings
        # the next); Twilio's own timeout is only the safety net behind it.
        entry = queue.entry_of(db, call.id or 0)
        timeout = (
            queues.config(db, entry.queue).ring_seconds + 5
            if entry is not None
            else self.settings.RING_TIMEOUT_SECONDS
        )
        for agent in agents:
            try:
                legs[agent.id or 0] = conference.add(
                    call, to=client_address(agent), from_=caller, label=ring_label(agent.id or 0),
                    end_conference_on_exit=False, timeout=timeout,
                )  # fmt: skip
            except ProviderError as exc:
                logger.warning("call %s: agent %s could not be rung: %s", call.id, agent.id, exc.detail)
        for agent_id, leg in legs.items():  # their softphones learn who calls, and which leg is theirs
            devices.tell_agent(db, agent_id, call_control.offer_message(db, call, leg=leg))
        return legs

    def set_monitor(self, db: Session, call: Call, leg: str, *, muted: bool, coach: str | None) -> None:
        self.conference().monitor(call, leg, muted=muted, coach=coach)

    def end_unanswered(self, db: Session, call: Call, reason: str) -> None:
        from call_center.telephony.twilio import conference_callbacks

        conference_callbacks.end_unanswered(db, call, reason)

    def stop_ringing(self, db: Session, call: Call, agent_id: int, leg: str) -> None:
        try:
            self.conference().stop_leg(leg)
        except ProviderError as exc:  # it may have stopped by itself meanwhile
            logger.info("call %s: agent %s's leg not stopped: %s", call.id, agent_id, exc.detail)

    def hold_customer(self, db: Session, call: Call, on: bool) -> None:
        leg = customer_leg(call)
        if not leg:
            raise ProviderError("call.error.not_answered", f"call {call.id} has no customer leg yet")
        self.conference().hold(call, leg, on)

    def invite(
        self, db: Session, call: Call, *, agent: Agent | None, number: str | None, ring_timeout: int, tag: str
    ) -> str:
        label = target_label(agent_id=agent.id if agent else None, number=number, tag=tag)
        if agent is not None:
            to, caller = client_address(agent), number_for_caller_id(call, self.settings)
        else:
            to, caller = number or "", self.settings.TWILIO_CALLER_ID or ""
        leg = self.conference().add(
            call, to=to, from_=caller, label=label, end_conference_on_exit=False, timeout=ring_timeout
        )
        if agent is not None:
            offer = call_control.offer_message(
                db, call, leg=leg, transfer_from=call_control.agent_name(db, call)
            )
            devices.tell_agent(db, agent.id or 0, offer)
        return leg

    def cancel_invite(self, db: Session, call: Call, leg: str) -> None:
        self.conference().stop_leg(leg)

    def remove_party(self, db: Session, call: Call, leg: str) -> None:
        self.conference().remove(call, leg)

    def handoff(self, db: Session, call: Call, leaving: str, staying: str) -> None:
        conference = self.conference()
        conference.ends_call_on_exit(call, staying, True)  # first: the call must survive the first agent
        conference.ends_call_on_exit(call, leaving, False)

    def call_ended(self, db: Session, call: Call) -> None:
        conference = self.conference()
        try:
            conference.end(call)
        except ProviderError as exc:  # ended already (the usual case: the conference ended the call)
            logger.debug("call %s: conference not ended by us: %s", call.id, exc.detail)
        leg = customer_leg(call)
        # Ended by us before the customer answered (the agent hung up, the room closed): their phone may
        # still ring, a room's end does not stop a participant's dial. Busy, no answer, failed: it ended.
        if call.direction == Direction.OUTBOUND and call.status == CallStatus.CANCELED and leg:
            try:
                conference.stop_leg(leg)
            except ProviderError as exc:
                logger.debug("call %s: customer leg not stopped: %s", call.id, exc.detail)

    # Background work --------------------------------------------------------------------------------
    def run_jobs_once(self) -> list[str]:
        """Download every due recording (blocking; run it in a thread)."""
        fetcher = TwilioMediaFetcher(self.settings, self._media_transport)
        try:
            return recording_jobs.run_due(
                fetcher, get_store(), clock=self._clock, after_ready=self._after_ready
            )
        finally:
            fetcher.close()

    def reconcile_once(self) -> reconcile.Report:
        """One reconcile pass over recent calls and recordings (blocking)."""
        delete = self.delete_twilio_copies if self.settings.TWILIO_DELETE_AFTER_DOWNLOAD else None
        return reconcile.reconcile(self.rest(), now=self._clock(), delete_copy=delete)

    def _after_ready(self, recording: Recording) -> None:
        if self.settings.TWILIO_DELETE_AFTER_DOWNLOAD and recording.provider_recording_sid:
            self.delete_twilio_copies([recording.provider_recording_sid])

    def delete_twilio_copies(self, sids: Iterable[str]) -> list[str]:
        """Delete Twilio's copy of recordings whose file in our store is present and of the recorded size."""
        store, client, deleted = get_store(), None, []
        with Session(get_engine()) as db:
            for sid in sids:
                recording = db.exec(select(Recording).where(Recording.provider_recording_sid == sid)).first()
                verified = (
                    recording is not None
                    and recording.status == RecordingStatus.READY
                    and recording.storage_key is not None
                    and store.exists(recording.storage_key)
                    and store.size(recording.storage_key) == recording.size_bytes
                )
                if not verified:
                    logger.warning("recording %s: our copy is not verified; Twilio's copy is kept", sid)
                    continue
                client = client or self.rest()
                try:
                    client.recordings(sid).delete()
                except TwilioException as exc:
                    logger.warning(
                        "recording %s: deleting Twilio's copy failed (%s)", sid, exc.__class__.__name__
                    )
                    continue
                deleted.append(sid)
                logger.info("recording %s: Twilio's copy deleted after a verified download", sid)
        return deleted

    async def run_background(self) -> None:
        """Recording downloads and the periodic reconcile, for as long as the worker lives."""
        await asyncio.gather(
            _forever("recording downloads", self.run_jobs_once, lambda: JOB_POLL_SECONDS),
            # Spread the workers' reconciles over the period instead of all hitting the API at once.
            _forever(
                "reconcile",
                self.reconcile_once,
                lambda: RECONCILE_EVERY.total_seconds() * random.uniform(0.8, 1.2),
                first_delay=random.uniform(5, 30),
            ),
        )


async def _forever(
    name: str, work: Callable[[], object], interval: Callable[[], float], *, first_delay: float = 0.0
) -> None:
    """Run blocking `work` in a thread every interval; an error is logged and the loop goes on."""
    await asyncio.sleep(first_delay)
    while True:
        try:
            await anyio.to_thread.run_sync(work)
        except Exception:  # the app must outlive any failure of background work
            logger.exception("twilio background task %r failed; retrying later", name)
        await asyncio.sleep(interval())
