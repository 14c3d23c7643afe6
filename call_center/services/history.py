"""Call history queries: newest first, paginated on the server, filtered, scoped to the viewer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from call_center.models import Agent, Call, CallPublic, Contact, Recording, Role

MAX_PAGE_SIZE = 200


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


def _scoped(viewer: Agent, flt: CallFilter) -> CallFilter:
    """Agents see their own calls; admins see everyone's unless they ask for their own."""
    if viewer.role != Role.ADMIN or flt.mine_only:
        return CallFilter(**{**flt.__dict__, "agent_id": viewer.id})
    return flt


def list_calls(
    db: Session, viewer: Agent, flt: CallFilter | None = None, *, page: int = 1, page_size: int = 25
) -> tuple[list[CallPublic], int]:
    """One page of calls the viewer may see, and how many there are in all."""
    flt = _scoped(viewer, flt or CallFilter())
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)

    conditions: list[ColumnElement[bool]] = []
    if flt.agent_id is not None:
        conditions.append(col(Call.agent_id) == flt.agent_id)
    if flt.direction:
        conditions.append(col(Call.direction) == flt.direction)
    if flt.status:
        conditions.append(col(Call.status) == flt.status)
    if flt.since is not None:
        conditions.append(col(Call.created_at) >= flt.since)
    if flt.until is not None:
        conditions.append(col(Call.created_at) < flt.until)
    if flt.call_sid:
        conditions.append(
            or_(col(Call.provider_call_sid) == flt.call_sid, col(Call.child_call_sid) == flt.call_sid)
        )
    if flt.has_recording is not None:
        exists = select(Recording.id).where(col(Recording.call_id) == col(Call.id)).exists()
        conditions.append(exists if flt.has_recording else ~exists)
    if flt.search:
        term = flt.search.strip()
        digits = "".join(ch for ch in term if ch.isdigit())
        options: list[ColumnElement[bool]] = [col(Contact.name).ilike(f"%{term}%")]
        if digits:
            options.append(col(Call.customer_number).contains(digits))
        conditions.append(or_(*options))

    count_query = select(func.count()).select_from(Call)
    if flt.search:
        count_query = count_query.outerjoin(Contact, col(Call.contact_id) == Contact.id)
    total = int(db.exec(count_query.where(*conditions)).one())

    rows = db.exec(
        select(Call, Agent.name, Contact.name)
        .outerjoin(Agent, col(Call.agent_id) == Agent.id)
        .outerjoin(Contact, col(Call.contact_id) == Contact.id)
        .where(*conditions)
        .order_by(col(Call.created_at).desc(), col(Call.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    recordings = _latest_recordings(db, [call.id for call, _, _ in rows if call.id is not None])
    return [
        to_public(call, agent_name, contact_name, recordings.get(call.id))
        for call, agent_name, contact_name in rows
    ], total


def _latest_recordings(db: Session, call_ids: list[int]) -> dict[int | None, Recording]:
    if not call_ids:
        return {}
    found: dict[int | None, Recording] = {}
    for rec in db.exec(
        select(Recording).where(col(Recording.call_id).in_(call_ids)).order_by(col(Recording.id))
    ):
        found[rec.call_id] = rec
    return found


def to_public(
    call: Call, agent_name: str | None, contact_name: str | None, recording: Recording | None
) -> CallPublic:
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
        recording_id=recording.id if recording else None,
        recording_status=recording.status if recording else None,
    )
