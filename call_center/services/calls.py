"""One call state machine for both providers.

Every provider event goes through `apply_event`: the raw event is stored first (nothing is lost and
duplicates are detected by a unique key), then the call's state is recomputed from *all* its stored events.
Because the state is a function of the set of events, applying is idempotent (the same event twice changes
nothing) and order-independent (a late `ringing` never undoes `completed`; the first terminal status wins by
a fixed precedence, not by arrival).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from call_center.core.db import dialect_insert
from call_center.models import Agent, Call, CallEvent, CallStatus, Contact
from call_center.models.base import utcnow
from call_center.services import history, queues
from call_center.services.events import queue_event

logger = logging.getLogger(__name__)

# Which leg's terminal status describes the call: the customer's first, then call-level facts (our own
# decisions, e.g. a refused number), then the agent's browser leg.
LEG_PRIORITY = {"customer": 0, None: 1, "agent": 2}
TERMINAL_PRECEDENCE = {
    CallStatus.FAILED: 0,
    CallStatus.BUSY: 1,
    CallStatus.NO_ANSWER: 2,
    CallStatus.CANCELED: 3,
    CallStatus.COMPLETED: 4,
}
# An event may name the leg that ended the call instead of who it was (hangup_by="leg:<sid>", reason
# BY_LEG_REASON): the fold says "customer" or "agent" once it knows the call's legs.
BY_LEG = "leg:"
BY_LEG_REASON = "reason.hangup_by_leg"
# Twilio's and our own vocabulary, mapped onto CallStatus.
STATUS_ALIASES = {"answered": CallStatus.IN_PROGRESS, "in_progress": CallStatus.IN_PROGRESS}


@dataclass(frozen=True)
class ProviderEvent:
    """A call lifecycle fact reported by a provider (a Twilio callback, a local media server event)."""

    provider: str
    call_sid: str
    status: str
    leg: str | None = None  # "customer", "agent" or None (the call as a whole)
    at: datetime | None = None
    sequence: int | None = None
    duration: int | None = None
    reason: str | None = None
    hangup_by: str | None = None
    child_call_sid: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    dedupe: str | None = None

    def key(self) -> str:
        basis = self.dedupe or json.dumps(
            {"raw": self.raw, "status": self.status, "leg": self.leg, "seq": self.sequence},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(f"{self.provider}|{self.call_sid}|status|{basis}".encode()).hexdigest()


@dataclass(frozen=True)
class ApplyResult:
    call: Call | None
    changed: bool
    duplicate: bool


def normalise_status(status: str) -> str:
    status = (status or "").strip().lower()
    status = STATUS_ALIASES.get(status, status)
    if status not in CallStatus.ALL:
        raise ValueError(f"unknown call status {status!r}")
    return status


def contact_for(db: Session, number: str) -> Contact | None:
    return db.exec(select(Contact).where(Contact.phone == number)).first()


def find_call(db: Session, provider: str, sid: str | None, *, lock: bool = False) -> Call | None:
    """The call with this provider call id (parent or child leg).

    Two indexed lookups: one query with `parent = ? OR child = ?` makes SQLite scan the whole table.
    """
    if not sid:
        return None
    for column in (Call.provider_call_sid, Call.child_call_sid):
        query = select(Call).where(Call.provider == provider, col(column) == sid)
        found = db.exec(query.with_for_update() if lock else query).first()
        if found is not None:
            return found
    return None


def create_call(
    db: Session,
    *,
    provider: str,
    call_sid: str,
    direction: str,
    from_number: str,
    to_number: str,
    customer_number: str,
    agent_id: int | None = None,
    status: str = CallStatus.INITIATED,
) -> Call:
    """A new call; events that arrived before it (orphans) are applied at once. Flushes, does not commit."""
    contact = contact_for(db, customer_number)
    call = Call(
        provider=provider,
        provider_call_sid=call_sid,
        direction=direction,
        from_number=from_number,
        to_number=to_number,
        customer_number=customer_number,
        agent_id=agent_id,
        contact_id=contact.id if contact else None,
        status=status,
    )
    db.add(call)
    db.flush()
    orphans = db.exec(
        select(CallEvent).where(
            CallEvent.provider == provider,
            CallEvent.provider_call_sid == call_sid,
            col(CallEvent.call_id).is_(None),
        )
    ).all()
    for orphan in orphans:
        orphan.call_id = call.id
        db.add(orphan)
    if orphans:
        db.flush()
        _refold(db, call)
    publish_call(db, call)
    logger.info("call %s created (%s %s, sid %s)", call.id, provider, direction, call_sid)
    return call


def apply_event(db: Session, event: ProviderEvent) -> ApplyResult:
    """Store the raw event, then recompute the call from all its events. Commits.

    The event's insert opens the write transaction (SQLite takes its write lock there; on PostgreSQL the
    call row is locked first), and the call is refolded from what is committed inside it, so two
    concurrent events of one call never both fold from a stale view. An event whose call was not found
    before the insert is looked up once more inside that transaction before it is kept as an orphan.
    """
    status = normalise_status(event.status)
    db.commit()  # start from a fresh transaction (no stale snapshot)
    call = find_call(db, event.provider, event.call_sid, lock=True)
    values = {
        "call_id": call.id if call else None,
        "provider": event.provider,
        "provider_call_sid": event.call_sid,
        "kind": "status",
        "status": status,
        "sequence": event.sequence,
        "dedupe_key": event.key(),
        "payload": json.dumps(_payload(event, status), default=str),
        "received_at": utcnow(),
    }
    if not insert_event(db, values):
        db.commit()
        logger.info("duplicate %s event for %s ignored", event.provider, event.call_sid)
        return ApplyResult(call, changed=False, duplicate=True)
    if call is None:
        # Looked up again now that the insert holds the write lock (SQLite takes it at the first write): a
        # create_call that committed in between has already scanned for orphans and would miss this one.
        call = find_call(db, event.provider, event.call_sid, lock=True)
        if call is not None:
            db.execute(
                update(CallEvent)
                .where(col(CallEvent.dedupe_key) == values["dedupe_key"])
                .values(call_id=call.id)
            )
    if call is None:
        db.commit()  # kept as an orphan; create_call applies it
        logger.info("%s event for unknown call %s stored for later", event.provider, event.call_sid)
        return ApplyResult(None, changed=False, duplicate=False)
    if event.child_call_sid and not call.child_call_sid:
        call.child_call_sid = event.child_call_sid
        db.add(call)
    changed = _refold(db, call)
    if changed:
        publish_call(db, call)
    db.commit()
    return ApplyResult(call, changed=changed, duplicate=False)


def insert_event(db: Session, values: dict[str, Any]) -> bool:
    """Store a raw provider event unless its dedupe key is known (one statement, no savepoint, the rest of
    the transaction untouched); True if inserted."""
    table = CallEvent.__table__  # type: ignore[attr-defined]
    statement = (
        dialect_insert(db, table).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    return db.execute(statement.returning(table.c.id)).first() is not None


def _payload(event: ProviderEvent, status: str) -> dict[str, Any]:
    return {
        "status": status,
        "leg": event.leg,
        "at": event.at.isoformat() if event.at else None,
        "duration": event.duration,
        "reason": event.reason,
        "hangup_by": event.hangup_by,
        "raw": event.raw,
    }


@dataclass(frozen=True)
class _Fact:
    status: str
    leg: str | None
    at: datetime
    duration: int | None
    reason: str | None
    hangup_by: str | None
    key: str


def _facts(rows: Iterable[CallEvent]) -> list[_Fact]:
    facts = []
    for row in rows:
        body = json.loads(row.payload or "{}")
        at = datetime.fromisoformat(body["at"]) if body.get("at") else row.received_at
        facts.append(
            _Fact(
                status=row.status or "",
                leg=body.get("leg"),
                at=at,
                duration=body.get("duration"),
                reason=body.get("reason"),
                hangup_by=body.get("hangup_by"),
                key=row.dedupe_key,
            )
        )
    return facts


def _snapshot(call: Call) -> tuple[Any, ...]:
    return (
        call.status,
        call.ringing_at,
        call.answered_at,
        call.ended_at,
        call.duration_seconds,
        call.hangup_reason,
    )


def _refold(db: Session, call: Call) -> bool:
    """Recompute the call's state from its stored events; returns whether anything changed."""
    rows = db.exec(select(CallEvent).where(CallEvent.call_id == call.id, CallEvent.kind == "status")).all()
    facts = _facts(rows)
    if not facts:
        return False
    before = _snapshot(call)

    ringing = [f.at for f in facts if f.status == CallStatus.RINGING]
    answered = [f.at for f in facts if f.status == CallStatus.IN_PROGRESS]
    # An agent's leg ending is the call's end only while nobody answered: an answered call goes on after
    # its first agent left (a transfer); the customer's side or the room says when it ends.
    facts = [f for f in facts if not (f.leg == "agent" and f.status in CallStatus.TERMINAL and answered)]
    terminal = sorted(
        (f for f in facts if f.status in CallStatus.TERMINAL),
        key=lambda f: (LEG_PRIORITY.get(f.leg, 1), TERMINAL_PRECEDENCE[f.status], f.at, f.key),
    )
    call.ringing_at = min(ringing) if ringing else None
    call.answered_at = min(answered) if answered else None
    if terminal:
        chosen = terminal[0]
        status = chosen.status
        if chosen.leg != "customer" and status == CallStatus.COMPLETED and call.answered_at is None:
            status = CallStatus.CANCELED  # ended before anyone answered (the agent hung up, the room closed)
        call.status = status
        call.ended_at = max(f.at for f in terminal)
        # An agent leg's end only says why when it is what ended the call (nobody else's end came).
        telling = [f for f in terminal if f.leg != "agent" or chosen.leg == "agent"]
        by = next((f.hangup_by for f in telling if f.hangup_by), None)
        call.hangup_by = _who(call, by)
        reason = next((f.reason for f in telling if f.reason), None)
        call.hangup_reason = f"reason.hangup_{call.hangup_by}" if reason == BY_LEG_REASON else reason
        call.duration_seconds = _duration(call, terminal)
    else:
        call.status = max((f.status for f in facts), key=lambda s: CallStatus.RANK[s])
        call.ended_at = call.hangup_reason = call.hangup_by = call.duration_seconds = None
    if _snapshot(call) != before:
        call.updated_at = utcnow()
        db.add(call)
        db.flush()
        return True
    return False


def _who(call: Call, by: str | None) -> str | None:
    """Who hung up: as the event said, or, for BY_LEG ("leg:<sid>", a leg that ended the call), whether that
    leg is the customer's (known by the time the call is refolded, whatever order the events came in)."""
    if not by or not by.startswith(BY_LEG):
        return by
    leg = by[len(BY_LEG) :]
    customer = call.provider_call_sid if call.direction == "inbound" else call.child_call_sid
    return "customer" if leg == customer else "agent"


def _duration(call: Call, terminal: list[_Fact]) -> int:
    """Talk time in seconds: the provider's figure for the customer leg if it gave one, else our clocks."""
    reported = [f.duration for f in terminal if f.leg == "customer" and f.duration is not None]
    if reported:
        return max(reported)
    if call.answered_at is None or call.ended_at is None:
        return 0
    return max(0, round((call.ended_at - call.answered_at).total_seconds()))


def note(db: Session, call: Call, what: str, **fields: Any) -> None:
    """Add a step to the call's timeline (hold, resume, a transfer's steps) with who did it. Flushes.

    Notes are call events of kind "note": stored with the provider's events, never folded into the
    call's status."""
    payload = {"what": what, "at": utcnow().isoformat(), **fields}
    insert_event(
        db,
        {
            "call_id": call.id,
            "provider": call.provider,
            "provider_call_sid": call.provider_call_sid,
            "kind": "note",
            "status": what[:32],
            "dedupe_key": hashlib.sha256(f"note|{call.id}|{uuid.uuid4()}".encode()).hexdigest(),
            "payload": json.dumps(payload, default=str),
            "received_at": utcnow(),
        },
    )
    db.flush()


def timeline(db: Session, call_id: int) -> list[dict[str, Any]]:
    """What happened to the call, oldest first: {"what", "at", ...fields}. Its notes (hold, resume,
    transfer steps), and for an inbound call its stay in the queue (queued, then abandoned / timeout /
    no-agents) and each ring of an agent (rang, then answered / missed / declined / taken)."""
    from call_center.models import CallOffer, OfferOutcome, QueueEntry

    rows = db.exec(
        select(CallEvent)
        .where(CallEvent.call_id == call_id, CallEvent.kind == "note")
        .order_by(col(CallEvent.id))
    ).all()
    steps = []
    for row in rows:
        body = json.loads(row.payload or "{}")
        body["at"] = datetime.fromisoformat(body["at"]) if body.get("at") else row.received_at
        steps.append(body)
    entry = db.exec(select(QueueEntry).where(QueueEntry.call_id == call_id)).first()
    if entry is not None:
        steps.append({"what": "queued", "at": entry.entered_at})
        if entry.left_at is not None and entry.outcome != "answered":
            steps.append({"what": entry.outcome, "at": entry.left_at})
    for offer in db.exec(select(CallOffer).where(CallOffer.call_id == call_id).order_by(col(CallOffer.id))):
        steps.append({"what": "rang", "at": offer.offered_at, "agent_id": offer.agent_id})
        if offer.outcome != OfferOutcome.RINGING and offer.ended_at is not None:
            steps.append({"what": offer.outcome, "at": offer.ended_at, "agent_id": offer.agent_id})
    order = {"queued": 0, "rang": 1}
    return sorted(steps, key=lambda s: (s["at"], order.get(s["what"], 2)))


def claim_call(db: Session, call_id: int, agent_id: int) -> bool:
    """Give an unassigned (ringing inbound) call to this agent; False if someone else was first."""
    result = db.execute(
        update(Call)
        .where(col(Call.id) == call_id, col(Call.agent_id).is_(None))
        .values(agent_id=agent_id, updated_at=utcnow())
    )
    db.flush()
    return bool(getattr(result, "rowcount", 0))


def publish_call(db: Session, call: Call) -> None:
    """Queue a `call.updated` event with the call as the history shows it (sent after commit)."""
    agent_name = (
        db.exec(select(Agent.name).where(col(Agent.id) == call.agent_id)).first() if call.agent_id else None
    )
    contact_name = (
        db.exec(select(Contact.name).where(col(Contact.id) == call.contact_id)).first()
        if call.contact_id
        else None
    )
    chain = history.chains(db, [call.id]).get(call.id, []) if call.id else []
    named = queues.names(db, {call.queue}) if call.queue else {}
    public = history.to_public(call, agent_name, contact_name, chain, named.get(call.queue or ""))
    queue_event(db, "call.updated", public.model_dump(mode="json"))
