"""The KPI dashboard's tables as files (the same figures /reports shows), for supervisors and admins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from call_center.api.deps import SupervisorAgent
from call_center.services import exports, reports
from call_center.services.errors import InvalidInput

router = APIRouter(prefix="/api/reports", tags=["reports"])
MAX_DAYS = 366


@router.get("/export")
def export_report(
    viewer: SupervisorAgent,
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
    queue: Annotated[str, Query(max_length=40)] = "",
    agent: Annotated[int, Query(ge=0)] = 0,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "xlsx",
    table: Annotated[str, Query(pattern="^(summary|days|agents|dispositions|hours)$")] = "agents",
    lang: Annotated[str | None, Query(pattern="^(ar|en)$")] = None,
) -> StreamingResponse:
    """The dashboard for days `from`..`to` (YYYY-MM-DD, in TIMEZONE), a queue and an agent (as /reports):
    XLSX with every table as a sheet, or one `table` as CSV (UTF-8 with BOM, for Excel)."""
    if last < first:
        raise InvalidInput("reports.error.range", "'to' is before 'from'")
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput("reports.error.too_long", f"at most {MAX_DAYS} days")
    language = lang or viewer.language
    sheets = exports.report_sheets(reports.dashboard(first, last, queue, agent), language)
    stamp = f"{first:%Y%m%d}-{last:%Y%m%d}"
    if format == "csv":
        _, header, rows = sheets[exports.REPORT_TABLES.index(table)]
        body: Iterator[bytes] = exports.csv_stream(header, rows)
        name = f"report-{table}-{stamp}.csv"
    else:
        body = exports.file_stream(exports.xlsx_file(sheets, rtl=language == "ar"))
        name = f"report-{stamp}.xlsx"
    return StreamingResponse(
        body,
        media_type=exports.MIME[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
