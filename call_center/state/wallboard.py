"""The live wallboard (/wallboard, supervisors and admins): queues and agents, as they are now.

One background task per open page follows the bus (calls, agent states) and takes the process's shared
board after each change (services.wallboard.Boards: one read per change, whatever the number of open
wallboards). Elapsed times (longest wait, time in state, call length) tick in the browser from the seconds
the board gives, so a quiet call centre sends nothing. The texts are computed vars of the page's language
and digits, so switching language needs no new board.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import OrderedDict
from dataclasses import asdict
from typing import Any, ClassVar

import reflex as rx

from call_center.core import locale
from call_center.core.config import get_settings
from call_center.services import numbers, wallboard
from call_center.services.events import STOPPING, get_bus
from call_center.state.guard import Access
from call_center.state.live import connected
from call_center.state.session import SessionState

GRACE_SECONDS = 30.0
RECONCILE_SECONDS = 60.0  # the safety net: a fresh board now and then, even without news


# Every open wallboard of a process shows the same board: its texts are made once per board and language
# (keyed by the board's read time), not once per page.
_TEXTS: OrderedDict[tuple[str, float, str, str], list[dict[str, Any]]] = OrderedDict()
_TEXTS_KEPT = 16


def _cached(kind: str, make: Any, board: dict[str, Any], lang: str, digits: str) -> list[dict[str, Any]]:
    key = (kind, float(board.get("at") or 0.0), lang, digits)
    found = _TEXTS.get(key)
    if found is None:
        found = _TEXTS[key] = make(board, lang, digits)
        while len(_TEXTS) > _TEXTS_KEPT:
            _TEXTS.popitem(last=False)
    return found


def queue_texts(board: dict[str, Any], lang: str, digits: str) -> list[dict[str, Any]]:
    """The queue tiles as shown, in `lang` with `digits` (core.locale)."""
    return _cached("queues", _queue_texts, board, lang, digits)


def agent_texts(board: dict[str, Any], lang: str, digits: str) -> list[dict[str, Any]]:
    """The agents' rows as shown."""
    return _cached("agents", _agent_texts, board, lang, digits)


def _queue_texts(board: dict[str, Any], lang: str, digits: str) -> list[dict[str, Any]]:
    out = []
    for q in board.get("queues") or []:
        out.append(
            {
                "code": q["code"],
                "name": q["name_ar"] if lang == "ar" else q["name_en"],
                "waiting": q["waiting"],
                "waiting_text": locale.number(q["waiting"], lang, digits),
                "longest_wait": int(q["longest_wait"]),
                "available": locale.number(q["available"], lang, digits),
                "on_call": locale.number(q["on_call"], lang, digits),
                "wrap_up": locale.number(q["wrap_up"], lang, digits),
                "away": locale.number(q["away"], lang, digits),
                "offered": locale.number(q["offered"], lang, digits),
                "service_level": locale.percent(q["service_level"], lang, digits, places=0),
                "abandonment": locale.percent(q["abandonment"], lang, digits, places=0),
                "average_wait": "—"
                if q["average_wait"] is None
                else locale.duration(q["average_wait"], lang, digits),
                # callers wait with nobody free, and more of them than agents ringing for them
                "alert": q["waiting"] > q["ringing"] and q["available"] == 0,
            }
        )
    return out


def _agent_texts(board: dict[str, Any], lang: str, digits: str) -> list[dict[str, Any]]:
    region = get_settings().DEFAULT_REGION
    out = []
    for a in board.get("agents") or []:
        number = a["customer_number"]
        out.append(
            {
                "id": a["agent_id"],
                "name": a["name"],
                "state": a["state"],
                "reason": a["reason"] or "",
                "in_state": int(a["in_state"]),
                "calls_today": locale.number(a["calls_today"], lang, digits),
                "today": a["calls_today"],
                "customer": a["customer_name"] or (numbers.display(number, region) if number else ""),
                "on_call": a["call_seconds"] is not None and a["state"] == "on-call",
                "call_seconds": int(a["call_seconds"] or 0),
                "call_id": int(a["call_id"] or 0),  # what a supervisor may monitor (services.monitoring)
                "monitoring": a.get("monitoring") or "",  # this supervisor monitors that agent's call
            }
        )
    return out


def as_state(found: wallboard.Board) -> dict[str, Any]:
    """What a page keeps of a board (plain data, made once per board: every page shares it)."""
    if found.plain is None:
        queues, people = [asdict(q) for q in found.queues], [asdict(a) for a in found.agents]
        found.plain = {
            "at": found.at.timestamp(),
            "queues": queues,
            "agents": people,
            "sig": _signature(queues, people),
        }
    return found.plain


TICKING = ("longest_wait", "in_state", "call_seconds")  # what changes by itself: the browser counts it


def _signature(*parts: list[dict[str, Any]]) -> str:
    """What a board says apart from the times that tick: equal signatures need no new render."""
    plain = [[{k: v for k, v in row.items() if k not in TICKING} for row in part] for part in parts]
    return hashlib.sha1(repr(plain).encode()).hexdigest()


class WallboardState(SessionState):
    access: ClassVar[str] = Access.SUPERVISOR

    board: dict[str, Any] = {}
    version: int = 0  # a new board (the tickers restart from its seconds)
    large: bool = False  # large type, for a TV
    _live_id: str = ""  # the page's live task (backend only: nothing to send)

    @rx.event
    async def load(self):
        self.large = self.router.page.params.get("large", "") in ("1", "true")
        self._assign(await wallboard.boards().latest(time.time()))
        return WallboardState.live

    @rx.event
    def toggle_large(self):
        self.large = not self.large

    def _assign(self, found: wallboard.Board) -> None:
        new = as_state(found)
        if self.board.get("sig") == new["sig"]:
            return  # nothing new: the times shown tick on from the board the page has
        self.board = new
        self.version += 1

    @rx.event(background=True)
    async def live(self):
        """Follow the changes until this page goes away (or a newer task for it starts)."""
        async with self:
            task_id = self._live_id = uuid.uuid4().hex
            token = self.router.session.client_token
        boards = wallboard.boards()
        gone_since: float | None = None
        async with get_bus().subscribe(*wallboard.TOPICS) as sub:
            # A change between the page's load and this subscription: take a board read from now on.
            found = await boards.latest(time.time())
            async with self:
                if self._live_id != task_id:
                    return
                self._assign(found)
            next_reload = time.monotonic() + RECONCILE_SECONDS
            while True:
                item = await sub.get(timeout=5)
                if item is not None and item.topic == STOPPING:
                    return
                if not await connected(token):
                    gone_since = gone_since or time.monotonic()
                    if time.monotonic() - gone_since > GRACE_SECONDS:
                        return
                    continue
                gone_since = None
                if item is None and time.monotonic() < next_reload:
                    continue
                next_reload = time.monotonic() + RECONCILE_SECONDS
                # every page that heard this change asks for a board read after it: one read for all
                found = await boards.latest(item.published_at if item is not None else time.time())
                async with self:
                    if self._live_id != task_id:
                        return
                    self._assign(found)

    # Texts in the page's language ---------------------------------------------------------------------
    @rx.var
    def queue_tiles(self) -> list[dict[str, Any]]:
        return queue_texts(self.board, self.lang, self.digits)

    @rx.var
    def agent_rows(self) -> list[dict[str, Any]]:
        return agent_texts(self.board, self.lang, self.digits)

    @rx.var
    def shown_digits(self) -> str:
        return locale.digits_of(self.lang, self.digits)

    @rx.var
    def waiting_total(self) -> str:
        total = sum(q["waiting"] for q in self.board.get("queues") or [])
        return locale.number(total, self.lang, self.digits)
