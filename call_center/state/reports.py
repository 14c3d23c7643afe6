"""The KPI dashboard (/reports, supervisors and admins): a range of days, a queue, an agent.

The figures are computed once per load (services.reports, off the event loop) and kept as numbers; the
texts (percentages, durations, dates, digits) are computed vars of the page's language, so switching
language reformats without recomputing.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

import reflex as rx

from call_center.core import locale
from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.models import AgentState
from call_center.models.base import utcnow
from call_center.services import agents, queues, reports
from call_center.state.guard import Access
from call_center.state.session import SessionState

MAX_DAYS = 366
RATES = ("service_level", "service_level_with_abandons", "abandonment", "occupancy")
DURATIONS = ("asa", "aht")
COUNTS = ("offered", "answered", "abandoned", "short_abandoned", "missed", "handled", "outbound")


def _parse(value: str) -> date | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None


class ReportsState(SessionState):
    access: ClassVar[str] = Access.SUPERVISOR

    f_from: str = ""
    f_to: str = ""
    f_queue: str = ""
    f_agent: str = ""
    error: str = ""
    data: dict[str, Any] = {}
    queue_options: list[dict[str, str]] = []
    agent_options: list[dict[str, str]] = []

    # Loading -----------------------------------------------------------------------------------------
    @rx.event
    async def load(self):
        today = utcnow().astimezone(get_settings().zone).date()
        if not self.f_from:
            self.f_from, self.f_to = (today - timedelta(days=6)).isoformat(), today.isoformat()
        with session_scope() as db:
            self.queue_options = [
                {"code": q.code, "name_ar": q.name_ar, "name_en": q.name_en} for q in queues.all_configs(db)
            ]
            self.agent_options = [{"id": str(a.id), "name": a.name} for a in agents.list_agents(db)]
        await self._refresh()

    async def _refresh(self) -> None:
        first, last = _parse(self.f_from), _parse(self.f_to)
        if first is None or last is None or last < first:
            self.error = "reports.error.range"
            return
        if (last - first).days >= MAX_DAYS:
            self.error = "reports.error.too_long"
            return
        agent = int(self.f_agent) if self.f_agent.isdigit() else 0
        self.error = ""
        self.data = await asyncio.to_thread(reports.dashboard, first, last, self.f_queue, agent)

    @rx.event
    async def set_filter(self, name: str, value: str):
        if name not in ("f_from", "f_to", "f_queue", "f_agent"):
            return
        setattr(self, name, str(value)[:40])
        await self._refresh()

    @rx.event
    async def preset(self, days: int):
        """Today (0), yesterday (1), the last 7 or 30 days."""
        today = utcnow().astimezone(get_settings().zone).date()
        days = int(days)
        if days == 1:
            self.f_from = self.f_to = (today - timedelta(days=1)).isoformat()
        else:
            self.f_from, self.f_to = (today - timedelta(days=max(0, days - 1))).isoformat(), today.isoformat()
        await self._refresh()

    @rx.var
    def export_query(self) -> str:
        """GET /api/reports/export's query for the filters shown and the page's language."""
        params = {"from": self.f_from, "to": self.f_to, "queue": self.f_queue, "lang": self.lang}
        if self.f_agent.isdigit():
            params["agent"] = self.f_agent
        return urlencode(params)

    # Texts in the page's language ---------------------------------------------------------------------
    @rx.var
    def cards(self) -> list[dict[str, str]]:
        """The headline figures: key (reports.kpi.<key>), value, and a hint (what it is out of)."""
        figures = self.data.get("summary") or {}
        if not figures:
            return []
        lang, digits = self.lang, self.digits
        out = []
        for key in (*RATES[:3], "asa", "aht", "occupancy", *COUNTS):
            value = figures.get(key)
            if key in RATES:
                text = locale.percent(value, lang, digits)
            elif key in DURATIONS:
                text = "—" if value is None else locale.duration(value, lang, digits)
            else:
                text = locale.number(value or 0, lang, digits)
            out.append({"key": key, "value": text})
        return out

    @rx.var
    def day_rows(self) -> list[dict[str, Any]]:
        """One per day, for the charts: the day's label and its counts (SL in %, or None)."""
        return [
            {**row, "label": locale.day_label(date.fromisoformat(row["day"]), self.lang, self.digits)}
            for row in self.data.get("days") or []
        ]

    @rx.var
    def heat(self) -> list[dict[str, Any]]:
        """Calls by weekday (rows, Saturday first as Egyptian weeks run) and hour (cells 0-23), each with
        its count and a level 0-4 for the colour."""
        hours = self.data.get("hours") or [[0] * 24 for _ in range(7)]
        top = max((n for row in hours for n in row), default=0)
        names = locale.weekday_names(self.lang)
        order = (5, 6, 0, 1, 2, 3, 4)
        return [
            {
                "day": names[d],
                "cells": [
                    {
                        "n": locale.number(n, self.lang, self.digits),
                        "level": 0 if n == 0 or top == 0 else 1 + min(3, int(4 * n / (top + 1))),
                        "hour": h,
                    }
                    for h, n in enumerate(hours[d])
                ],
            }
            for d in order
        ]

    @rx.var
    def hour_labels(self) -> list[str]:
        return [locale.number(h, self.lang, self.digits) for h in range(24)]

    @rx.var
    def disposition_rows(self) -> list[dict[str, Any]]:
        key = "name_ar" if self.lang == "ar" else "name_en"
        return [{"name": d[key], "count": d["count"]} for d in self.data.get("dispositions") or []]

    @rx.var
    def agent_rows(self) -> list[dict[str, str]]:
        lang, digits = self.lang, self.digits
        rows = []
        for a in self.data.get("agents") or []:
            rows.append(
                {
                    "name": a["name"],
                    "handled": locale.number(a["handled"], lang, digits),
                    "talk": locale.duration(a["talk"], lang, digits),
                    "aht": "—" if a["aht"] is None else locale.duration(a["aht"], lang, digits),
                    "occupancy": locale.percent(a["occupancy"], lang, digits),
                    "missed": locale.number(a["missed_offers"], lang, digits),
                    **{
                        f"s_{s}": locale.duration(a[f"s_{s}"], lang, digits)
                        for s in AgentState.ALL
                        if s != AgentState.OFFLINE
                    },
                }
            )
        return rows

    @rx.var
    def has_calls(self) -> bool:
        figures = self.data.get("summary") or {}
        return bool(sum(int(figures.get(k) or 0) for k in COUNTS))

    @rx.var
    def threshold_note(self) -> str:
        settings = get_settings()
        return locale.number(settings.SL_THRESHOLD_SECONDS, self.lang, self.digits)

    @rx.var
    def short_note(self) -> str:
        return locale.number(get_settings().SHORT_ABANDON_SECONDS, self.lang, self.digits)
