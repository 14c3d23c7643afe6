"""Exports that open in Excel with Arabic intact: the call list, with the history's filters.

- CSV is UTF-8 with a byte-order mark (Excel reads it as UTF-8 only then), CRLF line ends, streamed batch
  by batch: memory stays flat however many calls match.
- XLSX is written by openpyxl's write-only workbook (rows go straight to the file, not kept as cells) to
  a temporary file that is streamed and then deleted.
- The call list is read in keyset pages (created_at, id) with column queries, in its own database session
  (the response streams after the request's session is gone).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from openpyxl import Workbook

from call_center.core import locale
from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.core.i18n import key_or_text, t
from call_center.models import Agent, Call
from call_center.services import dispositions, history, queues

BATCH = 2000
BOM = "\ufeff"
CALL_COLUMNS = (
    "id", "started", "direction", "number", "customer", "agent", "status", "duration", "wait",
    "queue", "queue_outcome", "disposition", "notes", "tags", "reason", "recording",
)  # fmt: skip
MIME = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def call_header(lang: str) -> list[str]:
    return [t(f"export.col.{c}", lang) for c in CALL_COLUMNS]


def call_rows(viewer: Agent, flt: history.CallFilter, lang: str) -> Iterator[list[Any]]:
    """Every call the viewer may see that matches, newest first, as export rows (in a session of its own:
    the response streams after the request's session is gone)."""
    zone = get_settings().zone
    with session_scope() as db:
        side = 0 if lang == "ar" else 1
        queue_names = {code: both[side] for code, both in queues.names(db, queues.codes(db)).items()}
        labels = _Labels(lang, dispositions.names(db, lang), queue_names)
        for row in history.iter_calls(db, viewer, flt, BATCH, EXPORTED):
            yield _call_row(row, labels, zone)


# What the export reads of each call (plain rows, no ORM objects: history.iter_calls)
EXPORTED = (
    Call.id, Call.created_at, Call.direction, Call.customer_number, Call.status, Call.duration_seconds,
    Call.wait_seconds, Call.queue, Call.queue_outcome, Call.disposition, Call.notes, Call.tags,
    Call.hangup_reason, Call.recording_status,
)  # fmt: skip


class _Labels(dict[tuple[str, str], str]):
    """The words of one export, each translated once, however many rows use it: (kind, value) -> text.
    Kinds: direction, status, outcome, recording, reason, disposition and queue."""

    def __init__(self, lang: str, disposition_names: dict[str, str], queue_names: dict[str, str]):
        super().__init__()
        self.lang = lang
        self.names = {"disposition": disposition_names, "queue": queue_names}

    def __missing__(self, key: tuple[str, str]) -> str:
        kind, value = key
        lang = self.lang
        if kind in self.names:
            text = self.names[kind].get(value, value)
        elif not value:
            text = ""
        elif kind == "direction":
            text = t(f"direction.{value}", lang)
        elif kind == "status":
            text = t(f"status.{value}", lang)
        elif kind == "outcome":
            text = t(f"queue.outcome.{value}", lang)
        elif kind == "recording":
            text = _recording(value, lang)
        else:  # reason: a translation key, or a provider's own words kept as they came
            reason_key, reason_text = key_or_text(value)
            text = t(reason_key, lang) if reason_key else reason_text
        self[key] = text
        return text


def _call_row(row: Any, labels: _Labels, zone: Any) -> list[Any]:
    """One export row of a call: a row of EXPORTED's columns (unpacked by position: a million rows)."""
    (call_id, created_at, direction, number, status, duration, wait, queue, outcome, disposition, notes,
     tags, reason, recording) = row[: len(EXPORTED)]  # fmt: skip
    agent, contact = row[-2], row[-1]
    return [
        call_id,
        # "YYYY-MM-DD HH:MM:SS" in TIMEZONE: str() is isoformat with a space, cut before the fraction and
        # the offset (the same text as strftime, in a fraction of its time)
        str(created_at.astimezone(zone))[:19],
        labels["direction", direction or ""],
        number,
        contact or "",
        agent or "",
        labels["status", status or ""],
        duration if duration is not None else "",
        wait if wait is not None else "",
        labels["queue", queue or ""],
        labels["outcome", outcome or ""],
        labels["disposition", disposition or ""],
        notes or "",
        " ".join(tag for tag in tags.split(",") if tag) if tags else "",
        labels["reason", reason or ""],
        labels["recording", recording or ""],
    ]


# The dashboard's tables (services.reports.dashboard), as export sheets ----------------------------------
REPORT_TABLES = ("summary", "days", "agents", "dispositions", "hours")
SUMMARY_KEYS = (
    "offered", "answered", "abandoned", "short_abandoned", "missed", "handled", "outbound",
    "service_level", "service_level_with_abandons", "abandonment", "asa", "aht", "occupancy",
)  # fmt: skip
RATIOS = ("service_level", "service_level_with_abandons", "abandonment", "occupancy")
STATE_COLUMNS = ("available", "on-call", "wrap-up", "away")


def _pct(ratio: float | None) -> Any:
    return "" if ratio is None else round(100 * ratio, 1)


def _secs(value: float | None) -> Any:
    return "" if value is None else round(value)


def report_sheets(data: dict[str, Any], lang: str) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Every table of the dashboard as (title, header, rows), in `lang`: rates in %, times in seconds (so a
    spreadsheet can sum them), numbers as numbers."""

    def tr(key: str, unit: str = "") -> str:
        return t(key, lang) + (f" ({unit})" if unit else "")

    summary = data.get("summary") or {}
    figures = []
    for key in SUMMARY_KEYS:
        if key in RATIOS:
            figures.append([tr(f"reports.kpi.{key}", "%"), _pct(summary.get(key))])
        elif key in ("asa", "aht"):
            figures.append([tr(f"reports.kpi.{key}", "s"), _secs(summary.get(key))])
        else:
            figures.append([tr(f"reports.kpi.{key}"), summary.get(key, 0)])
    series = ("answered", "abandoned", "missed", "outbound")
    days = [
        [d["day"], *(d[k] for k in series), "" if d["sl"] is None else d["sl"]]
        for d in data.get("days") or []
    ]
    agents = [
        [a["name"], a["handled"], _secs(a["talk"]), _secs(a["aht"]), _pct(a["occupancy"]), a["missed_offers"],
         *(_secs(a.get(f"s_{state}", 0.0)) for state in STATE_COLUMNS)]
        for a in data.get("agents") or []
    ]  # fmt: skip
    side = "name_ar" if lang == "ar" else "name_en"
    outcomes = [[d[side], d["count"]] for d in data.get("dispositions") or []]
    names = locale.weekday_names(lang)
    hours = [[names[day], *row] for day, row in enumerate(data.get("hours") or [])]
    agent_header = [
        tr("reports.col.name"), tr("reports.col.handled"), tr("reports.col.talk", "s"),
        tr("reports.col.aht", "s"), tr("reports.col.occupancy", "%"), tr("reports.col.missed"),
        *(tr(f"reports.col.s_{state}", "s") for state in STATE_COLUMNS),
    ]  # fmt: skip
    sheet = {
        "summary": (tr("export.sheet.summary"), [tr("export.col.figure"), tr("export.col.value")], figures),
        "days": (
            tr("export.sheet.days"),
            [
                tr("export.col.day"),
                *(tr(f"reports.series.{k}") for k in series),
                tr("reports.kpi.service_level", "%"),
            ],
            days,
        ),
        "agents": (tr("reports.per_agent"), agent_header, agents),
        "dispositions": (
            tr("reports.dispositions"),
            [tr("export.col.disposition"), tr("reports.series.calls")],
            outcomes,
        ),
        "hours": (tr("export.sheet.hours"), [tr("export.col.weekday"), *map(str, range(24))], hours),
    }
    return [sheet[name] for name in REPORT_TABLES]


def _recording(status: str | None, lang: str) -> str:
    if not status:
        return ""
    return t("export.recording.ready" if status == "ready" else f"recording.{status}", lang)


def csv_stream(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """UTF-8 with BOM, CRLF, a chunk per BATCH rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % BATCH == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_file(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]], rtl: bool) -> str:
    """A workbook with one sheet per (title, header, rows), written row by row to a temporary file; its
    path (the caller streams it and deletes it)."""
    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.sheet_view.rightToLeft = rtl
        sheet.append(list(header))
        for row in rows:
            sheet.append(list(row))
    handle, path = tempfile.mkstemp(prefix="export-", suffix=".xlsx")
    os.close(handle)
    try:
        workbook.save(path)
    except BaseException:
        os.unlink(path)
        raise
    return path


def file_stream(path: str, chunk: int = 1 << 16) -> Iterator[bytes]:
    try:
        with open(path, "rb") as handle:
            while data := handle.read(chunk):
                yield data
    finally:
        os.unlink(path)
