"""GET /api/recordings/{id}.mp3: our copy of a recording, seekable (HTTP Range), inline or as a download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse

from call_center.api.deps import reader
from call_center.core.db import session_scope
from call_center.models import Call, Recording, RecordingStatus
from call_center.services import recordings
from call_center.services.errors import InvalidInput

router = APIRouter(prefix="/api/recordings", tags=["recordings"])


def _not_found() -> HTTPException:
    return HTTPException(status_code=404, detail={"code": "error.not_found", "message": "No such recording."})


@router.get("/{recording_id:int}.mp3", response_class=FileResponse)
def recording_mp3(
    recording_id: int,
    request: Request,
    download: Annotated[bool, Query()] = False,
    expires: Annotated[int | None, Query()] = None,
    sig: Annotated[str | None, Query(max_length=64)] = None,
) -> FileResponse:
    """Needs a session (or API key) of someone who may hear the call, or a valid signed link."""
    signed = recordings.signature_ok(recording_id, expires, sig)
    viewer = None if signed else reader(request)  # 401 when neither
    with session_scope() as db:
        recording = db.get(Recording, recording_id)
        call = db.get(Call, recording.call_id) if recording else None
        if recording is None or call is None:
            raise _not_found()
        if viewer is not None and not recordings.can_view(db, viewer, call):
            raise HTTPException(
                status_code=403, detail={"code": "error.forbidden", "message": "Not your call."}
            )
        if recording.status != RecordingStatus.READY or not recording.storage_key:
            raise HTTPException(
                status_code=404,
                detail={"code": "recording.not_ready", "message": f"Recording is {recording.status}."},
            )
        try:
            path = recordings.get_store().path(recording.storage_key)
        except InvalidInput:  # a key that would leave the store: treat as missing, never follow it
            raise _not_found() from None
        name = recordings.download_name(call)
    if not path.is_file():
        raise _not_found()
    return FileResponse(
        path,
        media_type="audio/mpeg",
        filename=name,
        content_disposition_type="attachment" if download else "inline",
        headers={"cache-control": "private, max-age=300"},
    )
