"""Callbacks from the media server to the app, in order, retried until the app has them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from call_center.telephony.local.protocol import callback_headers

logger = logging.getLogger(__name__)


class Notifier:
    """Posts events to `url` one at a time; a failed post is retried with backoff, never dropped."""

    def __init__(self, url: str, secret: str, client: httpx.AsyncClient | None = None):
        self.url = url
        self.secret = secret
        self.client = client or httpx.AsyncClient(timeout=10)
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.pending = 0  # queued or being retried

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="media-notifier")

    def status(
        self, sid: str, status: str, *, leg: str | None, reason: str | None = None, by: str | None = None
    ) -> None:
        """Queue a call status event (the app applies it with services.calls.apply_event)."""
        self._put(
            {"type": "status", "sid": sid, "status": status, "leg": leg, "reason": reason, "hangup_by": by}
        )

    def party(self, sid: str, leg: str, status: str, **flags: Any) -> None:
        """A party of an answered call joined, left, was lost, or was not reached (no-answer, canceled);
        a supervisor's join carries its flags (muted, coaching)."""
        self._put({"type": "party", "sid": sid, "leg": leg, "status": status, **flags})

    def recording(self, sid: str, **fields: Any) -> None:
        self._put({"type": "recording", "sid": sid, **fields})

    def _put(self, event: dict[str, Any]) -> None:
        event["event_id"] = uuid.uuid4().hex
        event["at"] = datetime.now(UTC).isoformat()
        self.pending += 1
        self.queue.put_nowait(event)

    async def _run(self) -> None:
        while True:
            event = await self.queue.get()
            delay = 0.2
            while not await self._post(event):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            self.pending -= 1

    async def _post(self, event: dict[str, Any]) -> bool:
        body = json.dumps(event).encode()
        headers = {"content-type": "application/json", **callback_headers(self.secret, body)}
        try:
            response = await self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            logger.warning(
                "callback %s for %s not delivered (%s); retrying", event["type"], event["sid"], exc
            )
            return False
        if response.status_code >= 500 or response.status_code == 429:
            logger.warning(
                "callback %s for %s: app answered %s; retrying",
                event["type"],
                event["sid"],
                response.status_code,
            )
            return False
        if response.status_code >= 400:
            # A 4xx will not get better by retrying (e.g. the call was deleted): log and move on.
            logger.error(
                "callback %s for %s refused: %s %s",
                event["type"],
                event["sid"],
                response.status_code,
                response.text[:200],
            )
        self.sent += 1
        return True

    async def drain(self, timeout: float) -> bool:
        """Wait until every queued event is delivered (or `timeout`); True if all went out."""
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return not self.pending

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.aclose()
