"""Call control on the local provider, in real Chromium: one browser per party, each speaking its own
espeak voice (agent A: `agent_voice`, agent B: `colleague_voice`, the customer: `customer_voice`), so who
hears whom is measured from the audio each page plays (`listen` / `sounds_like` / `tone_share`), and the
recording's channels are checked the same way across the transfer.
"""

from __future__ import annotations

from datetime import datetime

from playwright.sync_api import expect

from call_center.core.i18n import t
from call_center.testing import (
    HOLD_TONE,
    HOLD_TONE_PERIOD,
    History,
    Softphone,
    agent_voice,
    channel_matches,
    colleague_voice,
    customer_voice,
    recording_of,
    ring_wait_ms,
    say,
    tone_share,
)
from tests.e2e.helpers import PHONE, hears, media_flows, media_stats
from tests.support import appdb

B_NAME, A_NAME = "Omar Colleague", "Test Agent"


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def media_forwarding(app) -> None:  # type: ignore[no-untyped-def]
    """Until the customer's call is back on plain forwarding (two parties): after a three-way part ends,
    what the phone hears is the one agent left, not the tail of the mix."""

    def forwarding() -> bool:
        calls = media_stats(app)["engine"]["calls"].values()
        return all(not call["mixing"] for call in calls if "customer" in call["legs"])

    appdb.wait_for(forwarding, timeout=30)


def hears_hold_tone(party, seconds: float = HOLD_TONE_PERIOD + 0.5) -> None:  # type: ignore[no-untyped-def]
    """Only the hold tone: nearly all it hears is on the tone's two notes (a voice would spread over the
    spectrum; measured: 0.99 on hold, below 0.2 with an agent talking). The tone is a chime every 4 s,
    silent in between: a shorter listen may hear only the silence, whatever the phase."""
    assert seconds > HOLD_TONE_PERIOD, "listen to a whole period of the hold tone"
    rate, samples = party.listen(seconds)
    share = tone_share(samples, rate, HOLD_TONE)
    assert share > 0.8, share


def _answered_call(softphone: Softphone, phone) -> None:  # type: ignore[no-untyped-def]
    softphone.dial(PHONE)
    phone.wait_for_state("incoming")
    phone.answer()
    softphone.wait_for_state("in-progress")
    phone.wait_for_state("in-progress")


def test_hold_the_customer_hears_the_hold_tone_not_the_agent(app, agent_page, test_phone):
    a, phone = Softphone(agent_page, app), test_phone(PHONE)
    _answered_call(a, phone)
    hears(phone, agent_voice(), seconds=5)
    a.hold()
    a.wait_for_state("on-hold")
    expect(agent_page.get_by_role("button", name="استئناف")).to_be_visible()
    hears_hold_tone(phone)
    a.resume()
    a.wait_for_state("in-progress")
    hears(phone, agent_voice(), seconds=5)
    a.hang_up()
    phone.wait_for_state("ended")
    steps = [n["what"] for n in app.timeline(app.latest_call()["id"])]
    assert steps == ["hold", "resume"], steps


def test_cold_transfer_the_customer_hears_b_afterwards_not_a_and_the_recording_follows(
    app, agent_page, colleague_page, test_phone
):
    a, b, phone = Softphone(agent_page, app), Softphone(colleague_page, app), test_phone(PHONE)
    _answered_call(a, phone)
    agent_page.wait_for_timeout(3000)  # A and the customer talk: the recording's first part
    assert B_NAME in a.transfer_targets()
    a.transfer_to(B_NAME, "cold")
    a.wait_for_transfer("ringing")
    incoming = b.incoming().wait()
    assert A_NAME in incoming.transfer_from
    hears_hold_tone(phone)  # while B rings (for 20 s in the test app)
    incoming.accept()
    b.wait_for_state("in-progress")
    media_flows(app, "agent_")
    a.wait_for_outcome("completed")  # A's part is over: the call went to B
    expect(agent_page.locator("#call-outcome")).to_contain_text("حُوِّلت المكالمة")
    assert not a.microphone_open
    hears(phone, colleague_voice(), over=[agent_voice()])
    hears(b, customer_voice(), over=[agent_voice()])
    b.hang_up()
    phone.wait_for_state("ended")

    call = app.wait_for_call(status="completed", customer_number=PHONE)
    assert [step["name"] for step in call["chain"]] == [A_NAME, B_NAME]
    assert call["agent_name"] == B_NAME
    recording = recording_of(app, call)
    handover = (_ts(call["chain"][1]["joined_at"]) - _ts(call["answered_at"])).total_seconds()
    rate = recording.rate
    # the company's side: A before the transfer, B after it; the customer's side: the customer throughout
    before, after = recording.between("agent", 0, handover - 0.5), recording.between("agent", handover + 1)
    assert channel_matches(before, rate, agent_voice()) > 0.5
    assert channel_matches(after, rate, colleague_voice()) > 0.5
    assert (
        channel_matches(after, rate, colleague_voice()) > channel_matches(after, rate, agent_voice()) + 0.15
    )
    customer_side = recording.between("customer", handover + 1)
    assert channel_matches(customer_side, rate, customer_voice()) > 0.5
    assert channel_matches(recording.between("customer", 0, handover - 5), rate, customer_voice()) > 0.5
    # the first agent still finds the call in their history, with its chain
    row = History(agent_page).open().row(call)
    expect(row.locator).to_contain_text(f"{A_NAME}")
    expect(row.locator.get_by_test_id("call-chain")).to_contain_text(B_NAME)


def test_warm_transfer_consult_then_complete(app, agent_page, colleague_page, test_phone):
    a, b, phone = Softphone(agent_page, app), Softphone(colleague_page, app), test_phone(PHONE)
    _answered_call(a, phone)
    a.transfer_to(B_NAME, "warm")
    b.incoming().wait().accept()
    a.wait_for_transfer("consulting")
    media_flows(app, "agent_")
    hears(a, colleague_voice(), seconds=5, over=[customer_voice()])  # A and B talk...
    hears(b, agent_voice(), seconds=5, over=[customer_voice()])
    hears_hold_tone(phone)  # ...the customer does not hear them
    a.complete_transfer()
    a.wait_for_outcome("completed")
    hears(phone, colleague_voice(), over=[agent_voice()])
    b.hang_up()
    phone.wait_for_state("ended")
    steps = [n["what"] for n in app.timeline(app.latest_call()["id"])]
    assert steps == ["transfer-warm", "transfer-answered", "transfer-completed"], steps


def test_warm_transfer_consult_then_cancel_the_customer_is_back_with_a(
    app, agent_page, colleague_page, test_phone
):
    a, b, phone = Softphone(agent_page, app), Softphone(colleague_page, app), test_phone(PHONE)
    _answered_call(a, phone)
    a.transfer_to(B_NAME, "warm")
    b.incoming().wait().accept()
    a.wait_for_transfer("consulting")
    a.talk_to_all()  # three-way: everyone hears the two others (the media server mixes)
    a.wait_for_transfer("conference")
    # The media server mixes for the customer exactly the two agents (its own routes). Which voices a sum
    # of two holds is not told apart by envelope correlation (both score like an absent voice, ~0.25-0.35):
    # who hears whom is checked by voice before and after, where one voice is heard at a time.
    (call,) = [c for c in media_stats(app)["engine"]["calls"].values() if "customer" in c["legs"]]
    assert call["mixing"] and sorted(call["legs"]["customer"]["hears"]) == sorted(
        role for role in call["legs"] if role != "customer"
    ), call
    assert phone.heard() > 0.01  # and the mix reaches the phone
    a.cancel_transfer()
    b.wait_for_outcome("completed")
    a.wait_for_transfer_notice("transfer.reason.canceled")
    media_forwarding(app)
    hears(phone, agent_voice(), over=[colleague_voice()])
    a.hang_up()
    phone.wait_for_state("ended")
    call = app.wait_for_call(status="completed", customer_number=PHONE)
    assert call["agent_name"] == A_NAME and [s["name"] for s in call["chain"]] == [A_NAME, B_NAME]


def test_an_unanswered_transfer_brings_the_customer_back_with_a_clear_message(
    app, agent_page, colleague_page, test_phone
):
    a, b, phone = Softphone(agent_page, app), Softphone(colleague_page, app), test_phone(PHONE)
    _answered_call(a, phone)
    a.transfer_to(B_NAME, "cold")
    b.incoming().wait()  # B does not answer: RING_TIMEOUT_SECONDS is 20 in the test app
    a.wait_for_transfer_notice("transfer.reason.no_answer", timeout_ms=ring_wait_ms(app))
    expect(agent_page.get_by_test_id("transfer-notice")).to_contain_text("لم يرد الطرف المحوَّل إليه")
    expect(b.incoming().banner).to_have_count(0)
    assert a.state == "in-progress"
    hears(phone, agent_voice())
    a.hang_up()
    phone.wait_for_state("ended")


def test_cold_transfer_to_a_number(app, agent_page, test_phone):
    a, phone = Softphone(agent_page, app), test_phone(PHONE)
    desk = say("Extension two hundred here, the warehouse desk speaking.", "en", variant="m7", pitch=60)
    other = test_phone("+201000000005", voice=desk)
    _answered_call(a, phone)
    # nobody else is signed in: no agent to pick; a premium-rate number is refused like in the dialler
    a.transfer_targets()
    expect(agent_page.get_by_test_id("transfer-no-agents")).to_be_visible()
    a.transfer_to_number("09001234567", "cold")
    expect(agent_page.get_by_test_id("transfer-error")).to_have_text(t("dial.error.premium"))
    assert a.state == "in-progress" and a.transfer_state == ""  # nothing lost: still with the customer
    a.transfer_to_number("01000000005", "cold")
    other.wait_for_state("incoming")
    other.answer()
    a.wait_for_outcome("completed")
    other.wait_for_state("in-progress")
    media_flows(app, "ext_")
    hears(phone, desk, over=[agent_voice()])
    other.hang_up()
    phone.wait_for_state("ended")
    call = app.wait_for_call(status="completed", customer_number=PHONE)
    assert [s["name"] for s in call["chain"]] == [A_NAME, "+201000000005"]


def test_answer_race_exactly_one_agent_gets_the_call_the_other_is_released(
    app, agent_page, colleague_page, test_phone
):
    a, b, phone = Softphone(agent_page, app), Softphone(colleague_page, app), test_phone("+201000000002")
    phone.call_company()
    ring_a, ring_b = a.incoming().wait(), b.incoming().wait()
    # Both answer at once: each page sends its answer while the other's may be on the way. On a loaded
    # machine A's answer can be taken and B released before B's click: that is the race too.
    assert ring_a.try_accept()
    ring_b.try_accept()
    phone.wait_for_state("in-progress")
    taken = app.wait_for_call(status="in-progress", customer_number="+201000000002")
    winner, loser = (a, b) if taken["agent_name"] == A_NAME else (b, a)
    winner.wait_for_state("in-progress")
    loser.wait_for_notice("call.notice.answered_elsewhere")
    expect(loser.page.get_by_test_id("call-notice")).to_contain_text("رد موظف آخر على المكالمة.")
    assert loser.state == "idle" and not loser.microphone_open
    hears(phone, agent_voice() if winner is a else colleague_voice())
    winner.hang_up()
    phone.wait_for_state("ended")
    call = app.latest_call()
    assert len(call["chain"]) == 1
