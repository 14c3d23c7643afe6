"""Agents (people who take calls), their login sessions, login attempts and API keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from call_center.models.base import created_field, time_field


class Role:
    ADMIN = "admin"
    AGENT = "agent"
    ALL = (ADMIN, AGENT)


class Availability:
    AVAILABLE = "available"
    BUSY = "busy"
    OFFLINE = "offline"
    ALL = (AVAILABLE, BUSY, OFFLINE)


class Agent(SQLModel, table=True):
    __table_args__ = {"extend_existing": True}

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    role: str = Field(default=Role.AGENT, max_length=16)
    is_active: bool = True
    language: str = Field(default="ar", max_length=2)
    availability: str = Field(default=Availability.OFFLINE, max_length=16)
    created_at: datetime = created_field()
    updated_at: datetime = created_field()
    last_seen_at: datetime | None = time_field()

    @property
    def identity(self) -> str:
        """The agent's telephony identity (Twilio <Client> name, local device id)."""
        return f"agent_{self.id}"


class AgentPublic(BaseModel):
    id: int
    email: str
    name: str
    role: str
    is_active: bool
    language: str
    availability: str


class AgentSession(SQLModel, table=True):
    """A login: the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "agent_session"
    __table_args__ = {"extend_existing": True}

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    agent_id: int = Field(foreign_key="agent.id", index=True, ondelete="CASCADE")
    created_at: datetime = created_field()
    expires_at: datetime = created_field()
    last_seen_at: datetime = created_field()
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=255)


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"
    __table_args__ = {"extend_existing": True}

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    ip: str = Field(default="", max_length=64, index=True)
    success: bool = False
    at: datetime = created_field(index=True)
