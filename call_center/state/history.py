"""The call history (its page, and the panel on the call-center page), kept live by the event bus.

Each open page runs one background task subscribed to `call.updated`: a new call, a status change or a
recording becoming ready is applied to the rows in place. A reload every RECONCILE_SECONDS is only a safety
net (e.g. for events published while Redis was unreachable).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from call_center.core import locale
from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.core.i18n import LANGUAGES, key_or_text
from call_center.models import CallPublic, CallStatus, Direction, RecordingStatus, Role
from call_center.services import agents, calls, dispositions, history, numbers, recordings, retention, wrapup
from call_center.services.errors import DomainError
from call_center.services.events import STOPPING, get_bus
from call_center.state.guard import admin_only
from call_center.state.live import connected as _connected
from call_center.state.session import SessionState

logger = logging.getLogger(__name__)

FILTERS = (
    "f_from",
    "f_to",
    "f_direction",
    "f_status",
    "f_agent",
    "f_recording",
    "f_query",
    "f_disposition",
    "f_tag",
)
PAGE_SIZE = 25
PANEL_SIZE = 8
RECONCILE_SECONDS = 60.0
GRACE_SECONDS = 30.0  # how long a page may be disconnected before its live task stops

STATUS_CLASS = {
    CallStatus.COMPLETED: "badge-ok",
    CallStatus.IN_PROGRESS: "badge-info",
    CallStatus.RINGING: "badge-info",
    CallStatus.INITIATED: "badge-info",
    CallStatus.QUEUED: "badge-info",
    CallStatus.BUSY: "badge-warn",
    CallStatus.NO_ANSWER: "badge-warn",
    CallStatus.CANCELED: "badge-muted",
    CallStatus.FAILED: "badge-danger",
}


def localized(call: CallPublic, zone: Any, digits: str) -> dict[str, str]:
    """The row's texts that differ by language (Babel: month names, digits), for both languages: the page
    picks its own (`components.ui.localized`), so switching language needs no reload."""
    texts: dict[str, str] = {}
    for lang in LANGUAGES:
        texts[f"started_{lang}"] = locale.datetime_text(call.created_at, lang, zone, digits)
        texts[f"duration_{lang}"] = locale.duration(call.duration_seconds, lang, digits)
        texts[f"wait_{lang}"] = locale.duration(call.wait_seconds, lang, digits)
        texts[f"queue_{lang}"] = (call.queue_name_ar if lang == "ar" else call.queue_name_en) or ""
    return texts


_SHARED_ROWS: OrderedDict[tuple[int, str], tuple[dict[str, Any], CallPublic, dict[str, Any]]] = OrderedDict()


def _shared_row(data: dict[str, Any], digits: str) -> tuple[CallPublic, dict[str, Any]]:
    """One `call.updated` event reaches every open history page of this worker as the same object: it is
    validated and made into a row once per digit style, not once per page (with 500 pages open that was
    70 ms of work per event). Keyed on the event's identity, checked, so a recycled id is never a hit."""
    key = (id(data), digits)
    hit = _SHARED_ROWS.get(key)
    if hit is not None and hit[0] is data:
        return hit[1], hit[2]
    call = CallPublic.model_validate(data)
    row = row_for(call, digits)
    _SHARED_ROWS[key] = (data, call, row)
    while len(_SHARED_ROWS) > 64:
        _SHARED_ROWS.popitem(last=False)
    return call, row


def row_for(call: CallPublic, digits: str = "latn") -> dict[str, Any]:
    """A history row: display strings, i18n keys for labels, and our recording links. `digits`: the
    viewer's (core.locale)."""
    settings = get_settings()
    local = call.created_at.astimezone(settings.zone)
    reason_key, reason_text = key_or_text(call.hangup_reason or "")
    ready = call.recording_status == RecordingStatus.READY and call.recording_id
    row: dict[str, Any] = {
        "id": call.id,
        "direction": call.direction,
        "customer": call.customer_name or "",
        "number": call.customer_number,
        "number_display": numbers.display(call.customer_number, settings.DEFAULT_REGION),
        "agent": call.agent_name or "",
        "status": call.status,
        "status_class": STATUS_CLASS.get(call.status, "badge-muted"),
        "started": f"{local:%Y-%m-%d %H:%M}",
        "started_ts": call.created_at.timestamp(),
        "duration": locale.duration(call.duration_seconds, "en"),
        "reason_key": reason_key,
        "reason_text": reason_text,
        "recording_status": call.recording_status or "",
        "recording_id": call.recording_id or 0,
        "recording_url": recordings.media_path(call.recording_id) if ready and call.recording_id else "",
        "download_url": f"{recordings.media_path(call.recording_id)}?download=1"
        if ready and call.recording_id
        else "",
        "agent_id": call.agent_id or 0,
        "chain": _chain(call, settings.zone),
        "queue_outcome": call.queue_outcome or "",
        "queue": call.queue or "",
        "wait": locale.duration(call.wait_seconds, "en"),
        "disposition": call.disposition or "",
        "notes": call.notes or "",
        "tags": " ".join(f"#{tag}" for tag in call.tags),
        **localized(call, settings.zone, digits),
    }
    return row


def _chain(call: CallPublic, zone: Any) -> str:
    """ "Sara 14:05:10 → Omar 14:06:02" for a call two or more agents had (empty otherwise)."""
    if len(call.chain) < 2:
        return ""
    return " → ".join(f"{step.name} {step.joined_at.astimezone(zone):%H:%M:%S}" for step in call.chain)


def _day(value: str, zone: Any, *, end: bool = False) -> datetime | None:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=zone)
    except ValueError:
        return None
    return day + timedelta(days=1) if end else day


class HistoryState(SessionState):
    rows: list[dict[str, Any]] = []
    recent_rows: list[dict[str, Any]] = []
    page: int = 1
    total: int = 0
    f_from: str = ""
    f_to: str = ""
    f_direction: str = ""
    f_status: str = ""
    f_agent: str = ""
    f_recording: str = ""
    f_query: str = ""
    f_disposition: str = ""
    f_tag: str = ""
    disposition_options: list[dict[str, str]] = []
    agent_options: list[dict[str, str]] = []
    # The call detail view (a panel over the history): the call, its timeline, the customer's other calls
    detail: dict[str, Any] = {}
    detail_steps: list[dict[str, Any]] = []
    detail_previous: list[dict[str, Any]] = []
    detail_disposition: str = ""
    detail_notes: str = ""
    detail_tags: str = ""
    detail_message: str = ""
    delete_reason: str = ""  # an admin deleting the open call's recording says why (audited)
    live_id: str = ""
    last_live_ms: int = 0

    @rx.var
    def total_pages(self) -> int:
        return max(1, (self.total + PAGE_SIZE - 1) // PAGE_SIZE)

    @rx.var
    def total_label(self) -> str:
        """ "11 مكالمة" / "3 مكالمات" / "11 calls" (CLDR plural rules); "more than N calls" at the cap."""
        if self.total >= history.COUNT_CAP:
            return locale.plural("count.calls_more", history.COUNT_CAP, self.lang, self.digits)
        return locale.plural("count.calls", self.total, self.lang, self.digits)

    @rx.var
    def export_query(self) -> str:
        """GET /api/calls/export's query for the active filters and the page's language."""
        flt = self._filter()
        params = {
            "agent_id": flt.agent_id, "direction": flt.direction, "status": flt.status,
            "since": flt.since.isoformat() if flt.since else None,
            "until": flt.until.isoformat() if flt.until else None,
            "has_recording": None if flt.has_recording is None else str(flt.has_recording).lower(),
            "q": flt.search, "disposition": flt.disposition, "tag": flt.tag, "lang": self.lang,
        }  # fmt: skip
        return urlencode({k: v for k, v in params.items() if v is not None})

    @rx.var
    def has_filters(self) -> bool:
        return any(
            (
                self.f_from,
                self.f_to,
                self.f_direction,
                self.f_status,
                self.f_agent,
                self.f_recording,
                self.f_query,
                self.f_disposition,
                self.f_tag,
            )
        )

    @rx.var
    def disposition_labels(self) -> dict[str, str]:
        """code -> name in the page's language (inactive dispositions too: old calls show them)."""
        key = "name_ar" if self.lang == "ar" else "name_en"
        return {d["code"]: d[key] for d in self.disposition_options}

    # Loading -------------------------------------------------------------------------------------------
    def _filter(self) -> history.CallFilter:
        zone = get_settings().zone
        return history.CallFilter(
            agent_id=int(self.f_agent) if self.f_agent.isdigit() else None,
            direction=self.f_direction if self.f_direction in Direction.ALL else None,
            status=self.f_status if self.f_status in CallStatus.ALL else None,
            since=_day(self.f_from, zone),
            until=_day(self.f_to, zone, end=True),
            has_recording={"yes": True, "no": False}.get(self.f_recording),
            search=self.f_query.strip() or None,
            disposition=self.f_disposition or None,
            tag=self.f_tag.strip() or None,
        )

    async def _refresh(self) -> None:
        """Reload the current page and the panel; the queries run in a worker thread, off the event loop."""
        data = await asyncio.to_thread(
            _fetch, self._session_token(), self._filter(), self.page, not self.disposition_options
        )
        self._assign(data)

    def _assign(self, data: dict[str, Any] | None) -> None:
        if data is None:  # the session ended
            self.rows, self.recent_rows, self.total = [], [], 0
            return
        self.rows, self.recent_rows, self.total = data["rows"], data["recent"], data["total"]
        if data["agents"] is not None:
            self.agent_options = data["agents"]
        if data.get("dispositions") is not None:
            self.disposition_options = data["dispositions"]

    @rx.event
    async def load(self):
        await self._refresh()
        return HistoryState.live

    @rx.event
    async def set_filter(self, name: str, value: str):
        if name not in FILTERS:
            return
        setattr(self, name, str(value)[:60])
        self.page = 1
        await self._refresh()

    @rx.event
    async def search(self, form: dict[str, Any]):
        self.f_query = str(form.get("q", ""))[:60]
        self.f_tag = str(form.get("tag", ""))[:32]
        self.page = 1
        await self._refresh()

    @rx.event
    async def clear_filters(self):
        for name in FILTERS:
            setattr(self, name, "")
        self.page = 1
        await self._refresh()

    @rx.event
    async def go_page(self, page: int):
        self.page = min(max(1, int(page)), self.total_pages)
        await self._refresh()

    # The call detail view -------------------------------------------------------------------------------
    @rx.var
    def detail_open(self) -> bool:
        return bool(self.detail)

    @rx.event
    async def open_detail(self, call_id: int):
        found = await asyncio.to_thread(_detail, self._session_token(), int(call_id))
        if found is None:
            return
        self.detail, self.detail_steps, self.detail_previous = (
            found["call"],
            found["steps"],
            found["previous"],
        )
        self.detail_disposition = found["call"]["disposition"]
        self.detail_notes = found["call"]["notes"]
        self.detail_tags = ", ".join(t.lstrip("#") for t in found["call"]["tags"].split())
        self.detail_message = ""

    @rx.event
    def close_detail(self):
        self.detail, self.detail_steps, self.detail_previous = {}, [], []

    @rx.event
    def set_detail_field(self, name: str, value: str):
        if name in ("detail_disposition", "detail_notes", "detail_tags"):
            setattr(self, name, str(value)[:4001])

    @rx.event
    async def save_detail(self):
        """Disposition, notes and tags of the open call (its agents and admins: services.wrapup)."""
        if not self.detail:
            return
        try:
            with session_scope() as db:
                wrapup.save(
                    db, agents.get_agent(db, self.agent_id), int(self.detail["id"]),
                    disposition=self.detail_disposition or None, notes=self.detail_notes,
                    tags=self.detail_tags,
                )  # fmt: skip
        except DomainError as exc:
            self.detail_message = exc.code
            return
        self.detail_message = "wrapup.saved"
        await self.open_detail(int(self.detail["id"]))
        self.detail_message = "wrapup.saved"

    @rx.event
    def set_delete_reason(self, value: str):
        self.delete_reason = str(value)[:300]

    @rx.event
    @admin_only
    async def delete_recording(self):
        """An admin deletes the open call's recording, with a reason (services.retention: audited)."""
        if not self.detail or not self.detail.get("recording_id"):
            return
        try:
            with session_scope() as db:
                retention.delete_by_admin(
                    db,
                    agents.get_agent(db, self.agent_id),
                    int(self.detail["recording_id"]),
                    self.delete_reason,
                )
        except DomainError as exc:
            self.detail_message = exc.code
            return
        self.delete_reason = ""
        await self.open_detail(int(self.detail["id"]))
        self.detail_message = "recording.deleted_done"

    # Live updates ----------------------------------------------------------------------------------------
    def _visible(self, call: CallPublic) -> bool:
        return self.role in Role.SEES_EVERY_CALL or call.agent_id == self.agent_id

    @staticmethod
    def _upsert(
        rows: list[dict[str, Any]], row: dict[str, Any], limit: int, insert: bool
    ) -> tuple[list, bool]:
        for index, existing in enumerate(rows):
            if existing["id"] == row["id"]:
                return rows[:index] + [row] + rows[index + 1 :], False
        if not insert:
            return rows, False
        merged = sorted([row, *rows], key=lambda r: (r["started_ts"], r["id"]), reverse=True)
        return merged[:limit], True

    def _apply(self, data: dict[str, Any]) -> None:
        call, shared = _shared_row(data, self.digits)
        if not self._visible(call):
            return
        row = dict(shared)  # (each page its own copy: nothing a page does reaches another's)
        self.recent_rows, _ = self._upsert(self.recent_rows, row, PANEL_SIZE, insert=True)
        self.rows, added = self._upsert(
            self.rows, row, PAGE_SIZE, insert=self.page == 1 and history.matches(self._filter(), call)
        )
        if added:
            self.total += 1
        self.last_live_ms = int(time.time() * 1000)

    @rx.event(background=True)
    async def live(self):
        """Follow `call.updated` until this page goes away (or a newer task for it starts)."""
        async with self:
            task_id = self.live_id = uuid.uuid4().hex
            token = self.router.session.client_token
        next_reload = time.monotonic() + RECONCILE_SECONDS * random.uniform(0.75, 1.25)
        gone_since: float | None = None
        async with get_bus().subscribe("call.updated") as sub:
            # A change between the page's load and this subscription would wait for the next reconcile:
            # read again now that every later change reaches us.
            async with self:
                if self.live_id != task_id:
                    return
                first = (self._session_token(), self._filter(), self.page)
            data = await asyncio.to_thread(_fetch, *first, False)
            async with self:
                if self.live_id != task_id:
                    return
                self._assign(data)
            while True:
                item = await sub.get(timeout=5)
                # What came while the last update was being sent goes out with this one: one delta for
                # all of them (under a burst a page does its work once per batch, not once per call).
                items = [item, *sub.ready()] if item is not None else []
                if any(i.topic == STOPPING for i in items):
                    return
                if not await _connected(token):
                    gone_since = gone_since or time.monotonic()
                    if time.monotonic() - gone_since > GRACE_SECONDS:
                        return
                    continue
                gone_since = None
                async with self:
                    if self.live_id != task_id:
                        return
                    for each in items:
                        self._apply(each.data)
                    reconcile = time.monotonic() > next_reload
                    query = (self._session_token(), self._filter(), self.page) if reconcile else None
                if items and logger.isEnabledFor(logging.DEBUG):
                    # bench/live_updates.py reads these to split the latency into server and browser
                    for each in items:
                        logger.debug("live update of call %s sent at %.4f", each.data.get("id"), time.time())
                if query is not None:
                    # the safety net: a full reload, spread out so open pages do not all reload at once
                    next_reload = time.monotonic() + RECONCILE_SECONDS * random.uniform(0.75, 1.25)
                    data = await asyncio.to_thread(_fetch, *query, False)
                    async with self:
                        if self.live_id != task_id:
                            return
                        self._assign(data)


def _detail(token: str | None, call_id: int) -> dict[str, Any] | None:
    """One call as the detail view shows it, if the viewer may see it."""
    settings = get_settings()
    with session_scope() as db:
        viewer = agents.agent_for_token(db, token)
        if viewer is None:
            return None
        call = history.get_call(db, viewer, call_id)
        if call is None:
            return None
        names = {a.id: a.name for a in agents.list_agents(db)}
        steps: list[dict[str, Any]] = [{"what": "started", "at": call.created_at}]
        steps += calls.timeline(db, call_id)
        if call.ended_at is not None:
            steps.append({"what": "ended", "at": call.ended_at, "reason": call.hangup_reason or ""})
        previous, _ = history.list_calls(
            db, viewer, history.CallFilter(search=call.customer_number), page_size=11
        )
    row = row_for(call, viewer.digits)
    row["known_contact"] = bool(call.customer_name)
    return {
        "call": row,
        "steps": [
            {
                "what": step["what"],
                "label": "timeline." + step["what"],
                "at_en": locale.datetime_text(step["at"], "en", settings.zone, style="time"),
                "at_ar": locale.datetime_text(step["at"], "ar", settings.zone, viewer.digits, style="time"),
                "who": names.get(step.get("agent_id") or 0, "") or str(step.get("target") or ""),
                "reason_key": key_or_text(str(step.get("reason") or ""))[0],
            }
            for step in sorted(steps, key=lambda s: s["at"])
        ],
        "previous": [row_for(c, viewer.digits) for c in previous if c.id != call_id][:10],
    }


def _fetch(
    token: str | None, flt: history.CallFilter, page: int, with_options: bool
) -> dict[str, Any] | None:
    """One page of the history and the latest calls, for the agent behind `token` (None: not signed in)."""
    with session_scope() as db:
        viewer = agents.agent_for_token(db, token)
        if viewer is None:
            return None
        calls, total = history.list_calls(db, viewer, flt, page=page, page_size=PAGE_SIZE)
        if flt == history.CallFilter() and page == 1:
            recent = calls[:PANEL_SIZE]  # the panel is the unfiltered first page's top: no second query
        else:
            recent, _ = history.list_calls(db, viewer, page=1, page_size=PANEL_SIZE)
        options = found_dispositions = None
        if with_options:
            found_dispositions = [
                {
                    "code": d.code,
                    "name_ar": d.name_ar,
                    "name_en": d.name_en,
                    "active": "1" if d.is_active else "",
                }
                for d in dispositions.list_dispositions(db)
            ]
            if viewer.role in Role.SEES_EVERY_CALL:
                options = [{"id": str(a.id), "name": a.name} for a in agents.list_agents(db)]
    return {
        "rows": [row_for(c, viewer.digits) for c in calls],
        "recent": [row_for(c, viewer.digits) for c in recent],
        "total": total,
        "agents": options,
        "dispositions": found_dispositions,
    }
