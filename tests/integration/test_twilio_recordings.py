"""The recording download job under faults: 5xx, timeouts, truncation, 404, our disk failing, restarts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, select

from call_center.core.config import reset_settings
from call_center.core.db import get_engine
from call_center.models import Recording, RecordingJob, RecordingStatus
from call_center.models.base import utcnow
from call_center.services import recording_jobs
from call_center.services.calls import create_call
from call_center.services.recordings import StorageError, get_store, start_recording
from call_center.telephony.twilio.provider import TwilioProvider
from tests.support.fake_twilio import (  # noqa: F401 (fixtures)
    ACCOUNT_SID,
    API_KEY,
    account_path,
    fake_twilio,
    make_mp3,
    signed_post,
    twilio_settings,
)

MP3 = make_mp3(2, seconds=2.0)


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class Script:
    """Answers media requests in order: an httpx.Response, or an exception class to raise."""

    def __init__(self, *steps: httpx.Response | Callable[[httpx.Request], httpx.Response]):
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.steps:
            raise AssertionError(f"no more scripted answers for {request.url}")
        step = self.steps.pop(0)
        return step(request) if callable(step) else step


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("no answer", request=request)


def ok() -> httpx.Response:
    return httpx.Response(200, content=MP3, headers={"content-type": "audio/mpeg"})


def truncated() -> httpx.Response:
    return httpx.Response(200, content=MP3[: len(MP3) // 2], headers={"content-length": str(len(MP3))})


@pytest.fixture
def job(db, twilio_settings) -> RecordingJob:  # noqa: F811
    call = create_call(
        db, provider="twilio", call_sid=f"CA{uuid.uuid4().hex}", direction="outbound",
        from_number="+20221234567", to_number="+201001234567", customer_number="+201001234567",
    )  # fmt: skip
    recording = start_recording(db, call, provider_recording_sid="RE" + uuid.uuid4().hex)
    recording.duration_seconds, recording.channels = 2.0, 2
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording.provider_recording_sid}"
    created = recording_jobs.enqueue(db, recording, url + ".mp3?RequestedChannels=2")
    db.commit()
    return created


def provider(script: Script, clock: Clock, **kw) -> TwilioProvider:
    return TwilioProvider(media_transport=httpx.MockTransport(script), clock=clock, **kw)


def reload(job: RecordingJob) -> tuple[RecordingJob, Recording]:
    with Session(get_engine()) as db:
        fresh = db.get(RecordingJob, job.id)
        recording = db.get(Recording, fresh.recording_id)
        db.expunge_all()
        return fresh, recording


def test_5xx_timeout_and_truncation_are_retried_with_backoff_then_it_is_ready(job):
    clock, script = Clock(), Script(httpx.Response(503), timeout, truncated(), ok())
    twilio = provider(script, clock)
    delays = []
    for expected in ("retry", "retry", "retry"):
        assert twilio.run_jobs_once() == [expected]
        state, recording = reload(job)
        assert recording.status == RecordingStatus.PROCESSING and state.locked_until is None
        delays.append(state.next_attempt_at - clock.now)
        assert twilio.run_jobs_once() == []  # not due yet: no request made
        clock.advance(delays[-1])
    assert delays == [timedelta(seconds=15), timedelta(seconds=30), timedelta(seconds=60)]
    assert twilio.run_jobs_once() == ["ready"]
    state, recording = reload(job)
    assert state.done and state.attempts == 4 and state.last_error is None
    assert recording.status == RecordingStatus.READY
    assert (recording.size_bytes, recording.channels, recording.duration_seconds) == (len(MP3), 2, 2.0)
    with get_store().open(recording.storage_key) as handle:
        assert handle.read() == MP3
    assert all(r.headers["authorization"].startswith("Basic ") for r in script.requests)


def test_a_404_fails_at_once_with_the_reason(job):
    twilio = provider(Script(httpx.Response(404)), Clock())
    assert twilio.run_jobs_once() == ["failed"]
    state, recording = reload(job)
    assert state.done and recording.status == RecordingStatus.FAILED
    assert recording.reason == "download failed: Twilio answered HTTP 404 (recording unavailable)"


def test_it_gives_up_after_the_last_attempt(job):
    clock = Clock()
    twilio = provider(Script(*[httpx.Response(500)] * recording_jobs.MAX_ATTEMPTS), clock)
    outcomes = []
    for _ in range(recording_jobs.MAX_ATTEMPTS):
        outcomes += twilio.run_jobs_once()
        clock.advance(recording_jobs.MAX_DELAY)
    assert outcomes == ["retry"] * (recording_jobs.MAX_ATTEMPTS - 1) + ["failed"]
    _, recording = reload(job)
    assert (
        recording.reason
        == f"download failed after {recording_jobs.MAX_ATTEMPTS} attempts: Twilio answered HTTP 500"
    )


class Crash(BaseException):
    """The worker process dying (not an Exception: nothing in the job code may catch it)."""


def test_a_worker_dying_mid_job_loses_nothing(job):
    clock = Clock()

    def die(request: httpx.Request) -> httpx.Response:
        raise Crash

    with pytest.raises(Crash):
        provider(Script(die), clock).run_jobs_once()
    state, recording = reload(job)
    assert (
        not state.done and state.locked_until is not None and recording.status == RecordingStatus.PROCESSING
    )
    restarted = provider(Script(ok()), clock)
    assert restarted.run_jobs_once() == []  # the dead worker's lease still holds
    clock.advance(recording_jobs.LEASE + timedelta(seconds=1))
    assert restarted.run_jobs_once() == ["ready"]
    state, recording = reload(job)
    assert state.done and state.attempts == 2 and recording.status == RecordingStatus.READY
    leftovers = [p for p in get_store().root.rglob("*") if p.is_file() and p.suffix != ".mp3"]
    assert leftovers == []


def test_a_crash_while_storing_leaves_no_partial_file(job, monkeypatch):
    clock = Clock()
    original = get_store().put_bytes.__func__  # type: ignore[attr-defined]

    def dying_write(self, key: str, data: bytes) -> int:
        original(self, key + ".ignored", data[: len(data) // 3])  # what a torn write would leave, elsewhere
        raise Crash

    monkeypatch.setattr("call_center.services.recordings.LocalRecordingStore.put_bytes", dying_write)
    with pytest.raises(Crash):
        provider(Script(ok()), clock).run_jobs_once()
    monkeypatch.undo()
    _, recording = reload(job)
    assert recording.storage_key is None
    clock.advance(recording_jobs.LEASE + timedelta(seconds=1))
    assert provider(Script(ok()), clock).run_jobs_once() == ["ready"]
    _, recording = reload(job)
    assert get_store().size(recording.storage_key) == len(MP3)


def test_our_disk_failing_never_fails_the_recording(job, monkeypatch):
    clock = Clock()

    def full(self, key: str, data: bytes) -> int:
        raise StorageError("could not store: No space left on device")

    monkeypatch.setattr("call_center.services.recordings.LocalRecordingStore.put_bytes", full)
    twilio = provider(Script(*[ok()] * (recording_jobs.MAX_ATTEMPTS + 2)), clock)
    for _ in range(recording_jobs.MAX_ATTEMPTS + 2):
        assert twilio.run_jobs_once() == ["retry"]
        clock.advance(recording_jobs.STORAGE_RETRY)
    state, recording = reload(job)
    assert not state.done and state.attempts == 0 and "No space left" in state.last_error
    assert recording.status == RecordingStatus.PROCESSING
    monkeypatch.undo()
    assert provider(Script(ok()), clock).run_jobs_once() == ["ready"]


def test_only_one_worker_claims_a_job(job):
    now = utcnow()
    with Session(get_engine()) as a, Session(get_engine()) as b:
        assert recording_jobs.claim(a, now=now) is not None
        assert recording_jobs.claim(b, now=now) is None


def test_twilios_copy_is_deleted_only_after_a_verified_download(job, monkeypatch, fake_twilio):  # noqa: F811
    monkeypatch.setenv("TWILIO_DELETE_AFTER_DOWNLOAD", "true")
    reset_settings()
    _, recording = reload(job)
    path = account_path(f"Recordings/{recording.provider_recording_sid}.json")
    fake_twilio.on("DELETE", path, None, status=204)
    twilio = provider(Script(ok()), Clock(), http_client=fake_twilio)
    assert twilio.run_jobs_once() == ["ready"]
    deletes = fake_twilio.calls_to("DELETE", path)
    assert len(deletes) == 1 and deletes[0].username == API_KEY
    _, recording = reload(job)
    get_store().put_bytes(recording.storage_key, MP3[:100])  # our copy no longer matches what was verified
    assert twilio.delete_twilio_copies([recording.provider_recording_sid]) == []
    assert len(fake_twilio.calls_to("DELETE", path)) == 1


def test_from_the_recording_callback_to_our_store(client, twilio_settings, agent, db):  # noqa: F811
    sid, rec = f"CA{uuid.uuid4().hex}", "RE" + uuid.uuid4().hex
    twiml = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": sid,
        "From": f"client:agent_{agent.id}",
        "To": "01001234567",
    }
    assert "<Dial" in signed_post(client, "/api/calls/twiml/outbound", twiml).text
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{rec}"
    callback = {
        "AccountSid": ACCOUNT_SID, "CallSid": sid, "RecordingSid": rec, "RecordingUrl": url,
        "RecordingStatus": "completed", "RecordingDuration": "2", "RecordingChannels": "2",
    }  # fmt: skip
    assert signed_post(client, "/api/calls/webhook/recording", callback).status_code == 204
    script = Script(ok())
    assert provider(script, Clock()).run_jobs_once() == ["ready"]
    assert str(script.requests[0].url) == url + ".mp3?RequestedChannels=2"
    recording = db.exec(select(Recording).where(Recording.provider_recording_sid == rec)).one()
    assert recording.status == RecordingStatus.READY and recording.storage_key.endswith(f"-{rec}.mp3")
    with get_store().open(recording.storage_key) as handle:
        assert handle.read() == MP3
