"""The callback list on the call-center page: missed customers, shared by the agents, kept live.

One background task per open page follows `callback.updated` (like the history's) and reloads the short
list; claiming is atomic in services.callbacks, so two agents clicking at once get one winner."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import reflex as rx

from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.services import agents, callbacks, numbers
from call_center.services.errors import DomainError
from call_center.services.events import STOPPING, get_bus
from call_center.state.live import connected
from call_center.state.session import SessionState
from call_center.state.softphone import SoftphoneState

GRACE_SECONDS = 30.0


def _rows(token: str | None) -> list[dict[str, Any]] | None:
    settings = get_settings()
    with session_scope() as db:
        viewer = agents.agent_for_token(db, token)
        if viewer is None:
            return None
        found = callbacks.live_items(db)
    rows = []
    for entry in found:
        item = entry["item"]
        rows.append(
            {
                "id": item.id,
                "number": item.number,
                "number_display": numbers.display(item.number, settings.DEFAULT_REGION),
                "contact": entry["contact"],
                "reason": item.reason,
                "attempts": item.attempts,
                "last": f"{item.last_at.astimezone(settings.zone):%H:%M}",
                "status": item.status,
                "mine": item.claimed_by == viewer.id,
                "claimed_by": entry["claimed_by_name"],
            }
        )
    return rows


class CallbacksState(SessionState):
    rows: list[dict[str, Any]] = []
    error: str = ""
    live_id: str = ""

    async def _reload(self) -> None:
        found = await asyncio.to_thread(_rows, self._session_token())
        self.rows = found or []

    @rx.event
    async def load(self):
        await self._reload()
        return CallbacksState.live

    def _claim(self, item_id: int) -> bool:
        try:
            with session_scope() as db:
                callbacks.claim(db, int(item_id), agents.get_agent(db, self.agent_id))
        except DomainError as exc:
            self.error = exc.code
            return False
        self.error = ""
        return True

    @rx.event
    async def claim(self, item_id: int):
        self._claim(item_id)
        await self._reload()

    @rx.event
    async def release(self, item_id: int):
        with session_scope() as db:
            callbacks.release(db, int(item_id), agents.get_agent(db, self.agent_id))
        await self._reload()

    @rx.event
    async def call_back(self, item_id: int):
        """Claim (if not yet) and dial: the call that follows is this item's callback."""
        row = next((r for r in self.rows if r["id"] == item_id), None)
        if row is None or not self._claim(item_id):
            await self._reload()
            return None
        await self._reload()
        return SoftphoneState.call_number(row["number"])

    @rx.event(background=True)
    async def live(self):
        """Follow `callback.updated` until this page goes away (or a newer task for it starts)."""
        async with self:
            task_id = self.live_id = uuid.uuid4().hex
            token = self.router.session.client_token
            session = self._session_token()
        gone_since: float | None = None
        async with get_bus().subscribe(callbacks.TOPIC) as sub:
            # A change between the page's load and this subscription would be missed: read again now that
            # every later change reaches us (a callback that closed as the page loaded stayed listed).
            found = await asyncio.to_thread(_rows, session)
            async with self:
                if self.live_id != task_id:
                    return
                self.rows = found or []
            while True:
                item = await sub.get(timeout=30)
                if item is not None and item.topic == STOPPING:
                    return
                if not await connected(token):
                    gone_since = gone_since or time.monotonic()
                    if time.monotonic() - gone_since > GRACE_SECONDS:
                        return
                    continue
                gone_since = None
                async with self:
                    if self.live_id != task_id:
                        return
                    session = self._session_token()
                found = await asyncio.to_thread(_rows, session)
                async with self:
                    if self.live_id != task_id:
                        return
                    self.rows = found or []
