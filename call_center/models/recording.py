"""Call recordings kept in our own store."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from call_center.models.base import created_field, time_field


class RecordingStatus:
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    ALL = (PROCESSING, READY, FAILED)


class Recording(SQLModel, table=True):
    __table_args__ = {"extend_existing": True}

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
