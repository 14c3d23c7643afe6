"""Queues as an admin sets them up: name, strategy, members, timeouts, opening hours and inbound numbers.

The dispatcher (services.queue) asks `config` for a queue's effective settings: what the admin set, else the
company's default (QUEUE_STRATEGY, QUEUE_RING_SECONDS, QUEUE_MAX_WAIT_SECONDS, QUEUE_ANNOUNCE_SECONDS,
WRAPUP_SECONDS). The "default" queue needs no row: with none it is exactly the company's defaults, every
agent a member, open around the clock. An incoming call waits in the queue its dialled number maps to
(`for_number`); a number mapped to no queue goes to "default".

Opening hours are one "HH:MM-HH:MM" range per weekday (Monday first) in TIMEZONE, "" for a day it is closed;
no hours at all means always open. A range that ends before it starts runs past midnight (22:00-06:00).
Outside them the caller hears the queue's closed message (or the standard one) and the call ends `no-answer`
for reason "closed": it lands on the callback list like any missed call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlmodel import Session, col, select

from call_center.core.config import Settings, get_settings
from call_center.models import Agent, CallQueue, QueueMember, QueueNumber
from call_center.services import numbers, routing
from call_center.services.errors import Conflict, InvalidInput, NotFound

DEFAULT = "default"
CLOSED_REASON = "queue.reason.closed"
DAYS = 7
# A queue's own timeouts and the company-wide settings they stand in for (whose bounds they share).
SETTING_OF = {
    "ring_seconds": "QUEUE_RING_SECONDS",
    "max_wait_seconds": "QUEUE_MAX_WAIT_SECONDS",
    "announce_seconds": "QUEUE_ANNOUNCE_SECONDS",
    "wrapup_seconds": "WRAPUP_SECONDS",
}


def _bounds(setting: str) -> tuple[int, int]:
    """(ge, le) of an integer setting, as declared on Settings."""
    found = {type(m).__name__: m for m in Settings.model_fields[setting].metadata}
    return int(found["Ge"].ge), int(found["Le"].le)


LIMITS = {name: _bounds(setting) for name, setting in SETTING_OF.items()}
_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Hours = tuple[tuple[time, time] | None, ...]  # per weekday, Monday first; None: closed that day


@dataclass(frozen=True)
class QueueConfig:
    """A queue's effective settings (what the admin set, else the company's defaults)."""

    code: str
    name_ar: str
    name_en: str
    strategy: str
    ring_seconds: int
    max_wait_seconds: int
    announce_seconds: int
    wrapup_seconds: int
    members: frozenset[int] | None  # None: every agent
    hours: Hours | None  # None: always open
    closed_message_ar: str = ""
    closed_message_en: str = ""

    def name(self, lang: str) -> str:
        return self.name_ar if lang == "ar" else self.name_en


# Opening hours --------------------------------------------------------------------------------------------
def parse_hours(days: list[str]) -> Hours:
    """Seven "HH:MM-HH:MM" (or "" for closed) strings, Monday first, or InvalidInput naming the day."""
    if len(days) != DAYS:
        raise InvalidInput("queues.error.hours", f"opening hours need {DAYS} days, got {len(days)}")
    parsed: list[tuple[time, time] | None] = []
    for index, text in enumerate(days):
        if not text.strip():
            parsed.append(None)
            continue
        match = _RANGE.match(text)
        if match is None:
            raise InvalidInput("queues.error.hours", f"day {index + 1}: {text!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if not (h1 < 24 and h2 <= 24 and m1 < 60 and m2 < 60) or (h2 == 24 and m2):
            raise InvalidInput("queues.error.hours", f"day {index + 1}: {text!r} is not a time of day")
        start, end = time(h1, m1), time(0, 0) if h2 == 24 else time(h2, m2)
        if start == end and h2 != 24:
            raise InvalidInput("queues.error.hours", f"day {index + 1}: {text!r} is empty")
        parsed.append((start, end))
    return tuple(parsed)


def hours_text(hours: Hours | None) -> list[str]:
    if hours is None:
        return [""] * DAYS
    return [
        "" if h is None else f"{h[0]:%H:%M}-{'24:00' if h[1] == time(0) else f'{h[1]:%H:%M}'}" for h in hours
    ]


def _stored_hours(text: str) -> Hours | None:
    return parse_hours(text.split(";")) if text.strip() else None


def is_open(hours: Hours | None, at: datetime, zone: ZoneInfo) -> bool:
    """Whether a queue with these hours takes calls at `at` (hours are wall-clock times in `zone`)."""
    if hours is None:
        return True
    local = at.astimezone(zone)
    now, today = local.time(), local.weekday()
    span = hours[today]
    if span is not None:
        start, end = span
        if end == time(0) or end <= start:  # until midnight, or on past it
            if now >= start:
                return True
        elif start <= now < end:
            return True
    before = hours[(today - 1) % DAYS]  # yesterday's range that runs past midnight
    if before is not None:
        start, end = before
        if end != time(0) and end <= start and now < end:
            return True
    return False


# Reading --------------------------------------------------------------------------------------------------
def _config(db: Session, row: CallQueue | None, code: str) -> QueueConfig:
    settings = get_settings()
    members = None
    if row is not None:
        ids = db.exec(select(QueueMember.agent_id).where(QueueMember.queue == code)).all()
        members = frozenset(ids) or None
    return QueueConfig(
        code=code,
        name_ar=row.name_ar if row is not None else "قائمة الانتظار العامة",
        name_en=row.name_en if row is not None else "General queue",
        strategy=(row.strategy if row is not None else None) or settings.QUEUE_STRATEGY,
        **{name: _or(row, name, getattr(settings, setting)) for name, setting in SETTING_OF.items()},
        members=members,
        hours=_stored_hours(row.hours) if row is not None else None,
        closed_message_ar=row.closed_message_ar if row is not None else "",
        closed_message_en=row.closed_message_en if row is not None else "",
    )


def _or(row: CallQueue | None, name: str, default: int) -> int:
    value = getattr(row, name) if row is not None else None
    return default if value is None else int(value)


def config(db: Session, code: str | None) -> QueueConfig:
    """The queue's effective settings; an unknown code (a queue since removed) reads as the default's."""
    code = code or DEFAULT
    row = db.get(CallQueue, code)
    if row is None and code != DEFAULT:
        code, row = DEFAULT, db.get(CallQueue, DEFAULT)
    return _config(db, row, code)


def names(db: Session, codes: set[str]) -> dict[str, tuple[str, str]]:
    """Each queue's (Arabic, English) name, for the history's rows; a queue since removed keeps its code."""
    rows: Iterable[CallQueue] = (
        db.exec(select(CallQueue).where(col(CallQueue.code).in_(codes))) if codes else []
    )
    found = {row.code: (row.name_ar, row.name_en) for row in rows}
    if DEFAULT in codes and DEFAULT not in found:
        default = _config(db, None, DEFAULT)
        found[DEFAULT] = (default.name_ar, default.name_en)
    return {code: found.get(code, (code, code)) for code in codes}


def codes(db: Session) -> set[str]:
    """Every queue's code, the default's included."""
    return {DEFAULT, *db.exec(select(CallQueue.code)).all()}


def all_configs(db: Session) -> list[QueueConfig]:
    """Every queue, the default first (whether or not it has a row)."""
    rows = {r.code: r for r in db.exec(select(CallQueue).order_by(col(CallQueue.created_at)))}
    result = [_config(db, rows.pop(DEFAULT, None), DEFAULT)]
    return result + [_config(db, row, code) for code, row in rows.items()]


def for_number(db: Session, number: str | None) -> str:
    """The queue an incoming call to `number` waits in."""
    if number:
        found = db.get(QueueNumber, number)
        if found is not None:
            return found.queue
    return DEFAULT


def numbers_of(db: Session, code: str) -> list[str]:
    return list(
        db.exec(select(QueueNumber.number).where(QueueNumber.queue == code).order_by(col(QueueNumber.number)))
    )


def inbound_numbers(db: Session) -> list[str]:
    """Every number mapped to a queue (the company number aside)."""
    return list(db.exec(select(QueueNumber.number).order_by(col(QueueNumber.number))))


def wrapup_seconds(db: Session, code: str | None) -> int:
    return config(db, code).wrapup_seconds if code else get_settings().WRAPUP_SECONDS


# Admin ----------------------------------------------------------------------------------------------------
@dataclass
class QueueForm:
    """What the admin's form sends (every field as typed; `save` checks them)."""

    name_ar: str
    name_en: str
    strategy: str = ""  # "": the company's default
    ring_seconds: str = ""
    max_wait_seconds: str = ""
    announce_seconds: str = ""
    wrapup_seconds: str = ""
    members: tuple[int, ...] = ()
    numbers: str = ""  # separated by commas (or semicolons, new lines)
    hours: tuple[str, ...] = ()  # seven ranges, or () for always open
    closed_message_ar: str = ""
    closed_message_en: str = ""


def _seconds(form: QueueForm, name: str) -> int | None:
    text = str(getattr(form, name)).strip()
    if not text:
        return None
    low, high = LIMITS[name]
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(f"queues.error.{name}", f"{name} must be a whole number from {low} to {high}")
    return int(text)


def _code_for(name_en: str) -> str:
    code = re.sub(r"[^a-z0-9]+", "-", name_en.strip().lower()).strip("-")[:40]
    if not _CODE.match(code):
        raise InvalidInput("queues.error.name", "an English name with letters or digits is required")
    return code


def _numbers(db: Session, text: str, code: str) -> list[str]:
    settings = get_settings()
    found: list[str] = []
    for raw in (part.strip() for part in re.split(r"[,;،\n]+", text)):
        if not raw:
            continue
        e164 = numbers.to_e164(raw, settings.DEFAULT_REGION)  # InvalidInput: dial.error.invalid
        taken = db.get(QueueNumber, e164)
        if taken is not None and taken.queue != code:
            raise Conflict("queues.error.number_taken", f"{e164} already goes to the queue {taken.queue!r}")
        if e164 not in found:
            found.append(e164)
    return found


def save(db: Session, form: QueueForm, code: str | None = None) -> CallQueue:
    """Create a queue (`code` None: from the English name) or change one ("default" included). Flushes."""
    name_ar, name_en = form.name_ar.strip()[:80], form.name_en.strip()[:80]
    if not name_ar or not name_en:
        raise InvalidInput("queues.error.name", "both the Arabic and the English name are required")
    strategy = form.strategy.strip() or None
    if strategy is not None and strategy not in routing.STRATEGIES:
        raise InvalidInput("queues.error.strategy", f"unknown strategy {strategy!r}")
    seconds = {name: _seconds(form, name) for name in LIMITS}
    hours = parse_hours(list(form.hours)) if any(h.strip() for h in form.hours) else None  # none: always open
    row: CallQueue | None
    if code is None:
        code = _code_for(name_en)
        if db.get(CallQueue, code) is not None or code == DEFAULT:
            raise Conflict("queues.error.exists", f"a queue {code!r} exists")
        row = CallQueue(code=code, name_ar=name_ar, name_en=name_en)
    else:
        row = db.get(CallQueue, code)
        if row is None:
            if code != DEFAULT:
                raise NotFound("error.not_found", f"no queue {code!r}")
            row = CallQueue(code=DEFAULT, name_ar=name_ar, name_en=name_en)
    members = sorted(set(form.members))
    known = set(db.exec(select(Agent.id).where(col(Agent.id).in_(members))).all()) if members else set()
    if len(known) != len(members):
        raise InvalidInput("queues.error.members", "a member is not an agent")
    wanted = _numbers(db, form.numbers, code)
    row.name_ar, row.name_en, row.strategy = name_ar, name_en, strategy
    for name, value in seconds.items():
        setattr(row, name, value)
    row.hours = ";".join(hours_text(hours)) if hours is not None else ""
    row.closed_message_ar = form.closed_message_ar.strip()[:300]
    row.closed_message_en = form.closed_message_en.strip()[:300]
    db.add(row)
    db.flush()
    db.execute(delete(QueueMember).where(col(QueueMember.queue) == code))
    db.execute(delete(QueueNumber).where(col(QueueNumber.queue) == code))
    db.flush()
    for agent_id in members:
        db.add(QueueMember(queue=code, agent_id=agent_id))
    for number in wanted:
        db.add(QueueNumber(number=number, queue=code))
    db.flush()
    return row


def remove(db: Session, code: str) -> None:
    """Remove a queue (not the default): its numbers go back to the default queue; calls keep its code,
    and any still waiting in it are served by the default queue's rules. Flushes."""
    if code == DEFAULT:
        raise InvalidInput("queues.error.default", "the default queue cannot be removed")
    row = db.get(CallQueue, code)
    if row is None:
        raise NotFound("error.not_found", f"no queue {code!r}")
    db.execute(delete(QueueMember).where(col(QueueMember.queue) == code))
    db.execute(delete(QueueNumber).where(col(QueueNumber.queue) == code))
    db.delete(row)
    db.flush()
