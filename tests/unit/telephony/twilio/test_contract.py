"""The fake Twilio transport holds requests and its own answers to Twilio's published OpenAPI contract.

Requests are made by the real twilio library, so its parameter spelling is what gets checked.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from twilio.rest import Client

from call_center.telephony.twilio.client import media_url
from tests.support import twilio_contract
from tests.support.fake_twilio import (
    ACCOUNT_SID,
    API,
    API_KEY,
    API_SECRET,
    CALLER_ID,
    CREATED,
    PUBLIC_URL,
    FakeTwilioHttp,
    TwilioContractViolation,
    UnexpectedTwilioRequest,
    account_path,
    call_body,
    conference_body,
    conference_path,
    error_body,
    page,
    participant_body,
    participant_path,
    recording_body,
    twilio_sid,
)
from tests.support.twilio_contract import ContractViolation, MissingTwilioSpec, check_request

CONF = twilio_sid("CF", 1)
CALL = twilio_sid("CA", 2)
CUSTOMER = "+201001234567"
STATUS_URL = f"{PUBLIC_URL}/api/calls/webhook/status"
EVENTS = ["initiated", "ringing", "answered", "completed"]


@pytest.fixture
def fake() -> FakeTwilioHttp:
    return FakeTwilioHttp()


def client(fake: FakeTwilioHttp) -> Client:
    return Client(API_KEY, API_SECRET, ACCOUNT_SID, http_client=fake, environment={})


def refused(fake: FakeTwilioHttp, match: str) -> pytest.RaisesExc[TwilioContractViolation]:
    fake.unexpected.clear()
    return pytest.raises(TwilioContractViolation, match=match)


# Requests ---------------------------------------------------------------------------------------------
def test_a_correct_participant_create_passes(fake):
    body = participant_body(CONF, CALL, label="customer", status="queued", end_conference_on_exit=True)
    route = fake.on("POST", participant_path(CONF), body)
    participant = (
        client(fake)
        .conferences(CONF)
        .participants.create(
            from_=CALLER_ID,
            to=CUSTOMER,
            label="customer",
            end_conference_on_exit=True,
            status_callback=STATUS_URL,
            status_callback_event=EVENTS,
            early_media=True,
        )
    )
    assert participant.call_sid == CALL and participant.label == "customer" and participant.status == "queued"
    assert route.status == 201  # what the contract says a create answers
    sent = fake.calls_to("POST", participant_path(CONF))[0].params
    assert sent["StatusCallbackEvent"] == EVENTS  # repeated fields, as the library sends a list
    assert sent["EarlyMedia"] == "true" and sent["EndConferenceOnExit"] == "true"
    assert not fake.unexpected


@pytest.mark.parametrize(
    ("path", "data", "match"),
    [
        # Hold belongs to a participant's update, not to its create.
        (
            participant_path(CONF),
            {"From": CALLER_ID, "To": CUSTOMER, "Hold": "true"},
            r"`Hold` is not a param",
        ),
        # EndConferenceOnExit is a participant's, not a call's.
        (
            account_path("Calls.json"),
            {"From": CALLER_ID, "To": CUSTOMER, "Url": STATUS_URL, "EndConferenceOnExit": "true"},
            r"CreateCall.*`EndConferenceOnExit` is not a param",
        ),
        (participant_path(CONF), {"From": CALLER_ID}, "required parameter.* missing: To"),
        (participant_path(CONF), {"From": CALLER_ID, "To": CUSTOMER, "EarlyMedia": True}, "'True'.*boolean"),
        (participant_path(CONF), {"From": CALLER_ID, "To": CUSTOMER, "Timeout": "soon"}, "not an integer"),
        (participant_path(CONF), {"From": CALLER_ID, "To": CUSTOMER, "StatusCallback": "/x"}, "absolute"),
    ],
)
def test_a_request_outside_the_contract_is_refused_even_with_a_route(fake, path, data, match):
    fake.on("POST", path, participant_body(CONF, CALL) if "Participants" in path else call_body(CALL))
    with pytest.raises(TwilioContractViolation, match=match) as caught:
        client(fake).request("POST", API + path, data=data)
    assert fake.unexpected == [str(caught.value)]  # kept for the fixture even if the caller swallows it


def test_the_refusal_names_the_parameter_and_what_is_allowed(fake):
    with pytest.raises(TwilioContractViolation) as caught:
        client(fake).request(
            "POST", API + participant_path(CONF), data={"From": "a", "To": "b", "Hold": "true"}
        )
    message = str(caught.value)
    assert "CreateParticipant" in message and "`Hold`" in message
    assert "allowed: " in message and "EarlyMedia" in message and "StatusCallbackEvent" in message


def test_a_bad_enum_value_in_a_list_is_refused(fake):
    fake.on("POST", participant_path(CONF), participant_body(CONF, CALL))
    participants = client(fake).conferences(CONF).participants
    with pytest.raises(TwilioContractViolation, match=r"`StatusCallbackEvent` = 'joined' is not one of"):
        participants.create(from_=CALLER_ID, to=CUSTOMER, status_callback_event=["initiated", "joined"])
    with refused(fake, r"`Status` = 'done' is not one of"):
        client(fake).calls.list(status="done")


def test_participant_hold_passes_and_a_misspelling_fails(fake):
    path = participant_path(CONF, CALL)
    fake.on("POST", path, participant_body(CONF, CALL, hold=True))
    held = (
        client(fake)
        .conferences(CONF)
        .participants(CALL)
        .update(hold=True, hold_url=f"{PUBLIC_URL}/api/calls/twiml/hold", hold_method="GET")
    )
    assert held.hold is True
    assert fake.calls_to("POST", path)[0].params == {
        "Hold": "true",
        "HoldUrl": f"{PUBLIC_URL}/api/calls/twiml/hold",
        "HoldMethod": "GET",
    }
    with refused(fake, r"UpdateParticipant.*`Holding` is not a parameter.*allowed: .*HoldMethod, HoldUrl"):
        client(fake).request("POST", API + path, data={"Holding": "true"})
    with refused(fake, r"`HoldMethod` = 'PUT' is not one of \['GET', 'POST'\]"):
        client(fake).conferences(CONF).participants(CALL).update(hold=True, hold_method="PUT")
    fake.unexpected.clear()


def test_a_path_or_method_twilio_does_not_have_is_refused(fake):
    with pytest.raises(ContractViolation, match="no such path"):
        fake.on("GET", account_path("Conference.json"), {})
    with pytest.raises(ContractViolation, match=r"not an operation.*allows \['GET', 'POST'\]"):
        fake.on("DELETE", conference_path(CONF), None)
    with refused(fake, "https://api.twilio.com/2010-04-01/Accounts/.*/Conference/CF"):
        client(fake).request("GET", API + account_path(f"Conference/{CONF}.json"))
    fake.unexpected.clear()


def test_a_request_the_contract_allows_but_no_route_answers_is_still_unexpected(fake):
    with pytest.raises(UnexpectedTwilioRequest, match="no route") as caught:
        client(fake).conferences(CONF).fetch()
    assert not isinstance(caught.value, ContractViolation)
    fake.unexpected.clear()


# Recording media ---------------------------------------------------------------------------------------
def test_recording_media_is_the_recording_resource_with_requested_channels():
    recording = f"{API}{account_path('Recordings/' + twilio_sid('RE', 3))}"
    check_request("GET", media_url(recording))  # what our downloader asks for: .mp3?RequestedChannels=2
    check_request("GET", media_url(recording + ".json", dual=False))
    check_request("GET", recording + ".wav?RequestedChannels=1")
    with pytest.raises(ContractViolation, match=r"`RequestedChannels` = '3' is not one of \['1', '2'\]"):
        check_request("GET", recording + ".mp3?RequestedChannels=3")
    with pytest.raises(ContractViolation, match="`RequestedChannels` is not a parameter"):
        check_request("GET", recording + ".json?RequestedChannels=2")  # only media takes it
    with pytest.raises(ContractViolation, match="only be fetched"):
        check_request("DELETE", recording + ".mp3")


# Responses ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "match"),
    [
        (
            {**participant_body(CONF, CALL), "on_hold": True},
            r"body\.on_hold: not a property.*declared: .*hold",
        ),
        ({**participant_body(CONF, CALL), "hold": "true"}, r"body\.hold: 'true' is not of type boolean"),
        (
            {**participant_body(CONF, CALL), "status": "in-progress"},
            r"body\.status: 'in-progress' is not one",
        ),
    ],
)
def test_an_answer_twilio_could_not_send_is_refused_when_declared(fake, body, match):
    with pytest.raises(ContractViolation, match=match):
        fake.on("GET", participant_path(CONF, CALL), body)


def test_list_answers_are_checked_by_list_key_and_item(fake):
    fake.on("GET", participant_path(CONF), page("participants", [participant_body(CONF, CALL)]))
    with pytest.raises(ContractViolation, match=r"body\.participants\[0\]\.holding: not a property"):
        fake.on("GET", participant_path(CONF), page("participants", [{"call_sid": CALL, "holding": True}]))
    with pytest.raises(ContractViolation, match=r"body\.calls: not a property"):
        fake.on("GET", participant_path(CONF), page("calls", []))


def test_statuses_follow_the_contract(fake):
    assert fake.on("DELETE", participant_path(CONF, CALL)).status == 204
    assert fake.on("POST", participant_path(CONF, CALL), participant_body(CONF, CALL)).status == 200
    with pytest.raises(ContractViolation, match="no body"):
        fake.on("DELETE", participant_path(CONF, CALL), {"deleted": True})
    with pytest.raises(ContractViolation, match=r"answers \[201\], not 200"):
        fake.on("POST", participant_path(CONF), participant_body(CONF, CALL), status=200)
    fake.on("GET", conference_path(CONF), error_body(404, 20404, "not found"), status=404)  # not held


def test_a_body_changed_after_declaring_is_refused_when_answered(fake):
    route = fake.on("GET", participant_path(CONF, CALL), participant_body(CONF, CALL))
    route.body["on_hold"] = True
    with pytest.raises(TwilioContractViolation, match="the fake's answer breaks"):
        client(fake).conferences(CONF).participants(CALL).fetch()
    assert fake.unexpected
    fake.unexpected.clear()


def test_the_builders_make_resources_the_library_reads(fake):
    recording = twilio_sid("RE", 4)
    fake.on("GET", conference_path(CONF), conference_body(CONF, "call-42"))
    fake.on("GET", participant_path(CONF, CALL), participant_body(CONF, CALL, label="agent", hold=True))
    ended = call_body(CALL, status="completed", end=CREATED + timedelta(seconds=66))
    fake.on("GET", account_path(f"Calls/{CALL}.json"), ended)
    fake.on("GET", account_path(f"Recordings/{recording}.json"), recording_body(recording, CALL))
    api = client(fake)
    assert api.conferences(CONF).fetch().friendly_name == "call-42"
    participant = api.conferences(CONF).participants(CALL).fetch()
    assert participant.hold is True and participant.label == "agent" and participant.status == "connected"
    call = api.calls(CALL).fetch()
    assert (call.to, call.status, call.duration) == (CUSTOMER, "completed", "66")
    assert api.recordings(recording).fetch().channels == 2
    with pytest.raises(ContractViolation, match="on_hold: not a property"):
        participant_body(CONF, CALL, on_hold=True)
    with pytest.raises(ContractViolation, match="not one of"):
        conference_body(CONF, "call-42", status="ended")
    assert not fake.unexpected


# The spec itself ---------------------------------------------------------------------------------------
def test_a_missing_spec_says_how_to_fetch_it(tmp_path, monkeypatch):
    monkeypatch.setenv(twilio_contract.SPEC_ENV, str(tmp_path / "twilio_api_v2010.json"))
    with pytest.raises(MissingTwilioSpec, match=r"run scripts/fetch_twilio_spec\.sh"):
        FakeTwilioHttp()


def test_documented_values_come_from_the_description():
    description = (
        "The events. Can be: `initiated`, `ringing`, `answered`, and `completed`. Separate with a space."
    )
    assert twilio_contract.documented_values(description) == EVENTS
    assert twilio_contract.documented_values("Can be: `mono` or `dual` and the default is `mono`.") == [
        "mono",
        "dual",
    ]
    assert twilio_contract.documented_values("The URL we call.") == []
