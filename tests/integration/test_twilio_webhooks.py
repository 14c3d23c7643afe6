"""Signed webhooks on a real database: only Twilio gets in; callbacks drive the one state machine."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from call_center.models import (
    Call,
    CallEvent,
    CallStatus,
    Recording,
    RecordingJob,
    RecordingStatus,
)
from tests.support.fake_twilio import (  # noqa: F401 (fixtures)
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    sign,
    signed_post,
    status_params,
    twilio_settings,
)

STATUS = "/api/calls/webhook/status"
RECORDING = "/api/calls/webhook/recording"
AT = "Mon, 23 Nov 2026 14:05:{:02d} +0000"


@pytest.fixture
def twilio_client(client, twilio_settings):  # noqa: F811
    return client


@pytest.fixture
def call(twilio_client, agent, db) -> Call:
    """An outbound call as the TwiML route creates it."""
    sid = f"CA{uuid.uuid4().hex}"
    params = {
        "CallSid": sid,
        "From": f"client:agent_{agent.id}",
        "To": "01001234567",
        "AccountSid": ACCOUNT_SID,
    }
    assert "<Dial" in signed_post(twilio_client, "/api/calls/twiml/outbound", params).text
    found = db.exec(select(Call).where(Call.provider_call_sid == sid)).one()
    db.commit()  # end the read: a SQLite WAL reader would not see what the app writes next
    return found


def child(call: Call, status: str, second: int, seq: int, **extra: str) -> dict[str, str]:
    return status_params(
        call.provider_call_sid.replace("CA", "CB"), status, seq=seq, at=AT.format(second),
        parent=call.provider_call_sid, **extra,
    )  # fmt: skip


def fresh(db, row):
    """Re-read `row` in a new transaction (a SQLite WAL reader keeps the snapshot it began with)."""
    db.commit()
    db.refresh(row)
    return row


def post_raw(client, path: str, params: dict[str, str], signature: str | None):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post(path, content=urlencode(params), headers=headers)


# Signatures ---------------------------------------------------------------------------------------------
def test_signature_checks(twilio_client, call, db):
    params = child(call, "ringing", 1, 0)
    good = sign(STATUS, params)
    cases = {
        "missing": post_raw(twilio_client, STATUS, params, None),
        "forged": post_raw(twilio_client, STATUS, params, sign(STATUS, params, token="f" * 32)),
        "altered parameter": post_raw(twilio_client, STATUS, {**params, "CallStatus": "completed"}, good),
        "wrong URL": post_raw(
            twilio_client, STATUS, params, sign(STATUS, params, base="http://127.0.0.1:3000")
        ),
        "other route": post_raw(twilio_client, RECORDING, params, good),
    }
    for name, response in cases.items():
        assert response.status_code == 403, name
        assert response.json() == {
            "detail": {"code": "twilio.error.signature", "message": "missing or invalid X-Twilio-Signature"}
        }, name
    assert db.exec(select(CallEvent).where(CallEvent.kind == "status")).all() == []
    assert post_raw(twilio_client, STATUS, params, good).status_code == 204


def test_the_query_string_is_part_of_the_signed_url(twilio_client, call):
    params = child(call, "ringing", 1, 0)
    path = STATUS + "?source=number"
    assert post_raw(twilio_client, path, params, sign(path, params)).status_code == 204
    assert post_raw(twilio_client, path, params, sign(STATUS, params)).status_code == 403


def test_twiml_routes_need_a_signature_too(twilio_client):
    for path in ("/api/calls/twiml/outbound", "/api/calls/twiml/inbound", "/api/calls/twiml/hangup"):
        assert post_raw(twilio_client, path, {"CallSid": "CA1"}, "bogus").status_code == 403, path


def test_no_webhook_is_accepted_when_twilio_is_not_the_provider(client, database):
    params = {"CallSid": "CA1", "CallStatus": "ringing"}
    assert post_raw(client, STATUS, params, sign(STATUS, params)).status_code == 403


# Status callbacks ----------------------------------------------------------------------------------------
def test_a_call_through_its_callbacks(twilio_client, call, db):
    for params in (
        child(call, "initiated", 0, 0),
        child(call, "ringing", 1, 1),
        child(call, "in-progress", 5, 2),
        child(call, "completed", 65, 3, CallDuration="60", SipResponseCode="200"),
        status_params(call.provider_call_sid, "completed", seq=0, at=AT.format(66), CallDuration="66"),
    ):
        assert signed_post(twilio_client, STATUS, params).status_code == 204
    fresh(db, call)
    assert call.status == CallStatus.COMPLETED and call.duration_seconds == 60
    assert call.child_call_sid == call.provider_call_sid.replace("CA", "CB")
    assert call.answered_at == datetime(2026, 11, 23, 14, 5, 5, tzinfo=UTC)
    events = db.exec(select(CallEvent).where(CallEvent.call_id == call.id, CallEvent.kind == "status")).all()
    assert len(events) == 5
    raw = json.loads(events[0].payload)["raw"]
    assert raw["CallSid"] == call.child_call_sid and raw["ParentCallSid"] == call.provider_call_sid


def test_retries_are_duplicates_and_a_late_ringing_changes_nothing(twilio_client, call, db):
    done = child(call, "completed", 30, 3, CallDuration="25")
    for params in (child(call, "in-progress", 5, 2), done, done, child(call, "ringing", 1, 1)):
        assert signed_post(twilio_client, STATUS, params).status_code == 204
    fresh(db, call)
    assert call.status == CallStatus.COMPLETED and call.duration_seconds == 25
    assert len(db.exec(select(CallEvent).where(CallEvent.call_id == call.id)).all()) == 3


def test_a_busy_customer_has_a_reason(twilio_client, call, db):
    signed_post(twilio_client, STATUS, child(call, "busy", 3, 1, SipResponseCode="486"))
    fresh(db, call)
    assert call.status == CallStatus.BUSY and call.hangup_reason == "SIP 486 (busy)"


def test_an_unknown_status_is_a_bad_request(twilio_client, call):
    response = signed_post(twilio_client, STATUS, child(call, "exploded", 3, 1))
    assert response.status_code == 400


# Recording callbacks -------------------------------------------------------------------------------------
def recording_params(call: Call, status: str = "completed", sid: str = "RE" + "1" * 32, **extra: str):
    return {
        "AccountSid": ACCOUNT_SID,
        "CallSid": call.provider_call_sid,
        "RecordingSid": sid,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}",
        "RecordingStatus": status,
        "RecordingDuration": "60",
        "RecordingChannels": "2",
        "RecordingSource": "DialVerb",
        "RecordingStartTime": AT.format(5),
        **extra,
    }


def test_a_completed_recording_becomes_a_download_job(twilio_client, call, db):
    params = recording_params(call)
    for _ in range(2):  # the retry is a duplicate
        assert signed_post(twilio_client, RECORDING, params).status_code == 204
    recording = db.exec(select(Recording).where(Recording.call_id == call.id)).one()
    assert (
        recording.status == RecordingStatus.PROCESSING
        and recording.provider_recording_sid == params["RecordingSid"]
    )
    assert (recording.duration_seconds, recording.channels) == (60.0, 2)
    job = db.exec(select(RecordingJob).where(RecordingJob.recording_id == recording.id)).one()
    assert job.source_url == params["RecordingUrl"] + ".mp3?RequestedChannels=2"
    assert not job.done and job.attempts == 0
    kept = db.exec(select(CallEvent).where(CallEvent.kind == "recording")).all()
    assert len(kept) == 1 and json.loads(kept[0].payload) == params


def test_an_absent_recording_is_failed_with_a_reason(twilio_client, call, db):
    signed_post(twilio_client, RECORDING, recording_params(call, "absent", ErrorCode="16104"))
    recording = db.exec(select(Recording).where(Recording.call_id == call.id)).one()
    assert (
        recording.status == RecordingStatus.FAILED
        and recording.reason == "Twilio recording absent (error 16104)"
    )
    assert db.exec(select(RecordingJob)).all() == []


def test_a_recording_for_an_unknown_call_is_kept_but_not_fetched(twilio_client, call, db):
    other = Call(provider="twilio", provider_call_sid="CAunknown", direction="outbound", from_number="",
                 to_number="", customer_number="")  # fmt: skip
    assert signed_post(twilio_client, RECORDING, recording_params(other)).status_code == 204
    assert db.exec(select(Recording)).all() == []
    assert db.exec(select(CallEvent).where(CallEvent.kind == "recording")).one().call_id is None
