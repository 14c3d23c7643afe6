"""Nonces of signed internal requests already seen (replay protection for the media server's callbacks)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from call_center.models.base import created_field


class UsedNonce(SQLModel, table=True):
    __tablename__ = "used_nonce"
    __table_args__ = {"extend_existing": True}

    nonce: str = Field(primary_key=True, max_length=64)
    seen_at: datetime = created_field(index=True)
