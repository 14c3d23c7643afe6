"""Which browser phones are connected right now (one row per open signaling connection)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from call_center.models.base import created_field


class DevicePresence(SQLModel, table=True):
    """A connected device: an agent's softphone (`agent_<id>`) or a simulated phone (`phone:+20...`).

    Rows are refreshed while the connection lives and deleted when it closes; a crash leaves rows that
    simply age out (see services.presence.ONLINE_WINDOW).
    """

    __tablename__ = "device_presence"
    __table_args__ = {"extend_existing": True}

    id: str = Field(primary_key=True, max_length=36)
    identity: str = Field(max_length=64, index=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id", index=True, ondelete="CASCADE")
    connected_at: datetime = created_field()
    last_seen_at: datetime = created_field(index=True)
