"""Reconcile: what the webhooks missed is applied from the REST API (paged), once, and only for our calls."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from call_center.models import (
    Availability,
    Call,
    CallEvent,
    CallStatus,
    Recording,
    RecordingJob,
    RecordingStatus,
)
from call_center.services.recordings import get_store, mark_ready, start_recording
from call_center.telephony.twilio.provider import TwilioProvider
from tests.conftest import make_agent
from tests.support.fake_twilio import (  # noqa: F401 (fixtures)
    ACCOUNT_SID,
    API_KEY,
    CALLER_ID,
    PUBLIC_URL,
    account_path,
    fake_twilio,
    make_mp3,
    page,
    signed_post,
    twilio_settings,
)
from tests.support.softphones import online

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
CUSTOMER = "+201001234567"
FOREIGN = "CA" + "f" * 32  # a call on the account that is not ours


def rfc2822(at: datetime) -> str:
    return at.strftime("%a, %d %b %Y %H:%M:%S +0000")


def call_record(sid, status, *, frm, to, parent=None, start=0, end=None, duration=None):
    return {
        "sid": sid, "parent_call_sid": parent, "account_sid": ACCOUNT_SID, "from": frm, "to": to,
        "status": status, "start_time": rfc2822(T0 + timedelta(seconds=start)),
        "end_time": rfc2822(T0 + timedelta(seconds=end)) if end is not None else None,
        "duration": str(duration) if duration is not None else None,
        "direction": "outbound-dial" if parent else "inbound",
    }  # fmt: skip


def recording_record(sid, call_sid, status="completed"):
    return {
        "sid": sid, "call_sid": call_sid, "account_sid": ACCOUNT_SID, "status": status, "channels": 2,
        "duration": "60", "source": "DialVerb",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}.json",
    }  # fmt: skip


@pytest.fixture
def calls(client, twilio_settings, agent, db):  # noqa: F811
    """An outbound call whose callbacks were mostly lost, and an incoming call with none at all."""
    other = make_agent(db, email="inbound@example.com")  # the first agent is busy on the outbound call
    other.availability = Availability.AVAILABLE
    db.add(other)
    db.commit()
    out, inc = f"CA{uuid.uuid4().hex}", f"CA{uuid.uuid4().hex}"
    twiml = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": out,
        "From": f"client:agent_{agent.id}",
        "To": "01001234567",
    }
    assert "<Conference " in signed_post(client, "/api/calls/twiml/outbound", twiml).text
    ringing = {
        "CallSid": "CB" + out[2:],
        "ParentCallSid": out,
        "CallStatus": "ringing",
        "To": CUSTOMER,
        "From": CALLER_ID,
        "SequenceNumber": "1",
        "Timestamp": rfc2822(T0 + timedelta(seconds=1)),
    }
    assert signed_post(client, "/api/calls/webhook/status", ringing).status_code == 204
    inbound = {"AccountSid": ACCOUNT_SID, "CallSid": inc, "From": "+201001112223", "To": CALLER_ID}
    with online(client.app, other.email, base_url=PUBLIC_URL):  # the other agent's softphone is registered
        assert "<Conference " in signed_post(client, "/api/calls/twiml/inbound", inbound).text
    return out, inc, other.id


def script_twilio(fake, out: str, inc: str, agent_id: int, other_id: int) -> None:
    since = (NOW - timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = page(
        "calls",
        [
            call_record(out, "completed", frm=f"client:agent_{agent_id}", to=CUSTOMER, end=66, duration=66),
            call_record("CB" + out[2:], "completed", frm=CALLER_ID, to=CUSTOMER, parent=out, end=65,
                        duration=60),
            call_record(FOREIGN, "completed", frm="+15005550006", to="+15005550009", end=9, duration=9),
        ],
        next_page_uri=account_path("Calls.json?PageSize=100&Page=1&PageToken=PAnext"),
    )  # fmt: skip
    second = page(
        "calls",
        [
            call_record(inc, "completed", frm="+201001112223", to=CALLER_ID, end=50, duration=50),
            call_record("CB" + inc[2:], "completed", frm="+201001112223", to=f"client:agent_{other_id}",
                        parent=inc, start=2, end=48, duration=40),
            call_record("CC" + out[2:], "ringing", frm=CALLER_ID, to="+201001234567", parent=out),
        ],
    )  # fmt: skip
    fake.on(
        "GET", account_path("Calls.json"), first, params={"StartTime>": since, "PageSize": "100"}, times=2
    )
    fake.on("GET", account_path("Calls.json"), second, params={"PageToken": "PAnext"}, times=2)
    recordings = page(
        "recordings",
        [recording_record("RE" + out[2:], out), recording_record("RE" + "f" * 32, FOREIGN)],
    )
    fake.on(
        "GET", account_path("Recordings.json"), recordings, params={"DateCreated>": since, "PageSize": "100"}
    )


def test_reconcile_applies_what_callbacks_missed_once(calls, agent, db, fake_twilio):  # noqa: F811
    out, inc, other_id = calls
    script_twilio(fake_twilio, out, inc, agent.id, other_id)
    twilio = TwilioProvider(http_client=fake_twilio, clock=lambda: NOW)
    report = twilio.reconcile_once()
    assert (report.calls_seen, report.recordings_seen, report.jobs_created) == (6, 2, 1)
    # per call: the parent leg's end, the child leg's answer and end (the ringing call proves nothing yet)
    assert report.events_applied == 6

    outbound = db.exec(select(Call).where(Call.provider_call_sid == out)).one()
    assert outbound.status == CallStatus.COMPLETED and outbound.duration_seconds == 60
    # the conversation ends with the customer's leg (65 s); the agent's browser leg going a second later
    # is a party leaving, not the call's end
    assert outbound.answered_at == T0 + timedelta(seconds=5)
    assert outbound.ended_at == T0 + timedelta(seconds=65)
    incoming = db.exec(select(Call).where(Call.provider_call_sid == inc)).one()
    assert incoming.status == CallStatus.COMPLETED and incoming.agent_id == other_id
    assert incoming.answered_at == T0 + timedelta(seconds=8)
    assert db.exec(select(CallEvent).where(CallEvent.provider_call_sid == FOREIGN)).all() == []
    recording = db.exec(select(Recording).where(Recording.call_id == outbound.id)).one()
    job = db.exec(select(RecordingJob).where(RecordingJob.recording_id == recording.id)).one()
    assert (
        job.source_url
        == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE{out[2:]}.mp3?RequestedChannels=2"
    )
    assert {r.username for r in fake_twilio.requests} == {API_KEY}

    db.commit()
    again = twilio.reconcile_once()  # the same listing: everything is a duplicate now
    assert (again.events_applied, again.jobs_created) == (0, 0)


def test_reconcile_deletes_twilios_copy_of_what_we_hold(calls, agent, db, fake_twilio, monkeypatch):  # noqa: F811
    from call_center.core.config import reset_settings

    monkeypatch.setenv("TWILIO_DELETE_AFTER_DOWNLOAD", "true")
    reset_settings()
    out, inc, other_id = calls
    script_twilio(fake_twilio, out, inc, agent.id, other_id)
    call = db.exec(select(Call).where(Call.provider_call_sid == out)).one()
    recording = start_recording(db, call, provider_recording_sid="RE" + out[2:])
    data = make_mp3(2)
    key = f"test/{recording.provider_recording_sid}.mp3"
    mark_ready(db, recording, key=key, size=get_store().put_bytes(key, data), duration=1.0, channels=2)
    assert recording.status == RecordingStatus.READY
    db.commit()
    path = account_path(f"Recordings/RE{out[2:]}.json")
    fake_twilio.on("DELETE", path, None, status=204)
    report = TwilioProvider(http_client=fake_twilio, clock=lambda: NOW).reconcile_once()
    assert report.ready_on_twilio == [f"RE{out[2:]}"] and report.jobs_created == 0
    assert len(fake_twilio.calls_to("DELETE", path)) == 1
