"""The callback list on the call-center page: missed customers, shared by the agents, kept live.

One background task per open page follows `callback.updated` (like the history's) and reloads the short
list; claiming is atomic in services.callbacks, so two agents clicking at once get one winner."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime
from typing import Any

import reflex as rx

from call_center.core import locale
from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.core.i18n import LANGUAGES
from call_center.models.base import utcnow
from call_center.services import agents, callbacks, numbers, recordings
from call_center.services.errors import DomainError
from call_center.services.events import STOPPING, get_bus
from call_center.state.live import connected
from call_center.state.session import SessionState
from call_center.state.softphone import SoftphoneState

GRACE_SECONDS = 30.0


def _row(data: dict[str, Any], viewer_id: int, digits: str = "latn") -> dict[str, Any]:
    """A list row from an item's fields (a query's or a live event's); `digits`: the viewer's."""
    settings = get_settings()
    voicemail = data.get("voicemail_id")
    last = data["last_at"]
    last = datetime.fromisoformat(last) if isinstance(last, str) else last
    return {
        "id": data["id"],
        "number": data["number"],
        "number_display": numbers.display(data["number"], settings.DEFAULT_REGION),
        "contact": data.get("contact") or "",
        "reason": data["reason"],
        "attempts": data["attempts"],
        "last": f"{last.astimezone(settings.zone):%H:%M}",
        **{f"last_{lang}": _when(last, lang, settings.zone, digits) for lang in LANGUAGES},
        "last_ts": last.timestamp(),
        "status": data["status"],
        "mine": data.get("claimed_by") == viewer_id,
        "claimed_by": data.get("claimed_by_name") or "",
        # a voicemail plays and downloads through signed links (the list is the queue's, not one agent's)
        "voicemail_url": recordings.signed_path(voicemail) if voicemail else "",
        "voicemail_download": recordings.signed_path(voicemail, download=True) if voicemail else "",
    }


def _when(at: datetime, lang: str, zone: Any, digits: str) -> str:
    """14:05 today; the day and the time before today (a callback list can hold yesterday's callers)."""
    today = utcnow().astimezone(zone).date()
    style = "hm" if at.astimezone(zone).date() == today else "short"
    return locale.datetime_text(at, lang, zone, digits, style=style)


def _rows(token: str | None) -> list[dict[str, Any]] | None:
    with session_scope() as db:
        viewer = agents.agent_for_token(db, token)
        if viewer is None:
            return None
        found = callbacks.live_items(db)
    return [
        _row(
            {
                **vars(entry["item"]),
                "contact": entry["contact"],
                "claimed_by_name": entry["claimed_by_name"],
                "voicemail_id": entry["voicemail_id"],
            },
            viewer.id or 0,
            viewer.digits,
        )
        for entry in found
    ]


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

    def _apply(self, data: dict[str, Any]) -> None:
        """A live event carries the item as the list shows it: applied without a query (a re-read right
        after the event could miss the change on a loaded machine)."""
        rows = [r for r in self.rows if r["id"] != data.get("id")]
        if data.get("status") in ("open", "claimed") and data.get("number"):
            rows.append(_row(data, self.agent_id, self.digits))
        self.rows = sorted(rows, key=lambda r: (r["last_ts"], r["id"]), reverse=True)

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
                    if item is not None:
                        self._apply(item.data)
                        continue
                    session = self._session_token()
                found = await asyncio.to_thread(_rows, session)  # every 30 s: the safety net
                async with self:
                    if self.live_id != task_id:
                        return
                    self.rows = found or []
