"""Agents (people who take calls), their login sessions, login attempts and API keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from call_center.models.base import created_field, time_field


class Role:
    """admin: everything; supervisor: every call, the wallboard, reports and monitoring, but no agents,
    keys or settings; agent: their own calls."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    ALL = (ADMIN, SUPERVISOR, AGENT)
    SEES_EVERY_CALL = frozenset({ADMIN, SUPERVISOR})


class Availability:
    """What the agent chose: to take calls, to be away (with a reason) or to be offline."""

    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"
    ALL = (AVAILABLE, AWAY, OFFLINE)


class AwayReason:
    BREAK = "break"
    MEETING = "meeting"
    TRAINING = "training"
    MISSED = "missed"  # set by the queue after QUEUE_MAX_MISSES unanswered offers
    CHOSEN = (BREAK, MEETING, TRAINING)
    ALL = (BREAK, MEETING, TRAINING, MISSED)


class AgentState:
    """The state reports count time in: what the agent chose, and what their calls make of it."""

    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on-call"
    WRAP_UP = "wrap-up"
    AWAY = "away"
    OFFLINE = "offline"
    ALL = (AVAILABLE, RINGING, ON_CALL, WRAP_UP, AWAY, OFFLINE)


class Agent(SQLModel, table=True):
    __table_args__ = {"extend_existing": True}

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    role: str = Field(default=Role.AGENT, max_length=16)
    is_active: bool = True
    language: str = Field(default="ar", max_length=2)
    digits: str = Field(default="latn", max_length=4)  # "latn" (0-9) or "arab" (٠-٩) on Arabic pages
    availability: str = Field(default=Availability.OFFLINE, max_length=16)
    away_reason: str | None = Field(default=None, max_length=16)
    # After-call work: the call being wrapped up, until when, and whether it was extended once.
    wrapup_call_id: int | None = None
    wrapup_until: datetime | None = time_field()
    wrapup_extended: bool = False
    missed_in_row: int = 0  # queue offers let ring out since the last answer (QUEUE_MAX_MISSES: away)
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
    away_reason: str | None = None


class AgentStateSpan(SQLModel, table=True):
    """One stretch of time an agent spent in one state (open while `ended_at` is None)."""

    __tablename__ = "agent_state_span"
    __table_args__ = (
        Index("ix_agent_state_span_agent", "agent_id", "started_at"),
        Index(
            "ix_agent_state_span_ended", "ended_at"
        ),  # the spans of a report's range (services.report_sums)
        # one open span per agent (both databases support partial indexes)
        Index(
            "uq_agent_state_span_open",
            "agent_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        {"extend_existing": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", ondelete="CASCADE")
    state: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=16)
    call_id: int | None = None
    started_at: datetime = created_field()
    ended_at: datetime | None = time_field()


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
