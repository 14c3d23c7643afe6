"""TwiML routes on a real database: the call is created, validated, guarded, and the XML is exact."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from call_center.models import Availability, Call, CallEvent, CallStatus, Contact, Direction
from tests.conftest import make_agent
from tests.support.fake_twilio import (  # noqa: F401 (fixtures)
    ACCOUNT_SID,
    APP_SID,
    CALLER_ID,
    PUBLIC_URL,
    signed_post,
    twilio_settings,
)
from tests.support.softphones import online

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
STATUS = f"{PUBLIC_URL}/api/calls/webhook/status"
RECORDING = f"{PUBLIC_URL}/api/calls/webhook/recording"
CONFERENCE = f"{PUBLIC_URL}/api/calls/webhook/conference"
NOTICE = (  # the recording notice every incoming caller hears first (RECORDING_NOTICE)
    '<Say language="ar-XA">مرحباً بك. قد يتم تسجيل هذه المكالمة لضمان جودة الخدمة.</Say>'
    '<Say language="en-US">Welcome. This call may be recorded for quality purposes.</Say>'
)


def outbound(agent_id: int, to: str, sid: str | None = None) -> dict[str, str]:
    """What Twilio posts to the TwiML App's voice URL when a browser calls `device.connect({To})`."""
    return {
        "AccountSid": ACCOUNT_SID,
        "ApplicationSid": APP_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": sid or f"CA{uuid.uuid4().hex}",
        "CallStatus": "ringing",
        "Direction": "inbound",
        "Caller": f"client:agent_{agent_id}",
        "From": f"client:agent_{agent_id}",
        "To": to,
    }


def room_xml(call_id: int) -> str:
    """The agent's browser joins the call's room (the customer is dialled once it is in: see
    test_twilio_conference.py)."""
    return (
        HEAD + "<Response><Dial>"
        f'<Conference beep="false" endConferenceOnExit="true" participantLabel="agent" '
        f'startConferenceOnEnter="true" statusCallback="{CONFERENCE}?call={call_id}" '
        'statusCallbackEvent="start end join leave hold" statusCallbackMethod="POST" '
        f'waitMethod="POST" waitUrl="">call-{call_id}</Conference></Dial></Response>'
    )


@pytest.fixture
def twilio_client(client, twilio_settings):  # noqa: F811
    return client


def test_outbound_normalises_the_number_and_creates_the_call(twilio_client, agent, db):
    params = outbound(agent.id, "01001234567")
    response = signed_post(twilio_client, "/api/calls/twiml/outbound", params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    call = db.exec(select(Call).where(Call.provider_call_sid == params["CallSid"])).one()
    assert response.text == room_xml(call.id)
    assert (call.provider, call.direction, call.agent_id) == ("twilio", Direction.OUTBOUND, agent.id)
    assert (call.customer_number, call.to_number, call.from_number) == ("+201001234567",) * 2 + (CALLER_ID,)


def test_a_retried_twiml_request_is_the_same_call(twilio_client, agent, db):
    params = outbound(agent.id, "+20 100 123 4567")
    first = signed_post(twilio_client, "/api/calls/twiml/outbound", params)
    again = signed_post(twilio_client, "/api/calls/twiml/outbound", params)
    calls = db.exec(select(Call).where(Call.provider_call_sid == params["CallSid"])).all()
    assert len(calls) == 1
    assert first.text == again.text == room_xml(calls[0].id)


def _refused_call(db, sid: str) -> Call:
    call = db.exec(select(Call).where(Call.provider_call_sid == sid)).one()
    db.refresh(call)
    return call


def test_a_country_outside_the_allowed_list_is_refused_in_english(twilio_client, db):
    agent = make_agent(db, email="en@example.com")
    agent.language = "en"
    db.add(agent)
    db.commit()
    params = outbound(agent.id, "+12025550143")
    response = signed_post(twilio_client, "/api/calls/twiml/outbound", params)
    assert response.text == (
        HEAD
        + '<Response><Say language="en-US">Calls to this country are not allowed.</Say><Hangup /></Response>'
    )
    call = _refused_call(db, params["CallSid"])
    assert call.status == CallStatus.FAILED and call.agent_id == agent.id
    assert call.customer_number == "+12025550143"
    assert call.hangup_reason == "dial.error.country"  # an i18n key: the history says it in each language
    event = db.exec(select(CallEvent).where(CallEvent.call_id == call.id)).one()
    assert event.status == CallStatus.FAILED and "calls to US are not allowed" in event.payload


def test_an_invalid_number_is_refused_in_arabic(twilio_client, agent, db):
    params = outbound(agent.id, "12")
    response = signed_post(twilio_client, "/api/calls/twiml/outbound", params)
    assert response.text == (
        HEAD + '<Response><Say language="ar-XA">الرقم الذي طلبته غير صحيح. تحقق منه وحاول مرة أخرى.</Say>'
        "<Hangup /></Response>"
    )
    assert _refused_call(db, params["CallSid"]).status == CallStatus.FAILED


def test_the_per_agent_rate_limit_applies(twilio_client, agent, db, monkeypatch):
    monkeypatch.setenv("CALLS_PER_MINUTE", "2")
    from call_center.core.config import reset_settings

    reset_settings()
    texts = [
        signed_post(twilio_client, "/api/calls/twiml/outbound", outbound(agent.id, "01001234567")).text
        for _ in range(3)
    ]
    assert all("<Conference " in text for text in texts[:2])
    assert "<Say" in texts[2] and "<Dial" not in texts[2]


def test_only_an_active_agent_can_dial(twilio_client, agent, db):
    agent.is_active = False
    db.add(agent)
    db.commit()
    for caller in (agent.id, 9999):
        params = outbound(caller, "01001234567")
        response = signed_post(twilio_client, "/api/calls/twiml/outbound", params)
        assert "<Dial" not in response.text and "<Hangup />" in response.text
        assert db.exec(select(Call).where(Call.provider_call_sid == params["CallSid"])).first() is None


def inbound(sid: str, caller: str = "+201001112223") -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "CallSid": sid,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": caller,
        "To": CALLER_ID,
    }


def test_inbound_waits_in_the_room_while_the_online_agents_ring(twilio_client, agent, db):
    agent.availability = Availability.AVAILABLE
    db.add(agent)
    db.add(Contact(name="شركة النور", phone="+201001112223"))
    db.commit()
    sid = f"CA{uuid.uuid4().hex}"
    with online(twilio_client.app, agent.email, base_url=PUBLIC_URL):  # the agent's softphone is registered
        response = signed_post(twilio_client, "/api/calls/twiml/inbound", inbound(sid))
    call = db.exec(select(Call).where(Call.provider_call_sid == sid)).one()
    assert (call.direction, call.customer_number, call.agent_id) == (Direction.INBOUND, "+201001112223", None)
    assert call.contact_id is not None
    assert response.text == (
        HEAD + "<Response>" + NOTICE + "<Dial>"
        f'<Conference beep="false" endConferenceOnExit="true" participantLabel="customer" '
        f'startConferenceOnEnter="false" statusCallback="{CONFERENCE}?call={call.id}" '
        'statusCallbackEvent="start end join leave hold" statusCallbackMethod="POST" '
        f'waitMethod="POST" waitUrl="{PUBLIC_URL}/api/calls/twiml/wait?call={call.id}">'
        f"call-{call.id}</Conference>"
        "</Dial></Response>"
    )


def test_an_available_agent_without_a_registered_softphone_is_not_rung(twilio_client, agent, db):
    agent.availability = Availability.AVAILABLE
    db.add(agent)
    db.commit()
    sid = f"CA{uuid.uuid4().hex}"
    response = signed_post(twilio_client, "/api/calls/twiml/inbound", inbound(sid))
    assert "<Record " in response.text and "<Conference" not in response.text


def test_inbound_with_nobody_available_goes_to_voicemail(twilio_client, db):
    sid = f"CA{uuid.uuid4().hex}"
    response = signed_post(twilio_client, "/api/calls/twiml/inbound", inbound(sid, "anonymous"))
    assert "<Record " in response.text and f'action="{PUBLIC_URL}/api/calls/twiml/hangup"' in response.text
    call = _refused_call(db, sid)
    assert call.status == CallStatus.NO_ANSWER and call.customer_number == "anonymous"
    assert call.hangup_reason == "call.error.no_agents"


@pytest.mark.parametrize(
    ("outcome", "status", "voicemail"),
    [("completed", CallStatus.INITIATED, False), ("no-answer", CallStatus.NO_ANSWER, True),
     ("busy", CallStatus.BUSY, True), ("canceled", CallStatus.CANCELED, False)],
)  # fmt: skip
def test_after_the_dial(twilio_client, agent, db, outcome, status, voicemail):
    """The `<Dial>` action of calls from before rooms (a deploy while such a call rang)."""
    agent.availability = Availability.AVAILABLE
    db.add(agent)
    db.commit()
    sid = f"CA{uuid.uuid4().hex}"
    with online(twilio_client.app, agent.email, base_url=PUBLIC_URL):
        assert "<Conference " in signed_post(twilio_client, "/api/calls/twiml/inbound", inbound(sid)).text
    params = {**inbound(sid), "DialCallStatus": outcome, "CallStatus": "in-progress"}
    response = signed_post(twilio_client, "/api/calls/twiml/inbound/after-dial", params)
    if voicemail:
        assert "<Record " in response.text and "<Dial" not in response.text
    else:
        assert response.text == HEAD + "<Response><Hangup /></Response>"
    assert _refused_call(db, sid).status == status


def test_hangup_route(twilio_client):
    params = {"CallSid": "CA1", "RecordingUrl": "https://api.twilio.com/x"}
    response = signed_post(twilio_client, "/api/calls/twiml/hangup", params)
    assert response.text == HEAD + "<Response><Hangup /></Response>"
