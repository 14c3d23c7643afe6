"""Who is in a call now and who was, whichever provider carries it.

Providers report each party's leg as events (joined, left, lost, or not reached: no-answer, declined,
busy, failed, canceled). Like call statuses, every event is stored first (duplicates detected by a unique
key) and the parties are recomputed from *all* of a call's party events (`refold`), so applying is
idempotent and order-independent: a late "joined" after "left" still leaves the party out of the call.
CallParty rows are that projection; the history's chain and "calls I took part in" read them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlmodel import Session, col, select

from call_center.models import Agent, Call, CallEvent, CallParty, CallStatus, PartyKind
from call_center.models.base import utcnow
from call_center.services.calls import find_call, insert_event

logger = logging.getLogger(__name__)

JOINED = "joined"
GONE = frozenset({"left", "lost"})  # the leg was in the call and is not any more
UNREACHED = frozenset({"no-answer", "declined", "busy", "failed", "canceled"})  # it never joined
ALL = frozenset({JOINED, *GONE, *UNREACHED})


@dataclass(frozen=True)
class PartyEvent:
    """A party's leg changed (a Twilio participant callback, a local media server event)."""

    provider: str
    call_sid: str  # the call's id at the provider (the call, not the leg)
    leg: str  # the leg's id at the provider (Twilio participant CallSid, local leg name)
    status: str
    kind: str = PartyKind.TARGET
    agent_id: int | None = None
    number: str | None = None
    mode: str | None = None  # supervisors: listen / whisper / barge
    at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    dedupe: str | None = None

    def key(self) -> str:
        basis = self.dedupe or json.dumps(
            {"leg": self.leg, "status": self.status, "at": self.at, "raw": self.raw},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(f"{self.provider}|{self.call_sid}|party|{basis}".encode()).hexdigest()


def apply(db: Session, event: PartyEvent) -> tuple[Call | None, bool]:
    """Store a party event and recompute the call's parties. Commits. Returns (the call, whether the event
    was new); an event for a call we do not know is logged and dropped (conference events follow the
    TwiML or control request that created the call)."""
    if event.status not in ALL:
        raise ValueError(f"unknown party status {event.status!r}")
    db.commit()
    call = find_call(db, event.provider, event.call_sid, lock=True)
    if call is None:
        logger.warning("%s party event for unknown call %s dropped", event.provider, event.call_sid)
        return None, False
    payload = {
        "leg": event.leg,
        "kind": event.kind,
        "agent_id": event.agent_id,
        "number": event.number,
        "mode": event.mode,
        "at": (event.at or utcnow()).isoformat(),
        "raw": event.raw,
    }
    inserted = insert_event(
        db,
        {
            "call_id": call.id,
            "provider": event.provider,
            "provider_call_sid": event.call_sid,
            "kind": "party",
            "status": event.status,
            "dedupe_key": event.key(),
            "payload": json.dumps(payload, default=str),
            "received_at": utcnow(),
        },
    )
    if inserted:
        refold(db, call)
    db.commit()
    return call, inserted


@dataclass
class _Leg:
    kind: str
    agent_id: int | None
    number: str | None
    mode: str | None
    joined: datetime | None = None
    gone: datetime | None = None
    unreached: str | None = None


def _legs(db: Session, call: Call) -> dict[str, _Leg]:
    rows = db.exec(
        select(CallEvent)
        .where(CallEvent.call_id == call.id, CallEvent.kind == "party")
        .order_by(col(CallEvent.id))
    ).all()
    events = []
    for row in rows:
        body = json.loads(row.payload or "{}")
        events.append((datetime.fromisoformat(body["at"]), row.dedupe_key, row.status or "", body))
    legs: dict[str, _Leg] = {}
    for at, _key, status, body in sorted(events, key=lambda e: (e[0], e[1])):
        leg = legs.setdefault(
            body["leg"], _Leg(body.get("kind") or PartyKind.TARGET, body.get("agent_id"), body.get("number"),
                              body.get("mode"))
        )  # fmt: skip
        leg.agent_id = leg.agent_id or body.get("agent_id")
        leg.number = leg.number or body.get("number")
        leg.mode = leg.mode or body.get("mode")
        if status == JOINED:
            leg.joined = min(leg.joined, at) if leg.joined else at
        elif status in GONE:
            leg.gone = max(leg.gone, at) if leg.gone else at
        elif status in UNREACHED:
            leg.unreached = leg.unreached or status
    return legs


def refold(db: Session, call: Call) -> None:
    """Recompute the call's CallParty rows from its party events (and its end: nobody stays in an ended
    call). Flushes."""
    legs = _legs(db, call)
    existing = {p.leg: p for p in db.exec(select(CallParty).where(CallParty.call_id == call.id))}
    ended = call.status in CallStatus.TERMINAL
    for name, leg in legs.items():
        if leg.joined is None:
            continue  # it rang and never joined (or its join has not arrived yet)
        left = max(leg.gone, leg.joined) if leg.gone else None
        if left is None and ended:
            left = max(call.ended_at or leg.joined, leg.joined)
        party = existing.get(name) or CallParty(call_id=call.id or 0, kind=leg.kind, leg=name)
        party.kind, party.agent_id, party.number = leg.kind, leg.agent_id, leg.number
        party.mode = party.mode or leg.mode  # a supervisor's later switch (services.monitoring) stands
        party.joined_at, party.left_at = leg.joined, left
        db.add(party)
    db.flush()


def outcome(db: Session, call: Call, leg: str) -> str | None:
    """How a leg stands: "joined", "left" (joined then gone), an unreached status, or None (no news)."""
    info = _legs(db, call).get(leg)
    if info is None:
        return None
    if info.joined is not None:
        return "left" if info.gone is not None else JOINED
    return info.unreached


def present(db: Session, call: Call, leg: str) -> CallParty | None:
    query = select(CallParty).where(
        CallParty.call_id == call.id, CallParty.leg == leg, col(CallParty.left_at).is_(None)
    )
    return db.exec(query).first()


def in_call(db: Session, call: Call) -> list[CallParty]:
    query = (
        select(CallParty)
        .where(CallParty.call_id == call.id, col(CallParty.left_at).is_(None))
        .order_by(col(CallParty.joined_at))
    )
    return list(db.exec(query))


def agents_in_call(db: Session, call: Call) -> list[int]:
    """The agents in the call now (its supervisors monitoring it are not: services.monitoring)."""
    return [
        p.agent_id for p in in_call(db, call) if p.agent_id is not None and p.kind != PartyKind.SUPERVISOR
    ]


def agent_leg(db: Session, call: Call, agent_id: int) -> str | None:
    """The leg of an agent who is in the call now."""
    query = select(CallParty.leg).where(
        CallParty.call_id == call.id, CallParty.agent_id == agent_id, col(CallParty.left_at).is_(None)
    )
    return db.exec(query).first()


def customer_leg(db: Session, call: Call) -> str | None:
    query = select(CallParty.leg).where(
        CallParty.call_id == call.id, CallParty.kind == PartyKind.CUSTOMER, col(CallParty.left_at).is_(None)
    )
    return db.exec(query).first()


def chain(db: Session, call_id: int) -> list[dict[str, Any]]:
    """The agents (and transfer numbers) who had the customer, in order, with their times."""
    query = (
        select(CallParty, Agent.name)
        .outerjoin(Agent, col(Agent.id) == col(CallParty.agent_id))
        .where(CallParty.call_id == call_id, col(CallParty.kind).in_((PartyKind.AGENT, PartyKind.TARGET)))
        .order_by(col(CallParty.joined_at), col(CallParty.id))
    )
    return [
        {
            "agent_id": party.agent_id,
            "name": name or party.number or "",
            "number": party.number,
            "joined_at": party.joined_at,
            "left_at": party.left_at,
        }
        for party, name in db.exec(query)
    ]


def took_part(agent_id: int) -> Select[Any]:
    """The ids of the calls an agent was a party of (for "my calls": a transferred call is the target's
    and stays the first agent's)."""
    return select(CallParty.call_id).where(CallParty.agent_id == agent_id)


def live_calls_of(agent_id: int) -> Select[Any]:
    """The ids of the calls an agent is in now (not those they monitor)."""
    return select(CallParty.call_id).where(
        CallParty.agent_id == agent_id,
        col(CallParty.left_at).is_(None),
        CallParty.kind != PartyKind.SUPERVISOR,
    )
