"""Deleting recordings: by RECORDING_RETENTION_DAYS (a background job) or by an admin, with a reason.

Every deletion leaves a row in `recording_audit` (what, when, by whom, why, which file), and the call keeps
its recording's row with the status `expired` or `deleted`, so the history says "recording deleted" where
the player was. Crash-safe in this order: the status and the audit row are committed first (from then on
nobody can play it), then the file is removed; a file whose removal did not happen (killed midway, a store
error) is removed by the next round (`purge_files`), which is what keeps the store from holding a
recording the database says is gone.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from call_center.core.config import get_settings
from call_center.models import Agent, Recording, RecordingAudit, RecordingStatus, Role
from call_center.models.base import utcnow
from call_center.services import recordings
from call_center.services.errors import Forbidden, InvalidInput, NotFound

logger = logging.getLogger(__name__)

RETENTION_REASON = "retention"
BATCH = 200  # recordings per round (the job runs again at the next housekeeping round)


def delete(db: Session, recording: Recording, *, reason: str, by: Agent | None) -> Recording:
    """Mark one recording gone (expired when `by` is None, else deleted by that admin), audited; commits,
    then removes its file."""
    if recording.status in RecordingStatus.GONE:
        return recording
    action = RecordingStatus.EXPIRED if by is None else RecordingStatus.DELETED
    db.add(
        RecordingAudit(
            recording_id=recording.id or 0, call_id=recording.call_id, action=action, reason=reason[:300],
            agent_id=by.id if by else None, storage_key=recording.storage_key,
            size_bytes=recording.size_bytes,
        )
    )  # fmt: skip
    recording.status, recording.reason = action, reason[:255]
    recording.updated_at = utcnow()
    db.add(recording)
    db.flush()
    recordings._publish(db, recording)  # the history's row says so, live
    db.commit()
    _remove_file(db, recording)
    logger.info(
        "recording %s of call %s %s (%s%s)", recording.id, recording.call_id, action, reason,
        f", by agent {by.id}" if by else "",
    )  # fmt: skip
    return recording


def delete_by_admin(db: Session, admin: Agent, recording_id: int, reason: str) -> Recording:
    """An admin deletes one recording by hand; the reason is required (it is audited)."""
    if admin.role != Role.ADMIN:
        raise Forbidden("error.forbidden", "only admins delete recordings")
    reason = " ".join(reason.split())
    if len(reason) < 3:
        raise InvalidInput("recording.error.reason", "say why the recording is deleted")
    recording = db.get(Recording, recording_id)
    if recording is None:
        raise NotFound("error.not_found", f"no recording {recording_id}")
    return delete(db, recording, reason=reason, by=admin)


def apply(db: Session, now: datetime | None = None) -> int:
    """One round of the retention job: recordings ready for longer than RECORDING_RETENTION_DAYS are
    deleted (at most BATCH); files of gone recordings still in the store are removed. Returns how many
    recordings it deleted."""
    purge_files(db)
    days = get_settings().RECORDING_RETENTION_DAYS
    if not days:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    due = db.exec(
        select(Recording)
        .where(Recording.status == RecordingStatus.READY, col(Recording.ready_at) < cutoff)
        .order_by(col(Recording.ready_at))
        .limit(BATCH)
    ).all()
    for recording in due:
        delete(db, recording, reason=RETENTION_REASON, by=None)
    return len(due)


def purge_files(db: Session) -> None:
    """Files of recordings marked gone that are still in the store (a removal that did not happen)."""
    left = db.exec(
        select(Recording)
        .where(col(Recording.status).in_(RecordingStatus.GONE), col(Recording.storage_key).is_not(None))
        .limit(BATCH)
    ).all()
    for recording in left:
        _remove_file(db, recording)


def _remove_file(db: Session, recording: Recording) -> None:
    key = recording.storage_key
    if not key:
        return
    try:
        recordings.get_store().delete(key)
    except Exception:  # kept marked gone: the next round tries again
        logger.exception("recording %s: its file %s could not be removed yet", recording.id, key)
        return
    recording.storage_key = None
    db.add(recording)
    db.commit()
