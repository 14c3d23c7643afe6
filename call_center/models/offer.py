"""Which agents a call was offered to (rang on their phone), and how each offer ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from call_center.models.base import created_field, time_field


class OfferOutcome:
    RINGING = "ringing"
    ANSWERED = "answered"  # this agent took the call
    TAKEN = "taken"  # another agent took it first
    DECLINED = "declined"  # this agent declined it
    MISSED = "missed"  # it stopped ringing for this agent without an answer (timeout, caller hung up)
    ALL = (RINGING, ANSWERED, TAKEN, DECLINED, MISSED)


class CallOffer(SQLModel, table=True):
    """One ring of one agent's phone for one call. An agent may act on a call only if it is theirs or
    was offered to them; reports count missed offers from here."""

    __tablename__ = "call_offer"
    __table_args__ = (
        Index("ix_call_offer_call_agent", "call_id", "agent_id"),
        Index("ix_call_offer_agent_offered", "agent_id", "offered_at"),
        {"extend_existing": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", ondelete="CASCADE")
    agent_id: int = Field(foreign_key="agent.id", ondelete="CASCADE")
    offered_at: datetime = created_field()
    ended_at: datetime | None = time_field()
    outcome: str = Field(default=OfferOutcome.RINGING, max_length=16)
    leg: str | None = Field(default=None, max_length=64)  # the provider's leg ringing (Twilio call SID)
