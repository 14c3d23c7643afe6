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
    ALL = (WAITING, ANSWERED, ABANDONED, TIMEOUT, NO_AGENTS)


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
