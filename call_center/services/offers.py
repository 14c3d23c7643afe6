"""Offers: which agents a call rang, and how each ring ended (provider-agnostic).

An agent may answer or decline only a call offered to them, and act on a call (hang up, hold, keypad) only
once it is theirs. The first to claim an offered call gets it; every other ringing phone is told it was
answered elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlmodel import Session, col, select

from call_center.models import CallOffer, OfferOutcome
from call_center.models.base import utcnow


def open_offers(db: Session, call_id: int, agent_ids: Iterable[int]) -> list[int]:
    """Record that these agents' phones ring for the call (again, if they rang before); flushes."""
    ids = list(dict.fromkeys(agent_ids))
    for agent_id in ids:
        db.add(CallOffer(call_id=call_id, agent_id=agent_id))
    db.flush()
    return ids


def is_offered(db: Session, call_id: int, agent_id: int) -> bool:
    """Whether the call is ringing for this agent now."""
    query = select(CallOffer.id).where(
        CallOffer.call_id == call_id,
        CallOffer.agent_id == agent_id,
        CallOffer.outcome == OfferOutcome.RINGING,
    )
    return db.exec(query).first() is not None


def latest_outcome(db: Session, call_id: int, agent_id: int) -> str | None:
    """How this agent's latest ring for the call stands (None: it never rang for them)."""
    query = (
        select(CallOffer.outcome)
        .where(CallOffer.call_id == call_id, CallOffer.agent_id == agent_id)
        .order_by(col(CallOffer.id).desc())
    )
    return db.exec(query).first()


def ringing_agents(db: Session, call_id: int) -> list[int]:
    query = select(CallOffer.agent_id).where(
        CallOffer.call_id == call_id, CallOffer.outcome == OfferOutcome.RINGING
    )
    return list(dict.fromkeys(db.exec(query)))


def ringing_calls(db: Session, agent_id: int) -> list[int]:
    """Calls ringing for this agent now."""
    query = select(CallOffer.call_id).where(
        CallOffer.agent_id == agent_id, CallOffer.outcome == OfferOutcome.RINGING
    )
    return list(dict.fromkeys(db.exec(query)))


def end_offer(db: Session, call_id: int, agent_id: int, outcome: str) -> None:
    """One agent's ring ends (declined, missed)."""
    _close(db, call_id, outcome, agent_id=agent_id)


def answered(db: Session, call_id: int, winner: int) -> list[int]:
    """The winner took the call: their offer is answered, everyone else's taken. The others (to tell)."""
    others = [a for a in ringing_agents(db, call_id) if a != winner]
    _close(db, call_id, OfferOutcome.ANSWERED, agent_id=winner)
    _close(db, call_id, OfferOutcome.TAKEN)
    return others


def ringing_with_legs(db: Session, call_id: int) -> dict[int, str | None]:
    """The agents whose phones ring for the call now, each with the leg that rings (if the provider has
    one to stop)."""
    query = select(CallOffer.agent_id, CallOffer.leg).where(
        CallOffer.call_id == call_id, CallOffer.outcome == OfferOutcome.RINGING
    )
    return {agent_id: leg for agent_id, leg in db.exec(query)}


def answered_with_legs(db: Session, call_id: int, winner: int) -> dict[int, str | None]:
    """Like `answered`; the other agents whose phones still rang, each with its leg."""
    rings = {a: leg for a, leg in ringing_with_legs(db, call_id).items() if a != winner}
    answered(db, call_id, winner)
    return rings


def set_leg(db: Session, call_id: int, agent_id: int, leg: str) -> None:
    """The provider's leg ringing this agent's phone for the call (Twilio: the participant's CallSid)."""
    db.execute(
        update(CallOffer)
        .where(
            col(CallOffer.call_id) == call_id,
            col(CallOffer.agent_id) == agent_id,
            col(CallOffer.outcome) == OfferOutcome.RINGING,
        )
        .values(leg=leg)
    )
    db.flush()


def leg_of(db: Session, call_id: int, agent_id: int) -> str | None:
    query = (
        select(CallOffer.leg)
        .where(CallOffer.call_id == call_id, CallOffer.agent_id == agent_id)
        .order_by(col(CallOffer.id).desc())
    )
    return db.exec(query).first()


def agent_for_leg(db: Session, call_id: int, leg: str) -> int | None:
    query = select(CallOffer.agent_id).where(CallOffer.call_id == call_id, CallOffer.leg == leg)
    return db.exec(query).first()


def call_ended(db: Session, call_id: int) -> list[int]:
    """The call ended while still ringing somewhere: those offers were missed. The agents (to tell)."""
    ringing = ringing_agents(db, call_id)
    _close(db, call_id, OfferOutcome.MISSED)
    return ringing


def _close(db: Session, call_id: int, outcome: str, *, agent_id: int | None = None) -> None:
    statement = update(CallOffer).where(
        col(CallOffer.call_id) == call_id, col(CallOffer.outcome) == OfferOutcome.RINGING
    )
    if agent_id is not None:
        statement = statement.where(col(CallOffer.agent_id) == agent_id)
    db.execute(statement.values(outcome=outcome, ended_at=utcnow()))
    db.flush()
