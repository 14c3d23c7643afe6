"""Call recordings kept in our own store."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from call_center.models.base import created_field, time_field


class RecordingStatus:
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"  # deleted by RECORDING_RETENTION_DAYS
    DELETED = "deleted"  # deleted by an admin, with a reason
    ALL = (PROCESSING, READY, FAILED, EXPIRED, DELETED)
    GONE = (EXPIRED, DELETED)


class Recording(SQLModel, table=True):
    __table_args__ = (Index("ix_recording_status_ready", "status", "ready_at"), {"extend_existing": True})

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True, ondelete="CASCADE")
    provider: str = Field(max_length=16)
    provider_recording_sid: str | None = Field(default=None, max_length=64, unique=True)
    status: str = Field(default=RecordingStatus.PROCESSING, max_length=16)
    reason: str | None = Field(default=None, max_length=255)
    duration_seconds: float | None = None
    channels: int | None = None
    size_bytes: int | None = None
    storage_key: str | None = Field(default=None, max_length=255)
    created_at: datetime = created_field()
    updated_at: datetime = created_field()
    ready_at: datetime | None = time_field()


class RecordingAudit(SQLModel, table=True):
    """Every recording deleted, by whom (None: the retention job) and why; kept after the file is gone."""

    __tablename__ = "recording_audit"
    __table_args__ = {"extend_existing": True}

    id: int | None = Field(default=None, primary_key=True)
    recording_id: int = Field(index=True)  # (no foreign key: the audit outlives the recording's row)
    call_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=16)  # expired, deleted
    reason: str = Field(max_length=300)
    agent_id: int | None = None
    storage_key: str | None = Field(default=None, max_length=255)
    size_bytes: int | None = None
    at: datetime = created_field()


class RecordingJob(SQLModel, table=True):
    """A durable download of a provider's recording into our store (survives restarts, retried)."""

    __tablename__ = "recording_job"
    __table_args__ = {"extend_existing": True}

    id: int | None = Field(default=None, primary_key=True)
    recording_id: int = Field(foreign_key="recording.id", unique=True, ondelete="CASCADE")
    source_url: str = Field(max_length=500)
    # The provider's file has the customer on the first channel (Twilio's recording of the customer's
    # leg): swapped on the way in, so every stored file is left = the company's side, right = the customer.
    swap_channels: bool = False
    attempts: int = 0
    done: bool = Field(default=False, index=True)
    next_attempt_at: datetime = created_field(index=True)
    locked_until: datetime | None = time_field()
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


class RecordingPublic(BaseModel):
    """A recording as the integration API shows it; `url` is ours (signed, short-lived), not Twilio's."""

    id: int
    sid: str | None
    call_id: int
    call_sid: str | None
    status: str
    reason: str | None
    duration: float | None
    channels: int | None
    size_bytes: int | None
    date_created: datetime
    url: str | None
    download_url: str | None


class RecordingsPublic(BaseModel):
    data: list[RecordingPublic]
    count: int
