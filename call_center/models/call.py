"""Calls and the raw provider events they are built from."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from call_center.models.base import created_field, time_field


class CallStatus:
    """Twilio's call statuses, shared by both providers."""

    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"

    TERMINAL = frozenset({COMPLETED, BUSY, NO_ANSWER, FAILED, CANCELED})
    UNREACHED = TERMINAL - {COMPLETED}  # a leg that ended without being answered
    ALL = (QUEUED, INITIATED, RINGING, IN_PROGRESS, COMPLETED, BUSY, NO_ANSWER, FAILED, CANCELED)
    RANK = {QUEUED: 0, INITIATED: 1, RINGING: 2, IN_PROGRESS: 3} | dict.fromkeys(TERMINAL, 4)


class Direction:
    OUTBOUND = "outbound"
    INBOUND = "inbound"
    ALL = (OUTBOUND, INBOUND)


class Call(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("provider", "provider_call_sid", name="uq_call_provider_sid"),
        Index("ix_call_created", "created_at", "id"),
        Index("ix_call_agent_created", "agent_id", "created_at"),
        Index("ix_call_status_created", "status", "created_at"),
        Index("ix_call_customer_number", "customer_number"),
        Index("ix_call_contact_created", "contact_id", "created_at"),
        Index("ix_call_recording_created", "recording_status", "created_at"),
        Index("ix_call_disposition_created", "disposition", "created_at"),
        {"extend_existing": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=16)
    provider_call_sid: str | None = Field(default=None, max_length=64)
    child_call_sid: str | None = Field(default=None, max_length=64, index=True)
    conference_sid: str | None = Field(default=None, max_length=64)  # Twilio: the call's conference
    direction: str = Field(max_length=8)
    from_number: str = Field(max_length=32)
    to_number: str = Field(max_length=32)
    customer_number: str = Field(max_length=32)
    agent_id: int | None = Field(default=None, foreign_key="agent.id", ondelete="SET NULL")
    contact_id: int | None = Field(default=None, foreign_key="contact.id", ondelete="SET NULL")
    status: str = Field(default=CallStatus.INITIATED, max_length=16)
    created_at: datetime = created_field()
    updated_at: datetime = created_field()
    ringing_at: datetime | None = time_field()
    answered_at: datetime | None = time_field()
    ended_at: datetime | None = time_field()
    duration_seconds: int | None = None
    hangup_reason: str | None = Field(default=None, max_length=255)
    hangup_by: str | None = Field(default=None, max_length=16)
    # The latest recording, copied here so the history filters and lists without joining recordings.
    recording_id: int | None = None
    recording_status: str | None = Field(default=None, max_length=16)
    # Wrap-up: what the call was about (a disposition's code), the agent's notes, free-form tags stored
    # as ",tag1,tag2," so one tag is a LIKE '%,tag,%' filter.
    disposition: str | None = Field(default=None, max_length=40)
    notes: str | None = Field(default=None, sa_type=Text)
    tags: str | None = Field(default=None, max_length=500)
    # An inbound call's stay in the queue, copied from queue_entry when it leaves (the history shows it).
    queue_outcome: str | None = Field(default=None, max_length=16)
    wait_seconds: int | None = None
    queue: str | None = Field(default=None, max_length=40)  # the queue's code (call_queue.code, "default")


class CallEvent(SQLModel, table=True):
    """Every raw provider event, stored before it is applied: audit trail and duplicate detection."""

    __tablename__ = "call_event"
    __table_args__ = (
        # a kind's rare events without a scan of every call's events (the reports' hold / resume notes)
        Index("ix_call_event_kind_status", "kind", "status", "call_id"),
        {"extend_existing": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: int | None = Field(default=None, foreign_key="call.id", index=True, ondelete="CASCADE")
    provider: str = Field(max_length=16)
    provider_call_sid: str | None = Field(default=None, max_length=64, index=True)
    kind: str = Field(max_length=32)
    status: str | None = Field(default=None, max_length=32)
    sequence: int | None = None
    dedupe_key: str = Field(max_length=64, unique=True)
    payload: str = Field(default="{}", sa_type=Text)
    received_at: datetime = created_field()


class ChainStep(BaseModel):
    """One agent (or a number a call was transferred to) who had the customer, and when."""

    agent_id: int | None
    name: str
    joined_at: datetime
    left_at: datetime | None


class CallPublic(BaseModel):
    """A call as the API and the history show it."""

    id: int
    provider: str
    call_sid: str | None
    direction: str
    from_number: str
    to_number: str
    customer_number: str
    customer_name: str | None = None
    agent_id: int | None
    agent_name: str | None = None
    status: str
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    hangup_reason: str | None
    hangup_by: str | None = None
    recording_id: int | None = None
    recording_status: str | None = None
    chain: list[ChainStep] = []  # who had the customer, in order (a transferred call has two or more)
    disposition: str | None = None
    notes: str | None = None
    tags: list[str] = []
    queue_outcome: str | None = None  # answered, abandoned, timeout, no-agents (inbound calls that queued)
    wait_seconds: int | None = None
    queue: str | None = None  # the queue's code
    queue_name_ar: str | None = None
    queue_name_en: str | None = None


class TimelineStep(BaseModel):
    """A step of a call (hold, resume, a transfer's steps), with who did it and to whom."""

    what: str
    at: datetime
    agent_id: int | None = None
    target: str | None = None
    reason: str | None = None  # an i18n key


class CallDetail(CallPublic):
    """One call with its timeline (GET /api/calls/{id})."""

    timeline: list[TimelineStep] = []


class CallsPublic(BaseModel):
    data: list[CallPublic]
    count: int
