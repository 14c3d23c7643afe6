"""Dispositions: what a call was about, picked by the agent in wrap-up (an admin-managed list)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from call_center.models.base import created_field


class Disposition(SQLModel, table=True):
    __table_args__ = {"extend_existing": True}

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name_ar: str = Field(max_length=80)
    name_en: str = Field(max_length=80)
    is_active: bool = True
    position: int = 0
    created_at: datetime = created_field()


class DispositionPublic(BaseModel):
    code: str
    name_ar: str
    name_en: str
    is_active: bool


# The list a new install starts with (the admin edits it on the settings page).
DEFAULT_DISPOSITIONS = (
    ("sale", "بيع", "Sale"),
    ("inquiry", "استفسار", "Inquiry"),
    ("complaint", "شكوى", "Complaint"),
    ("call-back-later", "معاودة الاتصال لاحقًا", "Call back later"),
    ("wrong-number", "رقم خاطئ", "Wrong number"),
)
