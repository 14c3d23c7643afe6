"""The inbound queue: each call's stay in it, and the queue's own small state (its dispatch lock)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from call_center.models.base import created_field, time_field


class QueueOutcome:
    WAITING = "waiting"
    ANSWERED = "answered"
    ABANDONED = "abandoned"  # the caller hung up while waiting
    TIMEOUT = "timeout"  # QUEUE_MAX_WAIT_SECONDS passed
    NO_AGENTS = "no-agents"  # nobody was logged in to take it
    CLOSED = "closed"  # it came outside the queue's opening hours
    ALL = (WAITING, ANSWERED, ABANDONED, TIMEOUT, NO_AGENTS, CLOSED)


class QueueEntry(SQLModel, table=True):
    """A call's stay in a queue: when it came in, where it stood, how it left."""

    __tablename__ = "queue_entry"
    __table_args__ = (
        Index("ix_queue_entry_waiting", "queue", "outcome", "entered_at"),
        {"extend_existing": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", ondelete="CASCADE", unique=True)
    queue: str = Field(default="default", max_length=40)
    entered_at: datetime = created_field()
    left_at: datetime | None = time_field()
    outcome: str = Field(default=QueueOutcome.WAITING, max_length=16)
    position: int = 0  # the last position the caller was told
    announced_at: datetime | None = time_field()


class QueueState(SQLModel, table=True):
    """One row per queue: dispatchers lock it (an UPDATE) so that two workers never offer at once, and
    round-robin remembers whose turn it was."""

    __tablename__ = "queue_state"
    __table_args__ = {"extend_existing": True}

    name: str = Field(primary_key=True, max_length=40)
    last_offered_agent: int | None = None
    dispatched_at: datetime | None = time_field()


class CallQueue(SQLModel, table=True):
    """A queue an admin set up: its name, strategy, timeouts and business hours. A setting left empty
    (None) is the company's default (QUEUE_STRATEGY, QUEUE_RING_SECONDS, ...). The "default" queue works
    without a row: every setting is the company's then, every agent a member, always open."""

    __tablename__ = "call_queue"
    __table_args__ = {"extend_existing": True}

    code: str = Field(primary_key=True, max_length=40)
    name_ar: str = Field(max_length=80)
    name_en: str = Field(max_length=80)
    strategy: str | None = Field(default=None, max_length=16)
    ring_seconds: int | None = None
    max_wait_seconds: int | None = None
    announce_seconds: int | None = None
    wrapup_seconds: int | None = None
    # Opening hours per weekday in TIMEZONE, Monday first: "HH:MM-HH:MM", or "" for closed all day,
    # joined by ";". Empty: open around the clock.
    hours: str = Field(default="", max_length=200)
    closed_message_ar: str = Field(default="", max_length=300)
    closed_message_en: str = Field(default="", max_length=300)
    created_at: datetime = created_field()


class QueueMember(SQLModel, table=True):
    """An agent who takes a queue's calls. A queue with no members is served by every agent."""

    __tablename__ = "queue_member"
    __table_args__ = {"extend_existing": True}

    queue: str = Field(primary_key=True, max_length=40, foreign_key="call_queue.code", ondelete="CASCADE")
    agent_id: int = Field(primary_key=True, foreign_key="agent.id", ondelete="CASCADE")


class QueueNumber(SQLModel, table=True):
    """An inbound number (E.164) and the queue its callers wait in; a number not listed goes to "default"."""

    __tablename__ = "queue_number"
    __table_args__ = {"extend_existing": True}

    number: str = Field(primary_key=True, max_length=32)
    queue: str = Field(max_length=40, foreign_key="call_queue.code", ondelete="CASCADE", index=True)
