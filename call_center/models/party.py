"""Who took part in a call (agents, the customer, transfer targets, supervisors) and its transfers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from call_center.models.base import created_field, time_field


class PartyKind:
    AGENT = "agent"  # the agent who had the call first
    CUSTOMER = "customer"
    TARGET = "target"  # a transfer target (an agent or a number)
    SUPERVISOR = "supervisor"
    ALL = (AGENT, CUSTOMER, TARGET, SUPERVISOR)


class CallParty(SQLModel, table=True):
    """One party's time in a call: when their leg joined and left. A projection of the call's stored
    "party" events (services.parties.refold), so duplicates and late events change nothing. The history's
    chain of agents comes from here, and an agent sees the calls they took part in."""

    __tablename__ = "call_party"
    __table_args__ = (
        UniqueConstraint("call_id", "leg", name="uq_call_party_leg"),
        Index("ix_call_party_call", "call_id", "joined_at"),
        Index("ix_call_party_agent", "agent_id", "call_id"),
        {"extend_existing": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", ondelete="CASCADE")
    kind: str = Field(max_length=16)
    leg: str = Field(max_length=64)  # the provider's id for the leg (local leg name, Twilio call SID)
    agent_id: int | None = Field(default=None, foreign_key="agent.id", ondelete="SET NULL")
    number: str | None = Field(default=None, max_length=32)
    mode: str | None = Field(default=None, max_length=16)  # supervisors: listen / whisper / barge
    joined_at: datetime = created_field()
    left_at: datetime | None = time_field()


class TransferMode:
    COLD = "cold"
    WARM = "warm"
    ALL = (COLD, WARM)


class TransferState:
    RINGING = "ringing"  # the target is being rung; the customer hears the hold tone
    CONSULTING = "consulting"  # warm: the agent and the target talk, the customer is held
    CONFERENCE = "conference"  # warm: all three talk
    COMPLETED = "completed"
    CANCELED = "canceled"
    FAILED = "failed"  # the target did not answer, declined, or could not be reached
    ACTIVE = (RINGING, CONSULTING, CONFERENCE)
    ALL = (RINGING, CONSULTING, CONFERENCE, COMPLETED, CANCELED, FAILED)


class CallTransfer(SQLModel, table=True):
    __tablename__ = "call_transfer"
    __table_args__ = (Index("ix_call_transfer_call", "call_id", "started_at"), {"extend_existing": True})

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", ondelete="CASCADE")
    mode: str = Field(max_length=8)
    state: str = Field(default=TransferState.RINGING, max_length=16)
    from_agent_id: int | None = Field(default=None, foreign_key="agent.id", ondelete="SET NULL")
    to_agent_id: int | None = Field(default=None, foreign_key="agent.id", ondelete="SET NULL")
    to_number: str | None = Field(default=None, max_length=32)
    target_leg: str = Field(max_length=64)
    reason: str | None = Field(default=None, max_length=64)  # an i18n key (why it failed)
    started_at: datetime = created_field()
    answered_at: datetime | None = time_field()
    ended_at: datetime | None = time_field()
