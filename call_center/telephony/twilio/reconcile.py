"""The safety net: list recent calls and recordings through the REST API and apply what callbacks missed.

Events made here have their own dedupe basis ("reconcile|<leg sid>|<status>"): stable across runs (the
second run is all duplicates) and distinct from the callbacks' (a callback and a reconcile fact of the same
status are both kept; the state machine folds them to the same result).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select
from twilio.rest import Client

from call_center.core.db import get_engine
from call_center.models import CallStatus, Recording, RecordingStatus
from call_center.services import recording_jobs
from call_center.services.calls import ProviderEvent, apply_event, find_call
from call_center.services.recordings import start_recording
from call_center.telephony.twilio.callbacks import PROVIDER, agent_id_of, give_to_agent
from call_center.telephony.twilio.client import media_url

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=6)
PAGE_SIZE = 100
MAX_RECORDS = 5000  # per run and per list: a bound, not a goal (a busy account reconciles in slices)


@dataclass
class Report:
    calls_seen: int = 0
    events_applied: int = 0
    recordings_seen: int = 0
    jobs_created: int = 0
    ready_on_twilio: list[str] = field(default_factory=list)  # recording SIDs we hold a verified copy of


def call_events(record: Any) -> list[ProviderEvent]:
    """The lifecycle facts one REST call record proves (none for a call still ringing)."""
    parent, sid, status = record.parent_call_sid, record.sid, (record.status or "").lower()
    if parent:
        leg: str | None = "agent" if (record.to or "").startswith("client:") else "customer"
    else:
        leg = "agent" if (record._from or "").startswith("client:") else None
    duration = int(record.duration) if str(record.duration or "").isdigit() else None
    raw = {
        "source": "reconcile",
        "sid": sid,
        "parent_call_sid": parent,
        "status": status,
        "start_time": record.start_time,
        "end_time": record.end_time,
        "duration": record.duration,
    }
    base = {
        "provider": PROVIDER,
        "call_sid": parent or sid,
        "leg": leg,
        "child_call_sid": sid if parent else None,
    }
    events = []
    # Only a child leg's answer is the customer (or, inbound, an agent) answering; a parent leg is
    # "in progress" as soon as Twilio runs its TwiML.
    answered = status == CallStatus.IN_PROGRESS or (status == CallStatus.COMPLETED and (duration or 0) > 0)
    if parent and answered:
        at = record.start_time
        if status == CallStatus.COMPLETED and record.end_time is not None and duration is not None:
            at = record.end_time - timedelta(seconds=duration)
        events.append(
            ProviderEvent(
                status=CallStatus.IN_PROGRESS, at=at, raw=raw, dedupe=f"reconcile|{sid}|answered", **base
            )
        )
    if status in CallStatus.TERMINAL:
        events.append(
            ProviderEvent(
                status=status,
                at=record.end_time,
                duration=duration if leg == "customer" else None,
                raw=raw,
                dedupe=f"reconcile|{sid}|{status}",
                **base,
            )
        )
    return events


def _calls(client: Client, since: datetime, report: Report) -> None:
    for record in client.calls.stream(start_time_after=since, page_size=PAGE_SIZE, limit=MAX_RECORDS):
        report.calls_seen += 1
        events = call_events(record)
        if not events:
            continue
        with Session(get_engine(), expire_on_commit=False) as db:
            # Calls on the account that are not ours (another app, a console test) are left alone.
            if find_call(db, PROVIDER, events[0].call_sid) is None:
                continue
            for event in events:
                result = apply_event(db, event)
                report.events_applied += 0 if result.duplicate else 1
            call = result.call
            if call is not None and record.parent_call_sid and events[0].status == CallStatus.IN_PROGRESS:
                give_to_agent(db, call, agent_id_of(record.to))


def _recording(db: Session, record: Any, report: Report) -> None:
    existing = db.exec(select(Recording).where(Recording.provider_recording_sid == record.sid)).first()
    if existing is not None:
        if existing.status == RecordingStatus.READY:
            report.ready_on_twilio.append(record.sid)
        return
    if (record.status or "").lower() != "completed":
        return
    call = find_call(db, PROVIDER, record.call_sid)
    if call is None:
        return
    recording = start_recording(db, call, provider_recording_sid=record.sid)
    recording.channels = record.channels
    recording.duration_seconds = float(record.duration) if str(record.duration or "").isdigit() else None
    db.add(recording)
    recording_jobs.enqueue(
        db, recording, media_url(record.media_url or record.uri, dual=record.channels != 1)
    )
    db.commit()
    report.jobs_created += 1
    logger.info("reconcile: recording %s of call %s was missed; download queued", record.sid, call.id)


def _recordings(client: Client, since: datetime, report: Report) -> None:
    for record in client.recordings.stream(date_created_after=since, page_size=PAGE_SIZE, limit=MAX_RECORDS):
        report.recordings_seen += 1
        with Session(get_engine(), expire_on_commit=False) as db:
            _recording(db, record, report)


def reconcile(
    client: Client,
    *,
    now: datetime,
    window: timedelta = WINDOW,
    delete_copy: Callable[[Iterable[str]], object] | None = None,
) -> Report:
    """One pass over the last `window` of calls and recordings."""
    report = Report()
    since = now - window
    _calls(client, since, report)
    _recordings(client, since, report)
    if delete_copy is not None and report.ready_on_twilio:
        delete_copy(report.ready_on_twilio)
    logger.info(
        "reconcile: %s calls, %s new events, %s recordings, %s new downloads",
        report.calls_seen,
        report.events_applied,
        report.recordings_seen,
        report.jobs_created,
    )
    return report
