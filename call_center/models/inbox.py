"""The durable webhook inbox: each signed Twilio callback as it arrived, stored before it is acknowledged
and applied just after (services.inbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, text
from sqlmodel import Field, SQLModel

from call_center.models.base import UTCDateTime, created_field


class InboxKind:
    STATUS = "status"  # a call leg's own status callback (callbacks.handle_status)
    LEG = "leg"  # a participant we added, its status callback (conference_callbacks.handle_leg)
    CONFERENCE = "conference"  # the call's room (conference_callbacks.handle_conference)
    RECORDING = "recording"  # a recording is available or failed (callbacks.handle_recording)
    ALL = (STATUS, LEG, CONFERENCE, RECORDING)


class WebhookInbox(SQLModel, table=True):
    """One callback. Pending while `applied_at` is empty; applied (or given up on, with `error`) after."""

    __tablename__ = "webhook_inbox"
    __table_args__ = (
        # the pending rows of a worker, oldest first; the applied ones by age (purge)
        Index("ix_webhook_inbox_pending", "applied_at", "owner", "id"),
        # the given-up ones (/api/metrics counts them)
        Index(
            "ix_webhook_inbox_given_up",
            "applied_at",
            sqlite_where=text("error IS NOT NULL"),
            postgresql_where=text("error IS NOT NULL"),
        ),
        {"extend_existing": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    call_id: int | None = None  # our call's id, from the URL we gave Twilio (?call=)
    leg: str | None = Field(default=None, max_length=64)  # a participant's label (?leg=)
    params: str = Field(sa_type=Text)  # the signed form, as JSON
    received_at: datetime = created_field()
    owner: str = Field(max_length=64)  # the worker that applies it (services.inbox: a dead one's are adopted)
    attempts: int = 0
    retry_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, max_length=255)  # why applying failed (given up: applied_at set)


class InboxWorker(SQLModel, table=True):
    """A worker applying inbox rows, alive while its beat is recent."""

    __tablename__ = "inbox_worker"
    __table_args__ = {"extend_existing": True}

    owner: str = Field(primary_key=True, max_length=64)
    beat_at: datetime = created_field()
