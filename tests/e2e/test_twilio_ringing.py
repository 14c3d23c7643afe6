"""Twilio's inbound path end to end, offline, in real browsers: our bundled @twilio/voice-sdk registers with
Twilio's edge (tests/support/twilio_edge.py), the softphone then opens its event stream (the agent's
presence), and a customer calling the company number rings that agent's `<Client>` in that browser; with
two agents, exactly one gets the call and the other is released.

Twilio is the simulator (tests/support/twilio_sim.py): its REST API is what the app's client talks to
(TWILIO_API_URL, every request held to Twilio's contract), its edge is what the SDK talks to, and its
callbacks reach the app's real URL signed for PUBLIC_BASE_URL. The test writes nothing in the app's
database: who is rung follows from what the browsers did (signed in, registered, opened their stream,
closed their page), and what the app decided is read through its pages and its API.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Page, Response, expect

from call_center.services.numbers import display
from call_center.testing import Softphone, agent_voice, colleague_voice, customer_voice
from call_center.testing.pages import tid
from call_center.testing.server import Account, DisposableApp, start_app
from tests.e2e.conftest import log_in
from tests.e2e.test_twilio_browser import TWILIO
from tests.support.fake_twilio import TWILIO_ENV
from tests.support.twilio_edge import EdgeSim, TwilioEdge
from tests.support.twilio_sim import SimServer, signed_delivery

CUSTOMER = "+201001112223"
SARA = Account("sara@almasar.test", "sara-password-123")
OMAR = Account("omar@almasar.test", "omar-password-123")
MONA = Account("mona@almasar.test", "mona-password-123")
NAMES = {SARA.email: "Sara Twilio", OMAR.email: "Omar Twilio", MONA.email: "Mona Twilio"}
ANSWERED_ELSEWHERE = "call.notice.answered_elsewhere"

# Every microphone track a page obtained (the SDK asks for its own), to check that none is left open: the
# kit's Softphone.microphone_open sees only the local engine's stream.
TRACK_MICROPHONES = """
(() => {
  const media = navigator.mediaDevices;
  if (!media || !media.getUserMedia) return;
  const original = media.getUserMedia.bind(media);
  window.__microphones = [];
  media.getUserMedia = async (constraints) => {
    const stream = await original(constraints);
    window.__microphones.push(...stream.getAudioTracks());
    return stream;
  };
})();
"""

MICROPHONES = "(window.__microphones || [])"
LIVE_MICROPHONES = f"{MICROPHONES}.filter(t => t.readyState === 'live')"

# What the SDK's call plays (the kit's `heard` reads the local engine's analyser, which Twilio calls do not
# feed): the loudest RMS of its remote stream over a few seconds.
SDK_REMOTE_LEVEL = """
async (seconds) => {
  const engine = window.almasarPhone && window.almasarPhone.engine;
  const stream = engine && engine.call && engine.call.twilio && engine.call.twilio.getRemoteStream();
  if (!stream) return -1;
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  let best = 0;
  for (const end = performance.now() + seconds * 1000; performance.now() < end; ) {
    analyser.getFloatTimeDomainData(data);
    best = Math.max(best, Math.sqrt(data.reduce((sum, v) => sum + v * v, 0) / data.length));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await ctx.close();
  return best;
}
"""

# The ringing call the SDK announced (Twilio's invite, as the SDK parsed it).
SDK_PENDING = """
(() => {
  const pending = window.almasarPhone.engine.pending;
  const params = pending && pending.twilio.parameters;
  return pending && { leg: pending.leg, from: params.From, to: params.To };
})()
"""

# Holds the app's messages of one type in a page (its event stream), so that Twilio's word comes first.
HOLD_STREAM = """
(type) => {
  const signals = window.almasarPhone.signals;
  const deliver = signals.onMessage;
  window.__heldSignals = [];
  signals.onMessage = (msg) => (msg.type === type ? window.__heldSignals.push(msg) : deliver(msg));
  window.__releaseSignals = () => {
    signals.onMessage = deliver;
    window.__heldSignals.splice(0).forEach(deliver);
  };
}
"""


@dataclass
class TwilioApp:
    app: DisposableApp
    server: SimServer
    sim: EdgeSim
    ids: dict[str, int] = field(default_factory=dict)


@pytest.fixture(scope="module")
def twilio_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwilioApp]:
    """The app on Twilio (the browser test's settings, on the simulator's account) with its REST API going
    to the simulator's server, and three agents."""
    holder: dict[str, DisposableApp] = {}

    def post(path: str, signature: str, params: dict[str, str]) -> httpx.Response:
        response = httpx.post(
            holder["app"].url + path,
            content=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
            timeout=30,
        )
        assert response.status_code < 300, (path, response.status_code, response.text[:300])
        if "/webhook/" in path:  # acknowledged once stored: what the app does about it follows
            holder["app"].wait_webhooks_applied()
        return response

    sim = EdgeSim(signed_delivery(post))  # one for the app's life: no CallSid it has seen comes again
    server = SimServer(sim)
    # Ring-all: these tests are about every registered agent's browser ringing at once (the queue's other
    # strategies are tested offline: tests/integration/test_twilio_queue.py).
    settings = {**TWILIO, **TWILIO_ENV, "TWILIO_API_URL": server.url, "QUEUE_STRATEGY": "ring-all"}
    app = holder["app"] = start_app(tmp_path_factory.mktemp("twilio-ringing") / "data", settings=settings)
    try:
        ids = {}
        for account in (SARA, OMAR, MONA):
            app.create_agent(account.email, NAMES[account.email], account.password)
            with app.api(account) as client:
                ids[account.email] = int(client.get("/api/auth/me").json()["id"])
        yield TwilioApp(app, server, sim, ids)
    finally:
        app.stop()
        server.close()


@dataclass
class Agent:
    """An agent's browser: the page, its softphone, the Twilio identity, what its event stream answered."""

    page: Page
    phone: Softphone
    identity: str
    streams: list[int]

    @property
    def banner(self) -> Any:
        return tid(self.page, "incoming-call")

    def microphones(self) -> tuple[int, int]:
        """(microphone tracks the page obtained, those still live)."""
        got = self.page.evaluate(f"[{MICROPHONES}.length, {LIVE_MICROPHONES}.length]")
        return int(got[0]), int(got[1])

    def wait_released(self, obtained: int) -> None:
        """Every microphone track the page obtained (`obtained` of them) has been stopped."""
        self.page.wait_for_function(f"{LIVE_MICROPHONES}.length === 0")
        assert self.microphones() == (obtained, 0)

    def rings(self, leg: str) -> Any:
        """The incoming-call banner, once the SDK rings for `leg` and the app's offer for it (who calls,
        which of our calls it is) has reached the page too: the two come on their own channels."""
        ring = self.phone.incoming().wait()
        self.page.wait_for_function("leg => window.almasarPhone.engine.offers.has(leg)", arg=leg)
        return ring

    def wait_sdk_calls(self, count: int) -> None:
        """The SDK holds `count` calls (ringing or connected)."""
        self.page.wait_for_function(f"window.almasarPhone.engine.device.calls.length === {count}")

    def hears(self, level: float = 0.05, timeout: float = 15.0) -> bool:
        """Whether the SDK's call plays something louder than `level`, measured a second at a time until
        it does (media starts once ICE and DTLS are through) or `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if float(self.page.evaluate(SDK_REMOTE_LEVEL, 1.0)) > level:
                return True
        return False


@dataclass
class World:
    twilio: TwilioApp
    edge: TwilioEdge
    new_page: Callable[..., Page]
    open_browser: Callable[..., Any]

    @property
    def app(self) -> DisposableApp:
        return self.twilio.app

    @property
    def sim(self) -> EdgeSim:
        return self.twilio.sim

    def sign_in(self, account: Account, voice: Path, *, reachable: bool = True) -> Agent:
        """`account` on /call-center in a browser of its own, its SDK's signaling going to the edge."""
        page = self.new_page(self.open_browser(voice))
        page.context.add_init_script(TRACK_MICROPHONES)
        self.edge.attach(page, reachable=reachable)
        streams: list[int] = []

        def on_response(response: Response) -> None:
            if "/api/devices/events" in response.url:
                streams.append(response.status)

        page.on("response", on_response)
        log_in(page, self.app, account.email, account.password)
        return Agent(page, Softphone(page, self.app), f"agent_{self.twilio.ids[account.email]}", streams)

    def online(self, account: Account, voice: Path) -> Agent:
        """Signed in, registered with Twilio, its event stream open."""
        agent = self.sign_in(account, voice)
        agent.phone.wait_registered()
        self.edge.wait_registered(agent.identity)
        # The stream's greeting comes once the server noted the presence (the page shows "registered" as
        # soon as the SDK is, a moment earlier).
        agent.page.wait_for_function("window.almasarPhone.signals && window.almasarPhone.signals.connected")
        return agent

    def rung(self) -> list[tuple[str, str]]:
        """(To, CallSid) of every agent's `<Client>` the app asked Twilio to ring, in order."""
        return [(leg.to, leg.sid) for leg in self.sim.legs.values() if leg.to.startswith("client:")]

    def customer_calls(self, number: str = CUSTOMER) -> tuple[str, dict[str, str]]:
        """A customer calls the company number and Twilio plays the app's answers through: the customer's
        CallSid, and {identity: leg} of the agents the app had rung for it."""
        before = len(self.rung())
        caller = self.sim.customer_calls(number)
        self.sim.run()
        return caller, {to.removeprefix("client:"): sid for to, sid in self.rung()[before:]}

    def answer(self, agent: Agent, leg: str) -> None:
        """`agent` answers `leg` in the browser; once its SDK answered Twilio, Twilio tells the app."""
        agent.rings(leg).accept()
        self.edge.wait_answered(leg)
        self.sim.run()

    def hang_up(self, agent: Agent, call_sid: str) -> None:
        """`agent` hangs up in the browser; once its SDK told Twilio, Twilio tells the app."""
        agent.phone.hang_up()
        self.edge.wait_for(
            lambda: self.edge.received(agent.identity, "hangup"), f"{agent.identity} to hang up"
        )
        self.sim.run()
        agent.phone.wait_for_outcome("completed")
        self.app.wait_for_call(status="completed", call_sid=call_sid)


@pytest.fixture
def world(
    twilio_app: TwilioApp, new_page: Callable[..., Page], open_browser: Callable[..., Any]
) -> Iterator[World]:
    edge = TwilioEdge()
    edge.bind(twilio_app.sim)
    twilio_app.server.requests.clear()
    twilio_app.server.violations.clear()
    try:
        yield World(twilio_app, edge, new_page, open_browser)
        edge.check()
        assert not twilio_app.server.violations, "\n".join(twilio_app.server.violations)
    finally:
        twilio_app.sim.edge = None
        edge.close()


def test_a_registered_browser_is_rung_through_twilios_inbound_path(world: World) -> None:
    sara = world.online(SARA, agent_voice())
    # the SDK registered with the token the app issued (the edge checked it), then the stream opened
    assert world.edge.received(sara.identity, "register")[-1] == {"media": {"audio": True}}
    assert sara.streams == [200]

    caller, legs = world.customer_calls()
    assert list(legs) == [sara.identity]  # the app counts her available: her browser's stream says so
    assert world.sim.legs[legs[sara.identity]].from_ == CUSTOMER  # her softphone is shown who calls
    ring = sara.rings(legs[sara.identity])
    expect(tid(ring.banner, "incoming-from")).to_have_text(display(CUSTOMER, "EG"))
    assert world.edge.sent(sara.identity, "invite") == [legs[sara.identity]]
    to = f"client:{sara.identity}"
    assert sara.page.evaluate(SDK_PENDING) == {"leg": legs[sara.identity], "from": CUSTOMER, "to": to}
    assert sara.phone.state == "idle" and sara.microphones() == (0, 0)  # ringing takes no microphone

    # the customer gives up: the app stops her leg, Twilio cancels it in her browser, the banner goes
    world.sim.hang_up(caller)
    world.sim.run()
    expect(ring.banner).to_have_count(0)
    world.edge.wait_for(lambda: world.edge.sent(sara.identity, "cancel") == [legs[sara.identity]], "cancel")
    sara.wait_sdk_calls(0)
    assert sara.phone.state == "idle" and sara.phone.notice == "" and sara.microphones() == (0, 0)
    call = world.app.wait_for_call(status="canceled", call_sid=caller)
    assert (call["hangup_by"], call["agent_id"]) == ("customer", None)


def test_answer_race_on_twilio_exactly_one_agent_gets_the_call_the_other_is_released(world: World) -> None:
    sara, omar = world.online(SARA, agent_voice()), world.online(OMAR, colleague_voice())
    caller, legs = world.customer_calls()
    assert sorted(legs) == sorted([sara.identity, omar.identity])
    sara.rings(legs[sara.identity])
    expect(tid(omar.rings(legs[omar.identity]).banner, "incoming-from")).to_have_text(display(CUSTOMER, "EG"))
    # Twilio's word to the loser comes after the app's own here (the app tells the losers, then asks
    # Twilio to stop their legs); the other order: test_the_notice_shows_when_twilios_word_comes_before_...
    with world.edge.holding(sara.identity), world.edge.holding(omar.identity):
        sara.phone.incoming().accept()
        omar.phone.incoming().accept()  # both answer at once: both SDKs send Twilio their answer
        world.edge.wait_answered(legs[sara.identity], legs[omar.identity])
        world.sim.run()  # Twilio tells the app in the order the answers came: the first to join takes it
        taken = world.app.wait_for_call(status="in-progress", call_sid=caller)
        winner, loser = (sara, omar) if taken["agent_name"] == NAMES[SARA.email] else (omar, sara)
        assert next(iter(world.edge.answered)) == legs[winner.identity]  # the first answer
        loser.phone.wait_for_notice(ANSWERED_ELSEWHERE)
        expect(tid(loser.page, "call-notice")).to_contain_text("رد موظف آخر على المكالمة.")
        winner.phone.wait_for_state("in-progress")
    world.sim.run()
    # the loser: back to idle, told why, its SDK call gone and the microphone it had opened released
    assert loser.phone.state == "idle" and not loser.phone.microphone_open
    loser.wait_released(obtained=1)
    expect(loser.banner).to_have_count(0)
    loser.wait_sdk_calls(0)
    assert world.sim.legs[legs[loser.identity]].status == "completed"  # in the room a moment, then out
    # the winner talks over Twilio's media: it hears the edge's tone, and the edge hears its microphone
    assert winner.hears(0.05)
    world.edge.wait_for(lambda: world.edge.heard_from(legs[winner.identity]) > 0.01, "its microphone")
    assert winner.microphones() == (1, 1)
    world.hang_up(winner, caller)
    winner.wait_released(obtained=1)
    assert loser.microphones() == (1, 0)
    chain = world.app.call(taken["id"])["chain"]
    assert [step["name"] for step in chain] == [taken["agent_name"]]


def test_the_agent_still_ringing_stops_when_another_answers_on_twilio(world: World) -> None:
    sara, omar = world.online(SARA, agent_voice()), world.online(OMAR, colleague_voice())
    caller, legs = world.customer_calls()
    omar.rings(legs[omar.identity])
    with world.edge.holding(omar.identity):  # Twilio's cancel of his leg is on its way (see the race)
        world.answer(sara, legs[sara.identity])
        sara.phone.wait_for_state("in-progress")
        omar.phone.wait_for_notice(ANSWERED_ELSEWHERE)
        expect(omar.banner).to_have_count(0)
        world.edge.wait_for(lambda: world.edge.held(omar.identity) == ["cancel"], "the app to stop his leg")
        omar.wait_sdk_calls(1)  # his SDK still holds the ringing call: Twilio ends it
    omar.wait_sdk_calls(0)
    assert world.edge.sent(omar.identity, "cancel") == [legs[omar.identity]]
    assert omar.phone.state == "idle" and omar.phone.notice == ANSWERED_ELSEWHERE
    assert omar.microphones() == (0, 0)  # he never answered: his microphone was never asked for
    assert world.sim.legs[legs[omar.identity]].status == "canceled"
    taken = world.app.wait_for_call(status="in-progress", call_sid=caller)
    assert taken["agent_name"] == NAMES[SARA.email]
    world.hang_up(sara, caller)
    sara.wait_released(obtained=1)


@pytest.mark.parametrize("loser", ["ringing", "answering"])
def test_the_notice_shows_when_twilios_word_comes_before_the_apps(world: World, loser: str) -> None:
    sara, omar = world.online(SARA, agent_voice()), world.online(OMAR, colleague_voice())
    caller, legs = world.customer_calls()
    omar.rings(legs[omar.identity])
    omar.page.evaluate(HOLD_STREAM, "cancel")
    try:
        sara.rings(legs[sara.identity]).accept()
        world.edge.wait_answered(legs[sara.identity])
        if loser == "answering":  # he answers too, after her: she joins first
            omar.phone.incoming().accept()
            world.edge.wait_answered(legs[omar.identity])
        world.sim.run()
        sara.phone.wait_for_state("in-progress")
        omar.page.wait_for_function("window.__heldSignals.some(m => m.reason === 'answered-elsewhere')")
        kind = "cancel" if loser == "ringing" else "hangup"
        world.edge.wait_for(lambda: world.edge.sent(omar.identity, kind) == [legs[omar.identity]], kind)
        omar.wait_sdk_calls(0)
        expect(omar.banner).to_have_count(0)  # Twilio's word came first and ended his call
        omar.page.evaluate("window.__releaseSignals()")  # then the app's
        expect(tid(omar.page, "call-notice")).to_have_attribute(
            "data-notice", ANSWERED_ELSEWHERE, timeout=5000
        )
        assert omar.phone.state == "idle"
    finally:
        world.hang_up(sara, caller)


def test_answering_before_the_apps_offer_arrives_still_shows_the_call(world: World) -> None:
    sara = world.online(SARA, agent_voice())
    sara.page.evaluate(HOLD_STREAM, "incoming")
    caller, legs = world.customer_calls()
    sara.phone.incoming().wait()  # Twilio's invite rang her browser; the app's offer is still on its way
    sara.page.wait_for_function("window.__heldSignals.some(m => m.type === 'incoming')")
    try:
        sara.phone.incoming().accept()
        world.edge.wait_answered(legs[sara.identity])
        sara.page.evaluate("window.__releaseSignals()")
        world.sim.run()
        expect(tid(sara.page, "call-state")).to_have_attribute("data-state", "in-progress", timeout=5000)
    finally:
        sara.phone.hang_up()
        world.edge.wait_for(lambda: world.edge.received(sara.identity, "hangup"), "her hang-up")
        world.sim.run()
        world.app.wait_for_call(status="completed", call_sid=caller)


def transfer_targets(agent: Agent) -> list[str]:
    return [t.get_attribute("data-agent-name") or "" for t in tid(agent.page, "transfer-target").all()]


def test_an_agent_whose_browser_is_not_registered_or_closed_is_not_rung(world: World) -> None:
    sara, omar = world.online(SARA, agent_voice()), world.online(OMAR, colleague_voice())
    # Mona signs in (so she is available), but Twilio cannot be reached from her browser: her SDK never
    # registers, so her softphone never opens its stream
    mona = world.sign_in(MONA, customer_voice(), reachable=False)
    expect(tid(mona.page, "device-error")).to_be_visible()
    expect(tid(mona.page, "phone-status")).not_to_have_attribute("data-registered", "true")
    assert mona.streams == [] and world.edge.received(mona.identity, "listen") == []

    caller, first = world.customer_calls()
    assert sorted(first) == sorted([sara.identity, omar.identity])  # not Mona
    omar.rings(first[omar.identity])
    with world.edge.holding(omar.identity):  # Twilio's cancel after the app's word (see the race)
        world.answer(sara, first[sara.identity])
        sara.phone.wait_for_state("in-progress")
        omar.phone.wait_for_notice(ANSWERED_ELSEWHERE)
    omar.wait_sdk_calls(0)
    # whom the app counts available now, as Sara's transfer panel lists them: Omar, and not Mona
    tid(sara.page, "call-transfer").click()
    expect(tid(sara.page, "transfer-target")).to_have_count(1)
    assert transfer_targets(sara) == [NAMES[OMAR.email]]
    # Omar closes his page: his SDK and his stream go with it, and the app stops counting him
    omar.page.context.close()
    world.edge.wait_for(lambda: omar.identity not in world.edge.registered(), "his SDK to go")
    deadline = time.monotonic() + 15
    while transfer_targets(sara):  # the server notices the closed stream on its own time: ask again
        assert time.monotonic() < deadline, f"still listed after his page closed: {transfer_targets(sara)}"
        tid(sara.page, "transfer-refresh").click()
        with contextlib.suppress(AssertionError):
            expect(tid(sara.page, "transfer-target")).to_have_count(0, timeout=1000)
    world.hang_up(sara, caller)

    # the next caller rings Sara alone: Omar's page is closed, Mona's browser never registered
    second, legs = world.customer_calls("+201001112224")
    assert list(legs) == [sara.identity]
    ring = sara.rings(legs[sara.identity])
    expect(tid(ring.banner, "incoming-from")).to_have_text(display("+201001112224", "EG"))
    world.sim.hang_up(second)
    world.sim.run()
    expect(ring.banner).to_have_count(0)
    assert world.edge.sent(omar.identity, "invite") == [first[omar.identity]]
    assert world.edge.sent(mona.identity, "invite") == []
    world.app.wait_for_call(status="canceled", call_sid=second)
