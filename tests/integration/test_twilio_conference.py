"""Twilio calls as conferences, against the simulator: the TwiML is exact, every REST request is held to
Twilio's contract, and the call, its parties and the softphones end where a person expects."""

from __future__ import annotations

from sqlmodel import select

from call_center.models import Availability, Call, CallParty, CallStatus, RecordingJob
from tests.conftest import make_agent
from tests.support.fake_twilio import CALLER_ID, PUBLIC_URL

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
CONFERENCE = f"{PUBLIC_URL}/api/calls/webhook/conference"
CUSTOMER = "+201001234567"
NOTICE = (  # the recording notice every incoming caller hears first (RECORDING_NOTICE)
    '<Say language="ar-XA">مرحباً بك. قد يتم تسجيل هذه المكالمة لضمان جودة الخدمة.</Say>'
    '<Say language="en-US">Welcome. This call may be recorded for quality purposes.</Say>'
)


def _call(db) -> Call:
    db.commit()
    call = db.exec(select(Call).order_by(Call.id.desc())).first()
    db.refresh(call)
    return call


def _parties(db, call: Call) -> list[tuple[str, int | None, bool]]:
    rows = db.exec(select(CallParty).where(CallParty.call_id == call.id).order_by(CallParty.joined_at)).all()
    return [(p.kind, p.agent_id, p.left_at is None) for p in rows]


def test_an_outbound_call_is_a_room_the_customer_is_added_to(twilio_world, db):
    world, sim = twilio_world, twilio_world.sim
    agent = make_agent(db, email="a@example.com", name="Sara")
    with world.online("a@example.com") as phone:
        browser = sim.browser_dials(agent.id, "01001234567")
        call = _call(db)
        assert sim.twiml[-1][1] == (
            HEAD + "<Response><Dial>"
            f'<Conference beep="false" endConferenceOnExit="true" participantLabel="agent" '
            f'startConferenceOnEnter="true" statusCallback="{CONFERENCE}?call={call.id}" '
            'statusCallbackEvent="start end join leave hold" statusCallbackMethod="POST" '
            f'waitMethod="POST" waitUrl="">call-{call.id}</Conference></Dial></Response>'
        )
        sim.run()
        # the agent is in the room: the customer's number is added, with our caller ID and callbacks
        added = world.requests("POST", "/Participants.json")
        assert len(added) == 1
        assert added[0] | {} == {
            "From": CALLER_ID, "To": CUSTOMER, "Label": "customer", "Beep": "false", "EarlyMedia": "false",
            "StartConferenceOnEnter": "true", "EndConferenceOnExit": "true", "Timeout": "30",
            "StatusCallback": f"{PUBLIC_URL}/api/calls/webhook/status?call={call.id}&leg=customer",
            "StatusCallbackMethod": "POST",
            "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
            "ConferenceStatusCallback": f"{CONFERENCE}?call={call.id}",
            "ConferenceStatusCallbackMethod": "POST",
            "ConferenceStatusCallbackEvent": ["start", "end", "join", "leave", "hold"],
        }  # fmt: skip
        call = _call(db)
        assert call.status == CallStatus.RINGING and call.conference_sid
        phone.wait_for("status", status="ringing")  # the softphone shows ringing; no audio until the answer
        customer = sim.leg_labelled("customer")
        sim.answer(customer)
        sim.run()
        call = _call(db)
        assert call.status == CallStatus.IN_PROGRESS and call.child_call_sid == customer
        phone.wait_for("status", status="in-progress")
        assert world.requests("POST", f"/Calls/{customer}/Recordings.json") == [{
            "RecordingChannels": "dual", "RecordingStatusCallbackEvent": ["completed", "absent"],
            "RecordingStatusCallback": f"{PUBLIC_URL}/api/calls/webhook/recording?call={call.id}",
            "RecordingStatusCallbackMethod": "POST",
        }]  # fmt: skip
        assert _parties(db, call) == [("agent", agent.id, True), ("customer", None, True)]
        sim.hang_up(browser)  # the agent hangs up: the room ends, so does the customer's leg
        sim.run()
        call = _call(db)
        assert (call.status, call.hangup_by, call.hangup_reason) == (
            "completed",
            "agent",
            "reason.hangup_agent",
        )
        assert call.duration_seconds and call.duration_seconds > 0
        assert _parties(db, call) == [("agent", agent.id, False), ("customer", None, False)]
        phone.wait_for("status", status="completed")
        job = db.exec(select(RecordingJob)).one()
        assert job.swap_channels and job.source_url.endswith(".mp3?RequestedChannels=2")


def _available(db, *agents) -> None:
    for agent in agents:
        agent.availability = Availability.AVAILABLE
        db.add(agent)
    db.commit()


def _offers(db, call: Call) -> dict[int, tuple[str, str | None]]:
    from call_center.models import CallOffer

    db.commit()
    rows = db.exec(select(CallOffer).where(CallOffer.call_id == call.id)).all()
    return {o.agent_id: (o.outcome, o.leg) for o in rows}


def test_inbound_rings_each_online_agents_client_and_exactly_one_gets_the_call(twilio_world, db):
    world, sim = twilio_world, twilio_world.sim
    a = make_agent(db, email="a@example.com", name="Sara")
    b = make_agent(db, email="b@example.com", name="Omar")
    c = make_agent(db, email="c@example.com", name="Offline")  # available, but no softphone: not rung
    _available(db, a, b, c)
    with world.online("a@example.com") as phone_a, world.online("b@example.com") as phone_b:
        caller = sim.customer_calls("+201001112223")
        call = _call(db)
        assert sim.twiml[-1][1] == (
            HEAD + "<Response>" + NOTICE + "<Dial>"
            f'<Conference beep="false" endConferenceOnExit="true" participantLabel="customer" '
            f'startConferenceOnEnter="false" statusCallback="{CONFERENCE}?call={call.id}" '
            'statusCallbackEvent="start end join leave hold" statusCallbackMethod="POST" '
            f'waitMethod="POST" waitUrl="{PUBLIC_URL}/api/calls/twiml/wait?call={call.id}">'
            f"call-{call.id}</Conference>"
            "</Dial></Response>"
        )
        sim.run()
        rung = {p["To"]: p for p in world.requests("POST", "/Participants.json")}
        assert set(rung) == {f"client:agent_{a.id}", f"client:agent_{b.id}"}
        assert rung[f"client:agent_{a.id}"]["Label"] == f"agent_{a.id}"
        assert rung[f"client:agent_{a.id}"]["From"] == "+201001112223"  # the softphone shows who calls
        assert rung[f"client:agent_{a.id}"]["EndConferenceOnExit"] == "false"  # until it is the one
        assert _call(db).status == CallStatus.RINGING
        legs = {agent_id: leg for agent_id, (_, leg) in _offers(db, call).items()}
        phone_a.wait_for("incoming", leg=legs[a.id], call_sid=caller)
        phone_b.wait_for("incoming", leg=legs[b.id], call_sid=caller)
        # both accept at once: the first join the app hears gets the call, the other is taken out again
        sim.answer(legs[a.id])
        sim.answer(legs[b.id])
        sim.run()
        call = _call(db)
        assert call.agent_id == a.id and call.status == CallStatus.IN_PROGRESS
        assert world.requests("DELETE", f"/Participants/{legs[b.id]}.json") == [{}]
        phone_b.wait_for("cancel", reason="answered-elsewhere", call_sid=caller)
        phone_a.wait_for("status", status="in-progress", call_sid=caller)
        assert ("answered", legs[a.id]) == _offers(db, call)[a.id]
        assert _parties(db, call) == [("customer", None, True), ("agent", a.id, True)]
        updated = world.requests("POST", f"/Participants/{legs[a.id]}.json")
        assert {"EndConferenceOnExit": "true"} in updated  # now the agent leaving ends the call
        assert world.requests("POST", f"/Calls/{caller}/Recordings.json")  # the customer's leg is recorded
        sim.hang_up(caller)
        sim.run()
        call = _call(db)
        assert (call.status, call.hangup_by) == ("completed", "customer")


def test_inbound_nobody_available_goes_to_voicemail_at_once(twilio_world, db):
    sim = twilio_world.sim
    sim.customer_calls("+201001112223")
    assert "<Record " in sim.twiml[-1][1]
    call = _call(db)
    assert (call.status, call.hangup_reason) == (CallStatus.NO_ANSWER, "call.error.no_agents")


def test_inbound_nobody_answers_the_caller_waits_in_the_queue_then_voicemail(twilio_world, db):
    world, sim = twilio_world, twilio_world.sim
    a = make_agent(db, email="a@example.com", name="Sara")
    _available(db, a)
    with world.online("a@example.com") as phone:
        caller = sim.customer_calls("+201001112223")
        sim.run()
        leg = _offers(db, _call(db))[a.id][1]
        sim.no_answer(leg)
        sim.run()
        phone.wait_for("cancel", call_sid=caller)
        call = _call(db)
        assert call.status == CallStatus.RINGING  # still in the queue: the agent may be offered it again
        assert not world.requests("POST", f"/Calls/{caller}.json")
        from datetime import timedelta

        from call_center.services import queue

        entered = queue.entry_of(db, call.id).entered_at
        queue.dispatch(db, now=entered + timedelta(seconds=301))  # QUEUE_MAX_WAIT_SECONDS is over
        sim.run()
        call = _call(db)
        assert (call.status, call.hangup_reason) == (CallStatus.NO_ANSWER, "queue.reason.timeout")
        assert world.requests("POST", f"/Calls/{caller}.json") == [
            {"Url": f"{PUBLIC_URL}/api/calls/twiml/voicemail", "Method": "POST"}
        ]
        assert "<Record " in sim.twiml[-1][1] and sim.legs[caller].voicemail


def _answered_outbound(world, db, agent) -> tuple[Call, str, str]:  # type: ignore[no-untyped-def]
    sim = world.sim
    browser = sim.browser_dials(agent.id, "01001234567")
    sim.run()
    customer = sim.leg_labelled("customer")
    sim.answer(customer)
    sim.run()
    return _call(db), browser, customer


def test_an_outbound_customer_hears_the_recording_notice_on_answer_only_when_it_is_turned_on(
    twilio_world, db
):
    world, sim = twilio_world, twilio_world.sim
    agent = make_agent(db, email="a@example.com", name="Sara")
    with world.online("a@example.com"):
        _first, _browser, customer = _answered_outbound(world, db, agent)  # off by default: nothing said
        assert not [r for r in world.requests("POST", f"/Participants/{customer}.json") if "AnnounceUrl" in r]
        sim.hang_up(customer)
        sim.run()
        world.setting("RECORDING_NOTICE_OUTBOUND", "true")
        world.setting("RECORDING_NOTICE_EN", "Calls with AlMasar are recorded.")
        sim.browser_dials(agent.id, "01001234567")
        sim.run()
        customer = [leg.sid for leg in sim.legs.values() if leg.label == "customer"][-1]
        sim.answer(customer)
        sim.run()
        announced = [
            r for r in world.requests("POST", f"/Participants/{customer}.json") if "AnnounceUrl" in r
        ]
        assert announced == [
            {"AnnounceUrl": f"{PUBLIC_URL}/api/calls/twiml/notice", "AnnounceMethod": "POST"}
        ]
        assert (
            customer,
            HEAD + '<Response><Say language="ar-XA">مرحباً بك. قد يتم تسجيل هذه المكالمة لضمان '
            'جودة الخدمة.</Say><Say language="en-US">Calls with AlMasar are recorded.</Say></Response>',
        ) in sim.twiml
        assert _call(db).status == CallStatus.IN_PROGRESS  # the call goes on, recorded as before
        assert world.requests("POST", f"/Calls/{customer}/Recordings.json")


def test_hold_holds_the_customers_participant_with_our_tone(twilio_world, db):
    from call_center.services import transfers

    world, sim = twilio_world, twilio_world.sim
    agent = make_agent(db, email="a@example.com", name="Sara")
    with world.online("a@example.com") as phone:
        call, _, customer = _answered_outbound(world, db, agent)
        db.expire_all()  # as a fresh request would see it
        transfers.set_hold(db, call.provider_call_sid, agent, True)
        path = f"/Conferences/{call.conference_sid}/Participants/{customer}.json"
        assert world.requests("POST", path) == [
            {"Hold": "true", "HoldUrl": f"{PUBLIC_URL}/api/calls/twiml/hold", "HoldMethod": "POST"}
        ]
        assert sim.legs[customer].hold
        phone.wait_for("hold", on=True)
        db.expire_all()  # as a fresh request would see it
        transfers.set_hold(db, call.provider_call_sid, agent, False)
        assert world.requests("POST", path)[-1] == {"Hold": "false"} and not sim.legs[customer].hold
        sim.run()
    # what Twilio plays while held: our own tone, looped
    held = world.post("/api/calls/twiml/hold", *_signed("/api/calls/twiml/hold"))
    assert (
        held.text
        == HEAD + f'<Response><Play loop="0">{PUBLIC_URL}/api/calls/media/hold.mp3</Play></Response>'
    )
    tone = world.client.get("/api/calls/media/hold.mp3")
    assert (
        tone.status_code == 200 and tone.headers["content-type"] == "audio/mpeg" and len(tone.content) > 4000
    )


def _signed(path: str) -> tuple[str, dict[str, str]]:
    from tests.support.fake_twilio import ACCOUNT_SID, sign

    params = {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + "0" * 32}
    return sign(path, params), params


def test_cold_transfer_to_an_agent_hands_the_room_over(twilio_world, db):
    from call_center.services import transfers

    world, sim = twilio_world, twilio_world.sim
    a = make_agent(db, email="a@example.com", name="Sara")
    b = make_agent(db, email="b@example.com", name="Omar")
    _available(db, b)
    with world.online("a@example.com") as phone_a, world.online("b@example.com") as phone_b:
        call, browser, customer = _answered_outbound(world, db, a)
        db.expire_all()  # as a fresh request would see it
        transfer = transfers.start(db, call.provider_call_sid, a, mode="cold", to_agent_id=b.id)
        target = transfer.target_leg
        added = world.requests("POST", "/Participants.json")[-1]
        assert added["To"] == f"client:agent_{b.id}" and added["Label"].startswith(f"target_a{b.id}_")
        assert added["EndConferenceOnExit"] == "false" and added["From"] == CUSTOMER
        assert sim.legs[customer].hold  # the customer hears our hold tone while B rings
        phone_b.wait_for("incoming", leg=target, transfer_from="Sara")
        sim.answer(target)
        sim.run()
        db.refresh(transfer)
        assert transfer.state == "completed"
        # handed over before the first agent goes, or the room would end with them
        assert world.requests("POST", f"/Participants/{target}.json") == [{"EndConferenceOnExit": "true"}]
        assert {"EndConferenceOnExit": "false"} in world.requests("POST", f"/Participants/{browser}.json")
        assert world.requests("DELETE", f"/Participants/{browser}.json") == [{}]
        assert not sim.legs[customer].hold and sim.in_room(f"call-{call.id}") == ["customer", added["Label"]]
        phone_a.wait_for("status", status="completed", reason="reason.transferred")
        phone_b.wait_for("status", status="in-progress")
        call = _call(db)
        assert call.agent_id == b.id and call.status == CallStatus.IN_PROGRESS
        sim.hang_up(target)  # B hangs up: the room ends (B holds endConferenceOnExit now)
        sim.run()
        call = _call(db)
        assert call.status == "completed"
        chain = [(p.kind, p.agent_id) for p in db.exec(select(CallParty).where(CallParty.call_id == call.id)
                 .order_by(CallParty.joined_at)).all()]  # fmt: skip
        assert chain == [("agent", a.id), ("customer", None), ("target", b.id)]
        assert len(world.requests("POST", "/Recordings.json")) == 1  # one recording, the whole conversation


def test_warm_transfer_consult_then_cancel_then_complete(twilio_world, db):
    from call_center.services import transfers

    world, sim = twilio_world, twilio_world.sim
    a = make_agent(db, email="a@example.com", name="Sara")
    b = make_agent(db, email="b@example.com", name="Omar")
    _available(db, b)
    with world.online("a@example.com"), world.online("b@example.com"):
        call, browser, customer = _answered_outbound(world, db, a)
        db.expire_all()  # as a fresh request would see it
        first = transfers.start(db, call.provider_call_sid, a, mode="warm", to_agent_id=b.id)
        sim.answer(first.target_leg)
        sim.run()
        db.refresh(first)
        assert first.state == "consulting" and sim.legs[customer].hold  # A and B talk; the customer is held
        db.expire_all()  # as a fresh request would see it
        transfers.cancel(db, call.provider_call_sid, a)
        assert world.requests("DELETE", f"/Participants/{first.target_leg}.json") == [{}]
        sim.run()
        db.refresh(first)
        assert first.state == "canceled" and not sim.legs[customer].hold
        db.expire_all()  # as a fresh request would see it
        second = transfers.start(db, call.provider_call_sid, a, mode="warm", to_agent_id=b.id)
        sim.answer(second.target_leg)
        sim.run()
        db.expire_all()  # as a fresh request would see it
        transfers.talk_to_all(db, call.provider_call_sid, a)
        assert not sim.legs[customer].hold
        db.expire_all()  # as a fresh request would see it
        transfers.complete(db, call.provider_call_sid, a)
        sim.run()
        db.refresh(second)
        assert second.state == "completed" and _call(db).agent_id == b.id
        assert sim.in_room(f"call-{call.id}") == ["customer", sim.legs[second.target_leg].label]


def test_an_unanswered_transfer_takes_the_customer_off_hold(twilio_world, db):
    from call_center.services import transfers

    world, sim = twilio_world, twilio_world.sim
    a = make_agent(db, email="a@example.com", name="Sara")
    with world.online("a@example.com") as phone:
        call, _, customer = _answered_outbound(world, db, a)
        db.expire_all()  # as a fresh request would see it
        transfer = transfers.start(db, call.provider_call_sid, a, mode="cold", to_number="01009876543")
        added = world.requests("POST", "/Participants.json")[-1]
        assert (added["To"], added["From"]) == ("+201009876543", CALLER_ID)
        sim.no_answer(transfer.target_leg)
        sim.run()
        db.refresh(transfer)
        assert (transfer.state, transfer.reason) == ("failed", "transfer.reason.no_answer")
        assert not sim.legs[customer].hold and _call(db).agent_id == a.id
        phone.wait_for("transfer", state="failed", reason="transfer.reason.no_answer")


def test_only_the_calls_agent_holds_or_transfers_it_and_bad_targets_change_nothing(twilio_world, db):
    import pytest

    from call_center.models import CallTransfer
    from call_center.services import transfers
    from call_center.services.errors import Conflict, Forbidden

    world = twilio_world
    a = make_agent(db, email="a@example.com", name="Sara")
    b = make_agent(db, email="b@example.com", name="Omar")
    c = make_agent(db, email="c@example.com", name="Mona")  # signed in nowhere: not available
    _available(db, b)
    with world.online("a@example.com"), world.online("b@example.com"):
        call, _browser, _customer = _answered_outbound(world, db, a)
        before = len(world.server.requests)
        sid = call.provider_call_sid
        with pytest.raises(Forbidden):
            transfers.set_hold(db, sid, b, True)  # Omar is not on this call
        with pytest.raises(Forbidden):
            transfers.start(db, sid, b, mode="cold", to_agent_id=a.id)
        with pytest.raises(Conflict) as unavailable:
            transfers.start(db, sid, a, mode="cold", to_agent_id=c.id)
        assert unavailable.value.code == "transfer.error.agent_unavailable"
        with pytest.raises(Forbidden) as premium:
            transfers.start(db, sid, a, mode="cold", to_number="09001234567")
        assert premium.value.code == "dial.error.premium"
        db.rollback()
        assert world.server.requests[before:] == []  # nothing reached Twilio
        assert db.exec(select(CallTransfer)).all() == []
        db.refresh(call)
        assert call.status == CallStatus.IN_PROGRESS and call.agent_id == a.id


def test_a_supervisor_listens_whispers_and_barges_in_as_a_participant_of_the_room(twilio_world, db):
    from call_center.models import CallEvent
    from call_center.services import calls, monitoring

    world, sim = twilio_world, twilio_world.sim
    agent = make_agent(db, email="a@example.com", name="Sara")
    sup = make_agent(db, email="s@example.com", name="Noura", role="supervisor")
    peer = make_agent(db, email="p@example.com", name="Mona")  # an agent: may not monitor
    with world.online("a@example.com") as phone, world.online("s@example.com") as sup_phone:
        call, browser, customer = _answered_outbound(world, db, agent)
        sid = call.provider_call_sid
        refused = sim.browser_monitors(peer.id, sid, "listen")  # no role, no room: said no and hung up
        assert "<Hangup" in sim.twiml[-1][1] and sim.legs[refused].room is None

        leg = sim.browser_monitors(sup.id, sid, "listen")
        label = sim.legs[leg].label
        assert label.startswith(f"sup_{sup.id}_")
        assert sim.twiml[-1][1] == (
            HEAD + "<Response><Dial>"
            f'<Conference beep="false" endConferenceOnExit="false" muted="true" participantLabel="{label}" '
            f'startConferenceOnEnter="false" statusCallback="{CONFERENCE}?call={call.id}" '
            'statusCallbackEvent="start end join leave hold" statusCallbackMethod="POST" '
            f'waitMethod="POST" waitUrl="">call-{call.id}</Conference></Dial></Response>'
        )
        sim.run()
        parties = db.exec(select(CallParty).where(CallParty.call_id == call.id, CallParty.leg == leg)).all()
        assert [(p.kind, p.agent_id, p.mode, p.left_at) for p in parties] == [
            ("supervisor", sup.id, "listen", None)
        ]
        phone.wait_for("monitor", call_sid=sid, monitors=[{"name": "Noura", "mode": "listen"}])

        db.expire_all()  # as a fresh request would see it
        monitoring.change(db, sup, sid, "whisper")
        path = f"/Conferences/{call.conference_sid}/Participants/{leg}.json"
        assert world.requests("POST", path) == [
            {"Muted": "false", "Coaching": "true", "CallSidToCoach": browser}
        ]
        assert sim.legs[leg].coach == browser and not sim.legs[leg].muted
        monitoring.change(db, sup, sid, "barge")
        assert world.requests("POST", path)[-1] == {"Muted": "false", "Coaching": "false"}
        assert sim.legs[leg].coach is None
        phone.wait_for("monitor", call_sid=sid, monitors=[{"name": "Noura", "mode": "barge"}])

        sim.hang_up(leg)  # the supervisor's browser hangs up: the call goes on
        sim.run()
        db.expire_all()
        assert _call(db).status == CallStatus.IN_PROGRESS
        phone.wait_for("monitor", call_sid=sid, monitors=[])
        steps = [s["what"] for s in calls.timeline(db, call.id) if s["what"].startswith("monitor")]
        assert steps == ["monitor-listen", "monitor-whisper", "monitor-barge", "monitor-ended"]

        sim.browser_monitors(sup.id, sid, "listen")  # again, then the agent hangs up: the room ends
        sim.run()
        sim.hang_up(browser)
        sim.run()
        assert _call(db).status == CallStatus.COMPLETED
        sup_phone.wait_for("status", call_sid=sid, status="completed")
        assert db.exec(select(CallEvent).where(CallEvent.kind == "monitor-leg")).all()


def test_a_whisper_follows_the_call_to_the_agent_it_is_transferred_to_who_is_told(twilio_world, db):
    from call_center.services import monitoring, transfers

    world, sim = twilio_world, twilio_world.sim
    a = make_agent(db, email="a@example.com", name="Sara")
    b = make_agent(db, email="b@example.com", name="Omar")
    sup = make_agent(db, email="s@example.com", name="Noura", role="supervisor")
    _available(db, b)
    with (
        world.online("a@example.com"),
        world.online("b@example.com") as phone_b,
        world.online("s@example.com"),
    ):
        call, _browser, _customer = _answered_outbound(world, db, a)
        sid = call.provider_call_sid
        leg = sim.browser_monitors(sup.id, sid, "listen")
        sim.run()
        db.expire_all()
        monitoring.change(db, sup, sid, "whisper")
        db.expire_all()
        transfer = transfers.start(db, sid, a, mode="cold", to_agent_id=b.id)
        sim.answer(transfer.target_leg)
        sim.run()
        db.expire_all()
        assert _call(db).agent_id == b.id
        # the first agent left: the whisper now goes to Omar, who is told who monitors his call
        path = f"/Conferences/{call.conference_sid}/Participants/{leg}.json"
        assert world.requests("POST", path)[-1] == {
            "Muted": "false", "Coaching": "true", "CallSidToCoach": transfer.target_leg
        }  # fmt: skip
        assert sim.legs[leg].coach == transfer.target_leg
        phone_b.wait_for("monitor", call_sid=sid, monitors=[{"name": "Noura", "mode": "whisper"}])
