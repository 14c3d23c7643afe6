"""API keys for integrations (the CRM reading the call history); only a hash is stored."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from call_center.models.base import created_field, time_field


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"
    __table_args__ = {"extend_existing": True}

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=12)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    agent_id: int = Field(foreign_key="agent.id", index=True, ondelete="CASCADE")
    created_at: datetime = created_field()
    last_used_at: datetime | None = time_field()
    revoked_at: datetime | None = time_field()
