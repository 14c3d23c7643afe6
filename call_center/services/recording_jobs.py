"""Durable recording downloads: a provider's recording copied into our store, whatever happens meanwhile.

Each download is a `RecordingJob` row. Workers (several processes may run them) claim a due job with one
conditional UPDATE, so exactly one worker holds it for a lease; a worker that dies mid-job simply lets the
lease expire and the job is claimed again after a restart. Transient failures (5xx, timeouts, short bodies)
are retried with capped exponential backoff; permanent ones (4xx such as 404) or too many attempts end the
recording `failed` with a reason. Our own storage failures never fail a recording: the provider still has
it, so the job waits for the disk to be fixed.

The provider-specific part, fetching the media, is injected (`Fetcher`); services never import a provider.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from call_center.core.db import get_engine
from call_center.models import Call, Recording, RecordingJob, RecordingStatus
from call_center.models.base import utcnow
from call_center.services.recordings import (
    LocalRecordingStore,
    StorageError,
    mark_failed,
    mark_ready,
    recording_key,
    swap_channels,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=15)
MAX_DELAY = timedelta(minutes=30)
STORAGE_RETRY = timedelta(minutes=1)
# How long a claimed job is its worker's: a job whose worker died is taken again after this. Far longer than
# a download takes; if one ever took longer, a second fetch of the same recording would be harmless (the
# store's writes are atomic and marking a recording ready twice changes nothing).
LEASE = timedelta(minutes=5)

Clock = Callable[[], datetime]


class FetchError(Exception):
    """The media could not be fetched; `permanent` means retrying cannot help (e.g. 404)."""

    def __init__(self, reason: str, *, permanent: bool = False):
        self.reason = reason
        self.permanent = permanent
        super().__init__(reason)


@dataclass(frozen=True)
class Media:
    """A verified recording: the bytes, and what the fetcher learned about them."""

    data: bytes
    channels: int | None = None
    duration: float | None = None


Fetcher = Callable[[str], Media]
AfterReady = Callable[[Recording], None]


def enqueue(
    db: Session,
    recording: Recording,
    source_url: str,
    *,
    now: datetime | None = None,
    swap_channels: bool = False,
) -> RecordingJob:
    """The download job for `recording` (one per recording; a second call returns the first). Flushes."""
    existing = db.exec(select(RecordingJob).where(RecordingJob.recording_id == recording.id)).first()
    if existing is not None:
        return existing
    at = now or utcnow()
    job = RecordingJob(
        recording_id=recording.id,  # type: ignore[arg-type]
        source_url=source_url[:500],
        swap_channels=swap_channels,
        next_attempt_at=at,
        created_at=at,
        updated_at=at,
    )
    db.add(job)
    db.flush()
    return job


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failed ones: 15 s, 30 s, 1 min ... capped at 30 min."""
    return min(MAX_DELAY, BASE_DELAY * 2 ** max(0, attempts - 1))


def claim(db: Session, *, now: datetime, lease: timedelta = LEASE) -> RecordingJob | None:
    """Take one due job for this worker (atomic across workers and processes); commits."""
    free = or_(col(RecordingJob.locked_until).is_(None), col(RecordingJob.locked_until) < now)
    due = (
        select(RecordingJob.id)
        .where(col(RecordingJob.done).is_(False), col(RecordingJob.next_attempt_at) <= now, free)
        .order_by(col(RecordingJob.next_attempt_at), col(RecordingJob.id))
        .limit(5)
    )
    for job_id in db.exec(due).all():
        # Counting the attempt at claim time means a job that kills its worker still runs out of tries.
        result = db.execute(
            update(RecordingJob)
            .where(col(RecordingJob.id) == job_id, col(RecordingJob.done).is_(False), free)
            .values(locked_until=now + lease, attempts=col(RecordingJob.attempts) + 1, updated_at=now)
        )
        if getattr(result, "rowcount", 0) == 1:
            db.commit()
            job = db.get(RecordingJob, job_id)
            if job is not None:
                db.refresh(job)
            return job
    db.commit()
    return None


def process(
    db: Session,
    job: RecordingJob,
    fetch: Fetcher,
    store: LocalRecordingStore,
    *,
    now: datetime,
    after_ready: AfterReady | None = None,
) -> str:
    """Run one claimed job to its next state; returns "ready", "retry", "failed" or "gone". Commits."""
    recording = db.get(Recording, job.recording_id)
    call = db.get(Call, recording.call_id) if recording is not None else None
    if recording is None or call is None:
        return _finish(db, job, now, "gone")
    if recording.status == RecordingStatus.READY:
        return _finish(db, job, now, "ready")
    try:
        media = fetch(job.source_url)
        if job.swap_channels and media.channels == 2:
            media = _swapped(media)
        key = recording_key(call, recording.provider_recording_sid or f"rec{recording.id}")
        size = store.put_bytes(key, media.data)
        if store.size(key) != len(media.data):
            raise StorageError(f"stored {store.size(key)} bytes of {len(media.data)}")
    except FetchError as exc:
        return _fetch_failed(db, job, recording, exc, now)
    except StorageError as exc:
        return _storage_failed(db, job, str(exc), now)
    mark_ready(
        db,
        recording,
        key=key,
        size=size,
        duration=media.duration if media.duration is not None else recording.duration_seconds,
        channels=media.channels if media.channels is not None else recording.channels,
    )
    _finish(db, job, now, "ready")
    if after_ready is not None:
        try:
            after_ready(recording)
        except Exception:  # the copy is safe in our store; a failed clean-up is only logged
            logger.exception("after-download step failed for recording %s", recording.id)
    return "ready"


def _swapped(media: Media) -> Media:
    try:
        return Media(data=swap_channels(media.data), channels=2, duration=media.duration)
    except ValueError as exc:  # the provider's file is broken: fetching it again will not mend it
        raise FetchError(str(exc), permanent=True) from None


def _finish(db: Session, job: RecordingJob, now: datetime, outcome: str) -> str:
    job.done = True
    job.locked_until = None
    job.updated_at = now
    if outcome == "ready":
        job.last_error = None
    db.add(job)
    db.commit()
    return outcome


def _fetch_failed(
    db: Session, job: RecordingJob, recording: Recording, exc: FetchError, now: datetime
) -> str:
    job.last_error = exc.reason[:500]
    if exc.permanent or job.attempts >= MAX_ATTEMPTS:
        tries = f" after {job.attempts} attempts" if not exc.permanent else ""
        mark_failed(db, recording, f"download failed{tries}: {exc.reason}")
        return _finish(db, job, now, "failed")
    job.next_attempt_at = now + backoff(job.attempts)
    job.locked_until = None
    job.updated_at = now
    db.add(job)
    db.commit()
    logger.warning(
        "recording %s download attempt %s failed (%s); retry at %s",
        recording.id,
        job.attempts,
        exc.reason,
        job.next_attempt_at.isoformat(),
    )
    return "retry"


def _storage_failed(db: Session, job: RecordingJob, reason: str, now: datetime) -> str:
    # Our disk, not the provider: do not spend the job's attempts on it, and never give up.
    job.attempts = max(0, job.attempts - 1)
    job.last_error = f"storage: {reason}"[:500]
    job.next_attempt_at = now + STORAGE_RETRY
    job.locked_until = None
    job.updated_at = now
    db.add(job)
    db.commit()
    logger.error("recording job %s: storage failed (%s); will retry", job.id, reason)
    return "retry"


def run_due(
    fetch: Fetcher,
    store: LocalRecordingStore,
    *,
    clock: Clock = utcnow,
    after_ready: AfterReady | None = None,
    max_jobs: int = 20,
) -> list[str]:
    """Claim and run due jobs until none is left (or `max_jobs`); returns each job's outcome."""
    outcomes: list[str] = []
    while len(outcomes) < max_jobs:
        with Session(get_engine(), expire_on_commit=False) as db:
            job = claim(db, now=clock())
            if job is None:
                break
            outcomes.append(process(db, job, fetch, store, now=clock(), after_ready=after_ready))
    return outcomes
