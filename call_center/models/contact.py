"""The company's customers, by phone number."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from call_center.models.base import created_field


class Contact(SQLModel, table=True):
    __table_args__ = {"extend_existing": True}

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, index=True)
    phone: str = Field(max_length=32, unique=True, index=True)
    notes: str = Field(default="", sa_type=Text)
    created_at: datetime = created_field()
    updated_at: datetime = created_field()
