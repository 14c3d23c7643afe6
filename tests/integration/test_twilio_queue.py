"""The queue on Twilio, against the simulator: a waiting caller is in their call's room (the conference the
call-control layer uses for hold and transfer), hears their position from our wait TwiML, and reaches
agents by the queue's strategy; the wait running out sends them to voicemail; a caller who hangs up while
waiting is abandoned and on the callback list. Every callback is a signed webhook; the property test
(test_twilio_property) shuffles and repeats the abandoned call's callbacks."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from call_center.core.config import get_settings
from call_center.models import Availability, Call, CallbackItem, CallOffer, CallStatus, QueueEntry
from call_center.models.base import utcnow
from call_center.services import agents, queue
from tests.conftest import make_agent
from tests.support.fake_twilio import PUBLIC_URL, signed_post

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
WAIT = "/api/calls/twiml/wait"


def _calls(db) -> list[Call]:
    db.commit()
    db.expire_all()
    return list(db.exec(select(Call).order_by(Call.id)).all())


def _entry(db, call: Call) -> QueueEntry:
    db.expire_all()
    return db.exec(select(QueueEntry).where(QueueEntry.call_id == call.id)).one()


def _ringing(db) -> dict[int, tuple[int, str | None]]:
    """Who rings now: agent -> (call, leg)."""
    db.commit()
    db.expire_all()
    rows = db.exec(select(CallOffer).where(CallOffer.outcome == "ringing")).all()
    return {o.agent_id: (o.call_id, o.leg) for o in rows}


def _wait_twiml(world, call: Call) -> str:
    path = f"{WAIT}?call={call.id}"
    params = {"CallSid": call.provider_call_sid or "", "AccountSid": "AC" + "0" * 32}
    response = signed_post(world.client, path, params)
    assert response.status_code == 200, response.text
    return response.text


def _say_position(n: int) -> str:
    return (
        f'<Say language="ar-XA">أنت رقم {n} في قائمة الانتظار. سيرد عليك أول موظف متاح.</Say>'
        f'<Say language="en-US">You are number {n} in the queue. The first available agent will take your '
        "call.</Say>"
    )


def _set(db, agent, availability: str) -> None:
    agents.set_availability(db, agent.id, availability)
    db.commit()


def test_callers_wait_in_the_room_hear_their_position_and_leave_for_voicemail(twilio_world, db):
    world, sim = twilio_world, twilio_world.sim
    world.setting("QUEUE_MAX_WAIT_SECONDS", "60")
    sara = make_agent(db, email="a@example.com", name="Sara")
    _set(db, sara, Availability.AWAY)  # logged in, on a break: callers wait for her
    with world.online("a@example.com"):
        first = sim.customer_calls("+201001110001")
        sim.run()
        second = sim.customer_calls("+201001110002")
        sim.run()
        one, two = _calls(db)
        assert sim.twiml[-1][1].endswith(
            f'waitMethod="POST" waitUrl="{PUBLIC_URL}{WAIT}?call={two.id}">call-{two.id}</Conference>'
            "</Dial></Response>"
        )
        assert (one.status, two.status) == (CallStatus.RINGING, CallStatus.RINGING)
        assert not world.requests("POST", "/Participants.json")  # nobody is available: nobody rings
        # the wait TwiML: the position in Arabic and English, our waiting music, then this again
        assert _wait_twiml(world, two) == (
            HEAD + "<Response>" + _say_position(2)
            + f'<Play loop="10">{PUBLIC_URL}/api/calls/media/queue.mp3</Play>'
            f'<Redirect method="POST">{PUBLIC_URL}{WAIT}?call={two.id}</Redirect></Response>'
        )  # fmt: skip
        assert _say_position(1) in _wait_twiml(world, one)
        assert world.client.get("/api/calls/media/queue.mp3").headers["content-type"] == "audio/mpeg"
        # a forged wait request is refused
        forged = world.client.post(
            f"{WAIT}?call={two.id}", data={"CallSid": "CA1"}, headers={"X-Twilio-Signature": "bad"}
        )
        assert forged.status_code == 403
        # the first caller's wait runs out (the second entered after them: theirs has not): out of the room
        # to voicemail; the second moves up
        first_in, second_in = _entry(db, one).entered_at, _entry(db, two).entered_at
        assert first_in < second_in
        queue.dispatch(db, now=second_in + timedelta(seconds=60) - timedelta(microseconds=1))
        sim.run()
        assert world.requests("POST", f"/Calls/{first}.json") == [
            {"Url": f"{PUBLIC_URL}/api/calls/twiml/voicemail", "Method": "POST"}
        ]
        assert "<Record " in sim.twiml[-1][1] and sim.legs[first].voicemail
        one, two = _calls(db)
        assert (one.status, one.hangup_reason, one.queue_outcome) == (
            CallStatus.NO_ANSWER, "queue.reason.timeout", "timeout",
        )  # fmt: skip
        assert one.wait_seconds == 60
        assert _say_position(1) in _wait_twiml(world, two)
        assert not world.requests("POST", f"/Calls/{second}.json")  # the second still waits
        item = db.exec(select(CallbackItem).where(CallbackItem.number == "+201001110001")).one()
        assert (item.reason, item.attempts) == ("missed", 1)


def test_the_longest_waiting_caller_reaches_the_agent_idle_longest_and_a_ring_out_moves_on(twilio_world, db):
    world, sim = twilio_world, twilio_world.sim
    world.setting("QUEUE_STRATEGY", "longest-idle")
    sara = make_agent(db, email="a@example.com", name="Sara")
    omar = make_agent(db, email="b@example.com", name="Omar")
    _set(db, sara, Availability.AWAY)
    _set(db, omar, Availability.AWAY)
    with world.online("a@example.com") as phone_a, world.online("b@example.com") as phone_b:
        early = sim.customer_calls("+201001110011")
        sim.run()
        late = sim.customer_calls("+201001110012")
        sim.run()
        one, two = _calls(db)
        _set(db, omar, Availability.AVAILABLE)  # Omar is back first: idle longest
        _set(db, sara, Availability.AVAILABLE)
        queue.dispatch(db)
        sim.run()
        rung = _ringing(db)
        # one call rings one agent: the first caller reaches Omar, the second Sara
        assert {agent: call for agent, (call, _) in rung.items()} == {omar.id: one.id, sara.id: two.id}
        added = {p["To"]: p for p in world.requests("POST", "/Participants.json")}
        assert set(added) == {f"client:agent_{omar.id}", f"client:agent_{sara.id}"}
        assert added[f"client:agent_{omar.id}"]["Timeout"] == "20"  # QUEUE_RING_SECONDS + 5: ours rules
        assert added[f"client:agent_{omar.id}"]["From"] == "+201001110011"
        phone_b.wait_for("incoming", call_sid=early)
        phone_a.wait_for("incoming", call_sid=late)
        # Sara takes hers; Omar lets his ring out: his leg is stopped and the call goes to Sara next
        sim.answer(rung[sara.id][1])
        sim.run()
        assert _calls(db)[1].agent_id == sara.id and _entry(db, two).outcome == "answered"
        offered = db.exec(select(CallOffer).where(CallOffer.agent_id == omar.id)).one().offered_at
        queue.dispatch(db, now=offered + timedelta(seconds=16))
        sim.run()
        assert world.requests("POST", f"/Calls/{rung[omar.id][1]}.json")[0] == {"Status": "canceled"}
        phone_b.wait_for("cancel", call_sid=early, reason="missed")
        assert _ringing(db) == {}  # Sara is on a call, Omar rests: the caller waits on
        one = _calls(db)[0]
        assert one.status == CallStatus.RINGING and _entry(db, one).outcome == "waiting"
        # after his rest Omar is offered it again
        queue.dispatch(db, now=offered + timedelta(seconds=16 + 15))
        sim.run()
        assert _ringing(db)[omar.id][0] == one.id


def test_a_caller_who_hangs_up_while_waiting_is_abandoned_and_on_the_callback_list(twilio_world, db):
    world, sim = twilio_world, twilio_world.sim
    sara = make_agent(db, email="a@example.com", name="Sara")
    _set(db, sara, Availability.AWAY)
    with world.online("a@example.com"):
        caller = sim.customer_calls("+201001110021")
        sim.run()
        sim.hang_up(caller)
        sim.run()
        (call,) = _calls(db)
        assert (call.status, call.queue_outcome, call.agent_id) == (CallStatus.CANCELED, "abandoned", None)
        assert call.wait_seconds is not None
        # Twilio retries: every callback again changes nothing
        for url, params, _ in list(sim.delivered[1:]):
            sim.deliver(url, params)
        (again,) = _calls(db)
        assert (again.status, again.queue_outcome, again.wait_seconds) == (
            call.status, call.queue_outcome, call.wait_seconds,
        )  # fmt: skip
        (item,) = db.exec(select(CallbackItem)).all()
        assert (item.number, item.reason, item.attempts, item.status) == (
            "+201001110021", "abandoned", 1, "open",
        )  # fmt: skip
        # the same number calls and gives up again: one item, two attempts
        sim.hang_up(sim.customer_calls("+201001110021"))
        sim.run()
        db.expire_all()
        (item,) = db.exec(select(CallbackItem)).all()
        assert item.attempts == 2


def test_with_nobody_logged_in_the_caller_goes_to_voicemail_at_once(twilio_world, db):
    sim = twilio_world.sim
    sim.customer_calls("+201001110031")
    assert "<Record " in sim.twiml[-1][1]
    (call,) = _calls(db)
    assert (call.status, call.hangup_reason) == (CallStatus.NO_ANSWER, "call.error.no_agents")


def test_the_recording_notice_comes_first_in_the_companys_words_or_not_at_all(twilio_world, db):
    world, sim = twilio_world, twilio_world.sim
    make_agent(db, email="a@example.com", name="Sara")
    with world.online("a@example.com"):
        sim.customer_calls("+201001110041")
        assert sim.twiml[-1][1].startswith(
            HEAD
            + '<Response><Say language="ar-XA">مرحباً بك. قد يتم تسجيل هذه المكالمة لضمان جودة الخدمة.</Say>'
            '<Say language="en-US">Welcome. This call may be recorded for quality purposes.</Say><Dial>'
        )
        world.setting("RECORDING_NOTICE_EN", "Calls to AlMasar are recorded.")
        sim.customer_calls("+201001110042")
        assert '<Say language="en-US">Calls to AlMasar are recorded.</Say><Dial>' in sim.twiml[-1][1]
        world.setting("RECORDING_NOTICE", "false")
        sim.customer_calls("+201001110043")
        assert sim.twiml[-1][1].startswith(HEAD + "<Response><Dial><Conference ")


def test_a_second_number_waits_in_its_own_queue_and_outside_its_hours_hears_the_closed_message(
    twilio_world, db
):
    from call_center.services import queues

    world, sim = twilio_world, twilio_world.sim
    sales = "+20225550100"
    sara = make_agent(db, email="a@example.com", name="Sara")
    omar = make_agent(db, email="b@example.com", name="Omar")
    queues.save(
        db,
        queues.QueueForm(
            name_ar="المبيعات", name_en="Sales", ring_seconds="25", announce_seconds="12",
            members=(omar.id,), numbers=sales,
        ),
    )  # fmt: skip
    db.commit()
    with world.online("a@example.com"), world.online("b@example.com") as phone_b:
        sid = sim.customer_calls("+201001110021", to=sales)
        sim.run()
        (call,) = _calls(db)
        assert (call.to_number, _entry(db, call).queue) == (sales, "sales")
        assert set(_ringing(db)) == {omar.id}  # the member alone, though Sara is available too
        (added,) = world.requests("POST", "/Participants.json")
        assert (added["To"], added["Timeout"]) == (f"client:agent_{omar.id}", "30")  # the queue's 25 s + 5
        phone_b.wait_for("incoming", call_sid=sid)
        # the queue's own announcement period: 12 s of waiting music is 4 loops of the 3 s motif
        assert 'loop="4"' in _wait_twiml(world, call)
        sim.hang_up(sid)
        sim.run()

        start = (utcnow().astimezone(get_settings().zone) + timedelta(hours=2)).replace(
            second=0, microsecond=0
        )
        closed_hours = (f"{start:%H:%M}-{start + timedelta(minutes=1):%H:%M}",) * 7
        queues.save(
            db,
            queues.QueueForm(name_ar="المبيعات", name_en="Sales", members=(omar.id,), numbers=sales,
                             hours=closed_hours, closed_message_en="Sales is closed."),
            code="sales",
        )  # fmt: skip
        db.commit()
        before = len(world.requests("POST", "/Participants.json"))
        late = sim.customer_calls("+201001110022", to=sales)
        sim.run()
        assert sim.twiml[-1][1] == (
            f"{HEAD}<Response>"
            '<Say language="ar-XA">مكاتبنا مغلقة الآن. نرجو الاتصال بنا في مواعيد العمل، '
            "أو انتظر اتصالنا بك. شكرًا لك.</Say>"
            '<Say language="en-US">Sales is closed.</Say>'
            "<Hangup /></Response>"
        )
        assert len(world.requests("POST", "/Participants.json")) == before  # nobody rang
        closed = next(c for c in _calls(db) if c.provider_call_sid == late)
        assert (closed.status, closed.hangup_reason, closed.queue_outcome) == (
            "no-answer", "queue.reason.closed", "closed",
        )  # fmt: skip
        item = db.exec(select(CallbackItem).where(CallbackItem.number == "+201001110022")).one()
        assert item.status == "open"
    assert sara.id != omar.id
