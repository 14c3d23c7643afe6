"""The callback list: customers who called and were not answered (abandoned in the queue, nobody took
the call), to be called back by the queue's agents. One open item per number: repeated attempts merge."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from call_center.models.base import created_field, time_field


class CallbackStatus:
    OPEN = "open"
    CLAIMED = "claimed"  # an agent took it: nobody else can
    DONE = "done"
    LIVE = (OPEN, CLAIMED)


class CallbackReason:
    ABANDONED = "abandoned"  # hung up while waiting in the queue
    MISSED = "missed"  # nobody answered (the wait ran out, nobody was logged in, it rang out)
    VOICEMAIL = "voicemail"  # nobody answered, and the caller left a message (the call's recording)


class CallbackItem(SQLModel, table=True):
    __tablename__ = "callback_item"
    __table_args__ = (
        Index("ix_callback_item_status_last", "status", "last_at"),
        Index(
            "uq_callback_item_live_number",
            "number",
            unique=True,
            sqlite_where=text("status != 'done'"),
            postgresql_where=text("status != 'done'"),
        ),
        {"extend_existing": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32)
    queue: str = Field(default="default", max_length=40)
    reason: str = Field(max_length=16)
    attempts: int = 1
    first_at: datetime = created_field()
    last_at: datetime = created_field()
    last_call_id: int | None = Field(default=None, foreign_key="call.id", ondelete="SET NULL")
    status: str = Field(default=CallbackStatus.OPEN, max_length=16)
    claimed_by: int | None = Field(default=None, foreign_key="agent.id", ondelete="SET NULL")
    claimed_at: datetime | None = time_field()
    callback_call_id: int | None = None  # the agent's call back, once dialled
    closed_at: datetime | None = time_field()
    outcome: str | None = Field(default=None, max_length=16)  # reached, busy, no-answer, ..., called-in
