"""The old system's call routes: the history and recordings as JSON (for the CRM), and the browser's token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse

from call_center.api.deps import CurrentAgent, Reader, SessionDep
from call_center.core.i18n import t
from call_center.models import CallDetail, CallsPublic, CallStatus, RecordingsPublic, TimelineStep
from call_center.models.base import utcnow
from call_center.services import calls, exports, history, recordings
from call_center.telephony import get_provider
from call_center.telephony.base import ProviderError

router = APIRouter(prefix="/api/calls", tags=["calls"])


def call_filter(
    direction: Annotated[str | None, Query(pattern="^(inbound|outbound)$")] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    agent_id: Annotated[int | None, Query()] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601 with a time zone")] = None,
    until: Annotated[datetime | None, Query()] = None,
    has_recording: Annotated[bool | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=60, description="number, contact name or notes")] = None,
    mine: Annotated[bool, Query()] = False,
    disposition: Annotated[str | None, Query(max_length=40, description="a disposition's code")] = None,
    tag: Annotated[str | None, Query(max_length=32)] = None,
) -> history.CallFilter:
    """The history's filters as query parameters (GET /api/calls and its exports)."""
    if status is not None and status not in CallStatus.ALL:
        raise HTTPException(
            422, {"code": "error.generic", "message": f"status must be one of {CallStatus.ALL}"}
        )
    for value in (since, until):
        if value is not None and value.tzinfo is None:
            raise HTTPException(
                422, {"code": "error.generic", "message": "times need a time zone, e.g. +02:00"}
            )
    return history.CallFilter(
        agent_id=agent_id,
        mine_only=mine,
        direction=direction,
        status=status,
        since=since,
        until=until,
        has_recording=has_recording,
        search=q,
        disposition=disposition,
        tag=tag,
    )


Filters = Annotated[history.CallFilter, Depends(call_filter)]


@router.get("", response_model=CallsPublic)
def list_calls(
    viewer: Reader,
    db: SessionDep,
    flt: Filters,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=history.MAX_PAGE_SIZE)] = 50,
) -> CallsPublic:
    """Calls the caller may see, newest first, paginated on the server."""
    rows, count = history.list_calls(db, viewer, flt, page=page, page_size=page_size)
    return CallsPublic(data=rows, count=count)


@router.get("/export")
def export_calls(
    viewer: Reader,
    flt: Filters,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
    lang: Annotated[str | None, Query(pattern="^(ar|en)$")] = None,
) -> StreamingResponse:
    """Every call the caller may see that matches the filters (as GET /api/calls), newest first, as CSV
    (UTF-8 with BOM, for Excel) or XLSX, streamed. `lang`: the headers' and labels' language."""
    language = lang or viewer.language
    header = exports.call_header(language)
    rows = exports.call_rows(viewer, flt, language)
    name = f"calls-{utcnow():%Y%m%d-%H%M%S}.{format}"
    if format == "csv":
        body: Iterator[bytes] = exports.csv_stream(header, rows)
    else:
        sheet = (t("export.sheet.calls", language), header, rows)
        body = exports.file_stream(exports.xlsx_file([sheet], rtl=language == "ar"))
    return StreamingResponse(
        body,
        media_type=exports.MIME[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/recordings", response_model=RecordingsPublic)
def list_recordings(
    viewer: Reader,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    page: Annotated[int, Query(ge=1)] = 1,
) -> RecordingsPublic:
    """Recordings, newest first; each `url` is a signed link to our MP3 (valid for an hour)."""
    rows, count = recordings.list_recordings(db, viewer, limit=limit, page=page)
    return RecordingsPublic(data=rows, count=count)


@router.get("/recordings/{call_sid}", response_model=RecordingsPublic)
def call_recordings(call_sid: str, viewer: Reader, db: SessionDep) -> RecordingsPublic:
    """The recordings of one call, by the provider's call id (Twilio CallSid or local LC...)."""
    rows, count = recordings.list_recordings(db, viewer, limit=200, call_sid=call_sid)
    return RecordingsPublic(data=rows, count=count)


@router.get("/{call_id:int}", response_model=CallDetail)
def get_call(call_id: int, viewer: Reader, db: SessionDep) -> CallDetail:
    """One call the caller may see, with its chain of agents and its timeline (hold, transfers)."""
    call = history.get_call(db, viewer, call_id)
    if call is None:
        raise HTTPException(404, {"code": "error.not_found", "message": f"no call {call_id} for you"})
    steps = [TimelineStep(**step) for step in calls.timeline(db, call_id)]
    return CallDetail(**call.model_dump(), timeline=steps)


@router.get("/token")
def token(agent: CurrentAgent) -> dict[str, Any]:
    """What the agent's browser needs to register its phone; the identity comes from the session."""
    try:
        return get_provider().browser_config(agent)
    except ProviderError as exc:
        raise HTTPException(status_code=503, detail={"code": exc.code, "message": exc.detail}) from None
