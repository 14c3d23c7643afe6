"""TwiML asserted as exact XML: what Twilio executes is exactly this document."""

from __future__ import annotations

from call_center.telephony.twilio import twiml

CB = twiml.Callbacks(
    status="https://calls.example.com/api/calls/webhook/status",
    recording="https://calls.example.com/api/calls/webhook/recording",
    after_dial="https://calls.example.com/api/calls/twiml/inbound/after-dial",
    hangup="https://calls.example.com/api/calls/twiml/hangup",
)
HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


def test_dial_number_bridges_records_dual_and_reports_the_customer_leg():
    xml = str(twiml.dial_number("+201001234567", caller_id="+20221234567", timeout=30, callbacks=CB))
    assert xml == (
        HEAD + "<Response>"
        '<Dial answerOnBridge="true" callerId="+20221234567" record="record-from-answer-dual" '
        'recordingStatusCallback="https://calls.example.com/api/calls/webhook/recording" '
        'recordingStatusCallbackEvent="completed absent" timeout="30">'
        '<Number statusCallback="https://calls.example.com/api/calls/webhook/status" '
        'statusCallbackEvent="initiated ringing answered completed" statusCallbackMethod="POST">'
        "+201001234567</Number></Dial></Response>"
    )


def test_refusal_speaks_the_agents_language_and_hangs_up():
    assert str(twiml.refuse("twilio.say.country", "ar")) == (
        HEAD + '<Response><Say language="ar-XA">غير مسموح بالاتصال بهذه الدولة.</Say><Hangup /></Response>'
    )
    assert str(twiml.refuse("twilio.say.rate", "en")) == (
        HEAD + '<Response><Say language="en-US">You have started too many calls in the last minute. '
        "Please wait a moment and try again.</Say><Hangup /></Response>"
    )


def test_ring_agents_dials_every_client_with_the_caller_name():
    agents = [twiml.AgentTarget("agent_3", 9, "شركة النور"), twiml.AgentTarget("agent_4", 9, None)]
    xml = str(twiml.ring_agents(agents, timeout=25, callbacks=CB))
    client = (
        '<Client statusCallback="https://calls.example.com/api/calls/webhook/status" '
        'statusCallbackEvent="initiated ringing answered completed" statusCallbackMethod="POST">'
    )
    assert xml == (
        HEAD + "<Response>"
        '<Dial action="https://calls.example.com/api/calls/twiml/inbound/after-dial" answerOnBridge="true" '
        'method="POST" record="record-from-answer-dual" '
        'recordingStatusCallback="https://calls.example.com/api/calls/webhook/recording" '
        'recordingStatusCallbackEvent="completed absent" timeout="25">'
        + client
        + '<Identity>agent_3</Identity><Parameter name="callId" value="9" />'
        '<Parameter name="callerName" value="شركة النور" /></Client>'
        + client
        + '<Identity>agent_4</Identity><Parameter name="callId" value="9" /></Client>'
        "</Dial></Response>"
    )


def test_voicemail_records_and_ends_instead_of_looping():
    xml = str(twiml.voicemail(CB))
    assert xml == (
        HEAD + "<Response>"
        '<Say language="ar-XA">لا يوجد موظف متاح الآن. اترك رسالتك بعد سماع الصافرة.</Say>'
        '<Say language="en-US">No one is available to take your call. '
        "Please leave a message after the beep.</Say>"
        '<Record action="https://calls.example.com/api/calls/twiml/hangup" maxLength="120" method="POST" '
        'playBeep="true" recordingStatusCallback="https://calls.example.com/api/calls/webhook/recording" '
        'recordingStatusCallbackEvent="completed absent" />'
        "<Hangup /></Response>"
    )


def test_hangup():
    assert str(twiml.hangup()) == HEAD + "<Response><Hangup /></Response>"
