"""Mapping Twilio's callbacks onto ProviderEvent (no database needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from call_center.telephony.twilio.callbacks import agent_id_of, leg_of, parse_timestamp, to_event
from tests.support.fake_twilio import status_params

AT = "Mon, 23 Nov 2026 14:05:01 +0000"


def test_parent_browser_leg_is_the_agent():
    params = status_params("CAparent", "completed", seq=0, at=AT, CallDuration="66")
    assert leg_of(params) == ("CAparent", "agent", None)


def test_child_number_leg_is_the_customer_found_by_its_parent():
    params = status_params("CAchild", "ringing", seq=1, at=AT, parent="CAparent")
    assert leg_of(params) == ("CAparent", "customer", "CAchild")


def test_inbound_legs():
    parent = {"CallSid": "CAin", "From": "+201001234567", "To": "+20221234567", "CallStatus": "completed"}
    child = {"CallSid": "CAc", "ParentCallSid": "CAin", "To": "client:agent_5", "CallStatus": "in-progress"}
    assert leg_of(parent) == ("CAin", None, None)
    assert leg_of(child) == ("CAin", "agent", "CAc")
    assert agent_id_of("client:agent_5") == 5 and agent_id_of("client:bob") is None


def test_event_fields():
    params = status_params(
        "CAchild", "busy", seq=3, at=AT, parent="CAparent", SipResponseCode="486", CallDuration="0"
    )
    event = to_event(params)
    assert event.call_sid == "CAparent" and event.child_call_sid == "CAchild"
    assert event.status == "busy" and event.leg == "customer" and event.sequence == 3
    assert event.at == datetime(2026, 11, 23, 14, 5, 1, tzinfo=UTC)
    assert event.reason == "SIP 486 (busy)"
    assert event.raw == params


def test_answered_is_in_progress_and_errors_are_readable():
    assert to_event(status_params("CA1", "answered", seq=2, at=AT, parent="CA0")).status == "in-progress"
    failed = to_event(
        status_params(
            "CA1", "failed", seq=2, at=AT, parent="CA0", ErrorCode="13224", ErrorMessage="bad number"
        )
    )
    assert failed.reason == "Twilio error 13224: bad number"
    assert (
        to_event(status_params("CA1", "completed", seq=4, at=AT, parent="CA0", SipResponseCode="200")).reason
        is None
    )


def test_a_retry_is_a_duplicate_and_different_callbacks_are_not():
    first = status_params("CA1", "ringing", seq=1, at=AT, parent="CA0")
    assert to_event(first).key() == to_event(dict(first)).key()
    assert to_event(first).key() != to_event({**first, "SequenceNumber": "2"}).key()
    assert to_event(first).key() != to_event({**first, "CallStatus": "in-progress"}).key()


def test_unknown_status_and_missing_sid_are_refused():
    with pytest.raises(ValueError):
        to_event(status_params("CA1", "exploded", seq=1, at=AT))
    with pytest.raises(ValueError):
        to_event({"CallStatus": "ringing"})


def test_timestamps():
    assert parse_timestamp(None) is None and parse_timestamp("yesterday") is None
    assert parse_timestamp("Mon, 23 Nov 2026 16:05:01 +0200") == datetime(2026, 11, 23, 14, 5, 1, tzinfo=UTC)
