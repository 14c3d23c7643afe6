"""Call history queries: newest first, paginated on the server, filtered, scoped to the viewer.

Every filter is answered from an index (see the Call table's indexes), so a page stays fast with millions of
calls: numbers are matched by prefix (a range on the index), names through the small contacts table, and
"has a recording" from the call's own copy of its latest recording's status. Counting every match of a huge
history is the slow part of a page, so counts stop at COUNT_CAP ("10,000+").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers
import sqlalchemy as sa
from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select

from call_center.core import tags
from call_center.core.config import get_settings
from call_center.models import (
    Agent,
    Call,
    CallParty,
    CallPublic,
    ChainStep,
    Contact,
    PartyKind,
    RecordingStatus,
    Role,
)
from call_center.services import queues

MAX_PAGE_SIZE = 200
COUNT_CAP = 10_000
NAME_MATCHES = 500  # contacts a name search may expand to


@dataclass(frozen=True)
class CallFilter:
    """What the history can be narrowed to; all optional."""

    agent_id: int | None = None
    mine_only: bool = False
    direction: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    has_recording: bool | None = None
    search: str | None = None
    call_sid: str | None = None
    call_id: int | None = None
    disposition: str | None = None
    tag: str | None = None


def _scoped(viewer: Agent, flt: CallFilter) -> CallFilter:
    """Agents see their own calls (theirs now, or ones they had before a transfer); admins see everyone's
    unless they ask for their own."""
    if viewer.role not in Role.SEES_EVERY_CALL or flt.mine_only:
        return CallFilter(**{**flt.__dict__, "agent_id": viewer.id})
    return flt


def number_prefix(term: str, region: str) -> str | None:
    """The E.164 prefix a typed (partial) number stands for: 0100 123 -> +20100123, +2010 -> +2010."""
    if any(ch.isalpha() for ch in term):
        return None  # words ("order 7781") are a name or notes, not a number
    text = "".join(ch for ch in term if ch.isdigit() or ch == "+")
    if text.startswith("00"):
        text = "+" + text[2:]
    digits = text.lstrip("+")
    if len(digits) < 3 or not digits.isdigit():
        return None
    if text.startswith("+"):
        return "+" + digits
    code = phonenumbers.country_code_for_region(region)
    prefix = phonenumbers.ndd_prefix_for_region(region, True) or ""
    national = digits[len(prefix) :] if prefix and digits.startswith(prefix) else digits
    return f"+{code}{national}"


def _search(db: Session, term: str) -> ColumnElement[bool]:
    options: list[ColumnElement[bool]] = []
    prefix = number_prefix(term, get_settings().DEFAULT_REGION)
    if prefix:
        # a range, not LIKE: both databases answer it from the customer_number index
        options.append(and_(col(Call.customer_number) >= prefix, col(Call.customer_number) < prefix + "\x7f"))
    elif term.isdigit():
        options.append(col(Call.customer_number) == term)  # short numbers such as the echo line
    names = db.exec(select(Contact.id).where(col(Contact.name).ilike(f"%{term}%")).limit(NAME_MATCHES)).all()
    if names:
        options.append(col(Call.contact_id).in_(list(names)))
    if not prefix:
        # the wrap-up notes: a scan of the rows the other filters leave (narrow by date on a big history)
        options.append(col(Call.notes).ilike(f"%{term}%"))
    return or_(*options) if options else col(Call.id) < 0


def with_call_sid(db: Session, sid: str) -> ColumnElement[bool]:
    """Calls with this provider call id on either leg, found by two indexed lookups first (`parent = ? OR
    child = ?` in one query makes SQLite scan the whole table, see services.calls.find_call)."""
    ids = [
        found
        for column in (Call.provider_call_sid, Call.child_call_sid)
        for found in db.exec(select(Call.id).where(col(column) == sid)).all()
    ]
    return col(Call.id).in_(ids)


def of_agent(agent_id: int) -> ColumnElement[bool]:
    """An agent's calls: theirs now, or ones they took part in (a call transferred away stays theirs)."""
    took_part = select(CallParty.call_id).where(col(CallParty.agent_id) == agent_id)
    return or_(col(Call.agent_id) == agent_id, col(Call.id).in_(took_part))


def chains(db: Session, call_ids: list[int]) -> dict[int, list[ChainStep]]:
    """Who had the customer in each call, in order (agents and transfer numbers, with their times)."""
    if not call_ids:
        return {}
    query = (
        select(CallParty, Agent.name)
        .outerjoin(Agent, col(Agent.id) == col(CallParty.agent_id))
        .where(
            col(CallParty.call_id).in_(call_ids),
            col(CallParty.kind).in_((PartyKind.AGENT, PartyKind.TARGET)),
        )
        .order_by(col(CallParty.joined_at), col(CallParty.id))
    )
    found: dict[int, list[ChainStep]] = {}
    for party, name in db.exec(query):
        step = ChainStep(
            agent_id=party.agent_id, name=name or party.number or "", joined_at=party.joined_at,
            left_at=party.left_at,
        )  # fmt: skip
        found.setdefault(party.call_id, []).append(step)
    return found


def _conditions(db: Session, flt: CallFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if flt.agent_id is not None:
        conditions.append(of_agent(flt.agent_id))
    if flt.direction:
        conditions.append(col(Call.direction) == flt.direction)
    if flt.status:
        conditions.append(col(Call.status) == flt.status)
    if flt.since is not None:
        conditions.append(col(Call.created_at) >= flt.since)
    if flt.until is not None:
        conditions.append(col(Call.created_at) < flt.until)
    if flt.call_sid:
        conditions.append(with_call_sid(db, flt.call_sid))
    if flt.call_id is not None:
        conditions.append(col(Call.id) == flt.call_id)
    if flt.has_recording is True:
        conditions.append(col(Call.recording_status) == RecordingStatus.READY)
    elif flt.has_recording is False:
        conditions.append(
            or_(col(Call.recording_status).is_(None), col(Call.recording_status) != RecordingStatus.READY)
        )
    if flt.disposition:
        conditions.append(col(Call.disposition) == flt.disposition)
    if flt.tag:
        conditions.append(col(Call.tags).like(f"%,{tags.normalise_one(flt.tag)},%"))
    if flt.search and flt.search.strip():
        conditions.append(_search(db, flt.search.strip()))
    return conditions


def matches(flt: CallFilter, call: CallPublic) -> bool:
    """`_conditions` for one call already in memory (a live update): the same rules, so a page that adds a
    call as it happens shows what its next reload will show."""
    if flt.search and flt.search.strip():
        term = flt.search.strip()
        prefix = number_prefix(term, get_settings().DEFAULT_REGION)
        found = (
            (prefix is not None and call.customer_number.startswith(prefix))
            or (prefix is None and term.isdigit() and call.customer_number == term)
            or term.lower() in (call.customer_name or "").lower()
            or (prefix is None and term.lower() in (call.notes or "").lower())
        )
    else:
        found = True
    return (
        found
        and (
            flt.agent_id is None
            or call.agent_id == flt.agent_id
            or any(step.agent_id == flt.agent_id for step in call.chain)
        )
        and (not flt.direction or call.direction == flt.direction)
        and (not flt.status or call.status == flt.status)
        and (not flt.disposition or call.disposition == flt.disposition)
        and (not flt.tag or tags.normalise_one(flt.tag) in call.tags)
        and (flt.since is None or call.created_at >= flt.since)
        and (flt.until is None or call.created_at < flt.until)
        and (
            flt.has_recording is None or (call.recording_status == RecordingStatus.READY) == flt.has_recording
        )
    )


def count_calls(db: Session, conditions: list[ColumnElement[bool]]) -> int:
    """How many calls match, up to COUNT_CAP."""
    capped = select(Call.id).where(*conditions).limit(COUNT_CAP).subquery()
    return int(db.exec(select(func.count()).select_from(capped)).one())


def _listing(conditions: list[ColumnElement[bool]]) -> Any:
    """(call, agent's name, contact's name) of the matching calls, newest first."""
    return (
        select(Call, Agent.name, Contact.name)
        .outerjoin(Agent, col(Call.agent_id) == Agent.id)
        .outerjoin(Contact, col(Call.contact_id) == Contact.id)
        .where(*conditions)
        .order_by(col(Call.created_at).desc(), col(Call.id).desc())
    )


def iter_calls(
    db: Session, viewer: Agent, flt: CallFilter, batch: int = 2000, columns: Sequence[Any] | None = None
) -> Iterator[Any]:
    """Every call the viewer may see that matches, newest first, read in keyset batches (created_at, id):
    no offset, and the session keeps nothing of the batches already handed out (exports).

    Rows are (call, agent's name, contact's name); with `columns` (Call's, among them id and created_at)
    they are plain rows of those columns plus `agent_name` and `contact_name`, without ORM objects: several
    times faster for a million rows."""
    conditions = _conditions(db, _scoped(viewer, flt))
    after: tuple[datetime, int] | None = None
    while True:
        if columns is None:
            query = _listing(conditions)
        else:
            query = (
                sa.select(*(col(c) for c in columns), col(Agent.name).label("agent_name"),
                          col(Contact.name).label("contact_name"))
                .outerjoin(Agent, col(Call.agent_id) == Agent.id)
                .outerjoin(Contact, col(Call.contact_id) == Contact.id)
                .where(*conditions)
                .order_by(col(Call.created_at).desc(), col(Call.id).desc())
            )  # fmt: skip
        if after is not None:
            at, last_id = after
            # A row-value comparison: both databases seek the (created_at, id) index to it. The same test
            # written with OR made SQLite scan the index from the newest call on every batch (quadratic).
            query = query.where(sa.tuple_(col(Call.created_at), col(Call.id)) < (at, last_id))
        # Column rows go through the Core connection: the ORM's row loading doubled their cost.
        rows: Sequence[Any]
        if columns is None:
            rows = db.exec(query.limit(batch)).all()
        else:
            rows = db.connection().execute(query.limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1][0] if columns is None else rows[-1]
        after = (last.created_at, last.id or 0)
        db.expunge_all()


def list_calls(
    db: Session, viewer: Agent, flt: CallFilter | None = None, *, page: int = 1, page_size: int = 25
) -> tuple[list[CallPublic], int]:
    """One page of calls the viewer may see, and how many match (at most COUNT_CAP)."""
    flt = _scoped(viewer, flt or CallFilter())
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    conditions = _conditions(db, flt)
    total = count_calls(db, conditions)
    rows = db.exec(_listing(conditions).offset((page - 1) * page_size).limit(page_size)).all()
    found = chains(db, [call.id for call, _, _ in rows if call.id])
    named = queues.names(db, {call.queue for call, _, _ in rows if call.queue})
    calls = [
        to_public(call, agent, contact, found.get(call.id or 0, []), named.get(call.queue or ""))
        for call, agent, contact in rows
    ]
    return calls, total


def to_public(
    call: Call,
    agent_name: str | None,
    contact_name: str | None,
    chain: list[ChainStep] | None = None,
    queue_name: tuple[str, str] | None = None,
) -> CallPublic:
    """The call as the history shows it; `queue_name`: its queue's (Arabic, English) name (queues.names)."""
    return CallPublic(
        id=call.id or 0,
        provider=call.provider,
        call_sid=call.provider_call_sid,
        direction=call.direction,
        from_number=call.from_number,
        to_number=call.to_number,
        customer_number=call.customer_number,
        customer_name=contact_name,
        agent_id=call.agent_id,
        agent_name=agent_name,
        status=call.status,
        created_at=call.created_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        duration_seconds=call.duration_seconds,
        hangup_reason=call.hangup_reason,
        hangup_by=call.hangup_by,
        recording_id=call.recording_id,
        recording_status=call.recording_status,
        chain=chain or [],
        disposition=call.disposition,
        notes=call.notes,
        tags=tags.parse(call.tags),
        queue_outcome=call.queue_outcome,
        wait_seconds=call.wait_seconds,
        queue=call.queue,
        queue_name_ar=queue_name[0] if queue_name else call.queue,
        queue_name_en=queue_name[1] if queue_name else call.queue,
    )


def get_call(db: Session, viewer: Agent, call_id: int) -> CallPublic | None:
    """One call, if the viewer may see it."""
    found, _ = list_calls(db, viewer, CallFilter(call_id=call_id), page_size=1)
    return found[0] if found else None
