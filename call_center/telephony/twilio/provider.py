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
from call_center.models import Agent, Recording, RecordingStatus
from call_center.models.base import utcnow
from call_center.services import recording_jobs
from call_center.services.recordings import get_store
from call_center.telephony.base import TelephonyProvider
from call_center.telephony.twilio import reconcile
from call_center.telephony.twilio.client import rest_client
from call_center.telephony.twilio.media import TwilioMediaFetcher
from call_center.telephony.twilio.tokens import token_problems, voice_token

logger = logging.getLogger(__name__)

JOB_POLL_SECONDS = 5.0
RECONCILE_EVERY = timedelta(minutes=5)


class TwilioProvider(TelephonyProvider):
    """Twilio carries the media; we issue tokens, answer TwiML and webhooks, and copy recordings."""

    name = "twilio"

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
