"""The dashboard's hourly rollup: each past UTC hour's figures, summed once and kept (services.rollup).

`ReportHour` says which hours are summed, and under which rules (a call's class depends on
SL_THRESHOLD_SECONDS and SHORT_ABANDON_SECONDS). Database triggers (migration 0014) delete an hour's row
whenever something the hour's figures are made of is written: a call that started in it, its queue entry,
its hold notes, its wrap-up, a state span or a ring overlapping it. An hour without its row is summed live
from the calls, until the next build. So whatever path writes, the rollup cannot go stale.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from call_center.models.base import UTCDateTime, created_field


class RollupKind:
    CALLS = "calls"  # item: class * 2 + handled (services.rollup)
    DISPOSITION = "disposition"  # item: the disposition's code
    STATE = "state"  # item: the agent state; seconds in it (closed spans, clipped to the hour)
    OFFERS = "offers"  # missed rings of the agent
    ALL = (CALLS, DISPOSITION, STATE, OFFERS)


class ReportHour(SQLModel, table=True):
    """One summed UTC hour."""

    __tablename__ = "report_hour"
    __table_args__ = {"extend_existing": True}

    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    sl_threshold: int
    short_abandon: int
    built_at: datetime = created_field()


class ReportRollup(SQLModel, table=True):
    """The sums of one kind of figure for one hour, queue ("" for none) and agent (0 for none)."""

    __tablename__ = "report_rollup"
    __table_args__ = {"extend_existing": True, "sqlite_with_rowid": False}

    kind: str = Field(primary_key=True, max_length=16)
    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    queue: str = Field(primary_key=True, max_length=40)
    agent_id: int = Field(primary_key=True)
    item: str = Field(primary_key=True, max_length=40)
    calls: int = 0
    wait: float = 0.0
    talk: float = 0.0
    hold: float = 0.0
    wrapup: float = 0.0
    seconds: float = 0.0
