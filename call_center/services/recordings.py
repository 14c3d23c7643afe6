"""Recordings: our own store (the browser never sees a provider URL) and the Recording rows' lifecycle."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session, col, select

from call_center.core.config import get_settings
from call_center.models import Call, Recording, RecordingStatus
from call_center.models.base import utcnow
from call_center.services.calls import publish_call
from call_center.services.errors import InvalidInput, NotFound

logger = logging.getLogger(__name__)

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,200}$")


class StorageError(Exception):
    """The store could not read or write (disk full, permissions...)."""


class LocalRecordingStore:
    """Recordings as files under one directory; writes are atomic (temp file, fsync, rename)."""

    def __init__(self, root: Path):
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        """The file for `key`; refuses anything that would leave the store (no path traversal)."""
        if not _KEY.match(key) or ".." in key.split("/"):
            raise InvalidInput("error.not_found", f"bad recording key {key!r}")
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise InvalidInput("error.not_found", f"bad recording key {key!r}")
        return path

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except FileNotFoundError:
            raise NotFound("error.not_found", f"recording file {key} is missing") from None

    def put_bytes(self, key: str, data: bytes) -> int:
        """Store `data` under `key` atomically; returns the size."""
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_dir(target.parent)
        except OSError as exc:
            raise StorageError(f"could not store {key}: {exc.strerror or exc}") from exc
        return len(data)

    def adopt(self, key: str, source: Path) -> int:
        """Move an already complete file (written and fsynced by the caller) into the store."""
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            _fsync_dir(target.parent)
            return target.stat().st_size
        except OSError as exc:
            raise StorageError(f"could not store {key}: {exc.strerror or exc}") from exc

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def get_store() -> LocalRecordingStore:
    return LocalRecordingStore(get_settings().recordings_dir)


def recording_key(call: Call, provider_ref: str) -> str:
    """Where a call's recording lives in the store, e.g. 2026/11/call-42-LC1a2b.mp3."""
    safe_ref = re.sub(r"[^A-Za-z0-9]", "", provider_ref)[:40] or "rec"
    return f"{call.created_at:%Y/%m}/call-{call.id}-{safe_ref}.mp3"


def start_recording(db: Session, call: Call, *, provider_recording_sid: str | None = None) -> Recording:
    """A `processing` recording for `call` (idempotent per provider recording id)."""
    if provider_recording_sid:
        existing = db.exec(
            select(Recording).where(Recording.provider_recording_sid == provider_recording_sid)
        ).first()
        if existing is not None:
            return existing
    recording = Recording(
        call_id=call.id,  # type: ignore[arg-type]
        provider=call.provider,
        provider_recording_sid=provider_recording_sid,
        status=RecordingStatus.PROCESSING,
    )
    db.add(recording)
    db.flush()
    publish_call(db, call)
    return recording


def mark_ready(
    db: Session, recording: Recording, *, key: str, size: int, duration: float | None, channels: int | None
) -> Recording:
    recording.status = RecordingStatus.READY
    recording.storage_key = key
    recording.size_bytes = size
    recording.duration_seconds = duration
    recording.channels = channels
    recording.reason = None
    recording.ready_at = recording.updated_at = utcnow()
    db.add(recording)
    db.flush()
    _publish(db, recording)
    logger.info("recording %s of call %s ready (%s bytes)", recording.id, recording.call_id, size)
    return recording


def mark_failed(db: Session, recording: Recording, reason: str) -> Recording:
    recording.status = RecordingStatus.FAILED
    recording.reason = reason[:255]
    recording.updated_at = utcnow()
    db.add(recording)
    db.flush()
    _publish(db, recording)
    logger.warning("recording %s of call %s failed: %s", recording.id, recording.call_id, reason)
    return recording


def _publish(db: Session, recording: Recording) -> None:
    call = db.get(Call, recording.call_id)
    if call is not None:
        publish_call(db, call)


def recordings_for_call(db: Session, call_id: int) -> list[Recording]:
    return list(db.exec(select(Recording).where(Recording.call_id == call_id).order_by(col(Recording.id))))
