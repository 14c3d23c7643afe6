"""Recordings: our own store (the browser never sees a provider URL) and the Recording rows' lifecycle."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlencode

from sqlalchemy import func
from sqlmodel import Session, col, select

from call_center.core import security
from call_center.core.config import get_settings
from call_center.core.files import fsync_path
from call_center.models import Agent, Call, CallParty, Recording, RecordingPublic, RecordingStatus, Role
from call_center.models.base import utcnow
from call_center.services import history
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
            fsync_path(target.parent)
        except OSError as exc:
            raise StorageError(f"could not store {key}: {exc.strerror or exc}") from exc
        return len(data)

    def adopt(self, key: str, source: Path) -> int:
        """Move an already complete file (written and fsynced by the caller) into the store."""
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            fsync_path(target.parent)
            return target.stat().st_size
        except OSError as exc:
            raise StorageError(f"could not store {key}: {exc.strerror or exc}") from exc

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


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
    _mirror(db, call, recording)
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
        _mirror(db, call, recording)
        publish_call(db, call)
        if recording.status == RecordingStatus.READY or recording.status in RecordingStatus.GONE:
            from call_center.services import callbacks

            callbacks.recording_changed(db, call)  # an unanswered call's recording is a voicemail


def _mirror(db: Session, call: Call, recording: Recording) -> None:
    """Keep the call's copy of its latest recording current (the history filters on it)."""
    if call.recording_id is None or (recording.id or 0) >= call.recording_id:
        call.recording_id, call.recording_status = recording.id, recording.status
        db.add(call)
        db.flush()


# Delivery ---------------------------------------------------------------------------------------------

SIGN_PURPOSE = "recording"
SIGNED_TTL = 3600


def media_path(recording_id: int) -> str:
    return f"/api/recordings/{recording_id}.mp3"


def signed_path(recording_id: int, *, download: bool = False, ttl: int = SIGNED_TTL) -> str:
    """A link to the MP3 that works without a session until it expires (for integrations)."""
    expires, signature = security.sign(SIGN_PURPOSE, str(recording_id), ttl)
    query = urlencode({"expires": expires, "sig": signature, **({"download": 1} if download else {})})
    return f"{media_path(recording_id)}?{query}"


def signature_ok(recording_id: int, expires: int | None, signature: str | None) -> bool:
    if expires is None or not signature:
        return False
    return security.verify_signed(SIGN_PURPOSE, str(recording_id), expires, signature)


def can_view(db: Session, viewer: Agent, call: Call) -> bool:
    """Admins hear every call; agents their own (theirs now, or one they had before a transfer)."""
    if viewer.role in Role.SEES_EVERY_CALL or (call.agent_id is not None and call.agent_id == viewer.id):
        return True
    took_part = select(CallParty.id).where(CallParty.call_id == call.id, CallParty.agent_id == viewer.id)
    return db.exec(took_part).first() is not None


def download_name(call: Call) -> str:
    """A meaningful file name: call-2026-11-23-1405-+201001234567.mp3 (local time of the call's start)."""
    local = call.created_at.astimezone(get_settings().zone)
    number = re.sub(r"[^0-9+]", "", call.customer_number) or "unknown"
    return f"call-{local:%Y-%m-%d-%H%M}-{number}.mp3"


def to_public(recording: Recording, call: Call, base_url: str) -> RecordingPublic:
    ready = recording.status == RecordingStatus.READY and recording.id is not None
    return RecordingPublic(
        id=recording.id or 0,
        sid=recording.provider_recording_sid,
        call_id=recording.call_id,
        call_sid=call.provider_call_sid,
        status=recording.status,
        reason=recording.reason,
        duration=recording.duration_seconds,
        channels=recording.channels,
        size_bytes=recording.size_bytes,
        date_created=recording.created_at,
        url=base_url + signed_path(recording.id or 0) if ready else None,
        download_url=base_url + signed_path(recording.id or 0, download=True) if ready else None,
    )


def list_recordings(
    db: Session, viewer: Agent, *, limit: int = 50, page: int = 1, call_sid: str | None = None
) -> tuple[list[RecordingPublic], int]:
    """Recordings the viewer may hear, newest first (optionally of one call, by the provider's call id)."""
    query = select(Recording, Call).join(Call, col(Recording.call_id) == col(Call.id))
    if viewer.role not in Role.SEES_EVERY_CALL:
        query = query.where(history.of_agent(viewer.id or 0))
    if call_sid:
        query = query.where(history.with_call_sid(db, call_sid))
    total = int(db.exec(select(func.count()).select_from(query.subquery())).one())
    rows = db.exec(
        query.order_by(col(Recording.created_at).desc(), col(Recording.id).desc())
        .offset((page - 1) * limit)
        .limit(limit)
    ).all()
    base = get_settings().public_base_url
    return [to_public(recording, call, base) for recording, call in rows], total


def recordings_for_call(db: Session, call_id: int) -> list[Recording]:
    return list(db.exec(select(Recording).where(Recording.call_id == call_id).order_by(col(Recording.id))))


def swap_channels(mp3: bytes) -> bytes:
    """A two-channel MP3 with its channels swapped (same rate, a fresh encode); ValueError for a file that
    cannot be decoded."""
    import io

    import av
    import numpy as np

    from call_center.core import mp3 as encoder

    chunks, rate = [], 8000
    try:
        with av.open(io.BytesIO(mp3), "r") as source:
            stream = source.streams.audio[0]
            rate = stream.codec_context.sample_rate
            for frame in source.decode(stream):
                data = frame.to_ndarray()
                if not frame.format.is_planar:
                    data = data.reshape(-1, len(frame.layout.channels)).T
                if data.dtype != np.float32:
                    data = data.astype(np.float32) / float(np.iinfo(data.dtype).max)  # type: ignore[type-var]
                chunks.append(data)
    except av.error.FFmpegError as exc:
        raise ValueError(f"not a readable MP3: {exc}") from None
    audio = np.concatenate(chunks, axis=1)[::-1]  # right <-> left
    return encoder.encode((np.clip(audio, -1, 1) * 32767).astype(np.int16), rate)
