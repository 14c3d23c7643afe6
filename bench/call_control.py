"""Benchmark: local call control with real Chromium legs (3-party mix CPU, transfer hand-over latency).

Runs the real app (`python -m call_center serve`) and three parties, each in its own Chromium with a fake
microphone speaking its own espeak-ng voice (a fake microphone is per browser process): agent A
("Test Agent") and agent B ("Omar Colleague") on /call-center, the customer on a simulated phone (/phone).

- CPU: one call, the media server process's CPU seconds (psutil) per call-minute, recording on, each phase
  held for --hold seconds: two-party (A and the customer: Opus forwarded), warm consult (A and B talk, the
  customer hears the hold tone: still forwarding) and "talk to all" (three-way: every leg hears the two
  others, so the media server decodes, mixes and re-encodes for each of the three).
- hand-over: A clicks "Complete" on a warm transfer (or B clicks "Answer" on a cold one) -> B's page hears
  the customer (WebAudio analyser on B's remote audio above silence). Both ends are timestamped in the
  pages (same clock): the click by a capture-phase listener on the button, the sound by polling the
  analyser every few ms. A's microphone is muted (the softphone's mute button) before the transfer, so the
  first sound B's page plays is the customer's voice, not A's. The customer speaks the kit's customer voice
  with its pauses cut out (sox `silence`): Chromium's fake microphone restarts its file whenever the phone
  opens it (each answer), so with the pauses in, every round's click fell at about the same place in the
  sentence and a pause there added itself to every round. The customer's microphone level is traced and
  the longest silence between the click and B hearing is reported, to show the figure holds no pause.

    .venv/bin/python bench/call_control.py [--rounds 10] [--hold 60] [--modes warm,cold]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from _common import machine, percentile  # noqa: E402
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright  # noqa: E402
from playwright.sync_api import Error as PlaywrightError  # noqa: E402

from call_center.testing.audio import agent_voice, colleague_voice, customer_voice, decode  # noqa: E402
from call_center.testing.browser import CHROMIUM, chromium_args  # noqa: E402
from call_center.testing.pages import Softphone, TestPhone  # noqa: E402
from call_center.testing.server import ADMIN_EMAIL, ADMIN_PASSWORD, DisposableApp, start_app  # noqa: E402
from tests.e2e.conftest import log_in  # noqa: E402
from tests.e2e.helpers import PHONE, media_stats  # noqa: E402

A_NAME, B_NAME = "Test Agent", "Omar Colleague"
A_LOGIN = ("agent@almasar.test", "agent-password-123")
B_LOGIN = ("colleague@almasar.test", "colleague-password-123")
LEVEL = 0.01  # the analyser's RMS above which a page hears someone (silence stays near 0)

NOW_JS = "performance.timeOrigin + performance.now()"
# The moment the app's click handler runs: a capture-phase listener sees the click before the button does.
WATCH_CLICKS = f"""() => {{ if (window.__clickWatch) return;
  window.__clickWatch = true; window.__clicks = {{}};
  document.addEventListener('click', (ev) => {{
    const el = ev.target.closest && ev.target.closest('[data-testid]');
    if (el) window.__clicks[el.getAttribute('data-testid')] = {NOW_JS}; }}, true); }}"""
WATCH_HEARD = f"""(level) => {{ window.__heard = 0; const tick = () => {{ const p = window.almasarPhone;
  if (p && p.remoteLevel() > level) {{ window.__heard = {NOW_JS}; return; }}
  setTimeout(tick, 2); }}; tick(); }}"""
# The customer's microphone level over time (what the fake device is playing), to find pauses in speech.
TRACE_MIC = f"""() => {{ window.__mic = []; const tick = () => {{ const p = window.almasarPhone;
  window.__mic.push([{NOW_JS}, p ? p.micLevel() : 0]);
  if (window.__mic.length < 6000) setTimeout(tick, 4); }}; tick(); }}"""
# B's side of a cold transfer's answer, step by step: microphone open, the answer POSTed (offer with its
# candidates), the media server's answer back, the peer connection connected (ICE + DTLS done).
WATCH_STEPS = f"""() => {{ if (window.__stepsWatch) return; window.__stepsWatch = true; window.__steps = {{}};
  const mark = (name) => {{ window.__steps[name] = {NOW_JS}; }};
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c) => gum(c).then((s) => {{ mark('microphone'); return s; }});
  const fetch0 = window.fetch.bind(window);
  window.fetch = (url, init) => {{ const answer = String(url).endsWith('/answer');
    if (answer) mark('posted'); const reply = fetch0(url, init);
    return answer ? reply.then((r) => {{ mark('answered'); return r; }}) : reply; }};
  const Peer = window.RTCPeerConnection;
  window.RTCPeerConnection = function (config) {{ const pc = new Peer(config);
    pc.addEventListener('connectionstatechange', () => {{
      if (pc.connectionState === 'connected') mark('connected'); }});
    return pc; }};
  window.RTCPeerConnection.prototype = Peer.prototype; }}"""
LOUDEST = """(ms) => new Promise((done) => { let best = 0; const end = performance.now() + ms;
  const tick = () => { const p = window.almasarPhone; best = Math.max(best, p ? p.remoteLevel() : 0);
    if (performance.now() < end) setTimeout(tick, 5); else done(best); }; tick(); })"""


def level_window(page: Page, seconds: float) -> float:
    """The loudest remote level the page played over `seconds`."""
    return float(page.evaluate(LOUDEST, seconds * 1000))


class Parties:
    """Agent A, agent B and the customer's phone, each in its own Chromium."""

    def __init__(self, pw: Playwright, app: DisposableApp):
        self.app = app
        self.browsers: list[Browser] = []
        self.a_page = self._signed_in(pw, agent_voice(), *A_LOGIN)
        self.b_page = self._signed_in(pw, colleague_voice(), *B_LOGIN)
        phone_page = self._page(pw, steady_customer_voice())
        log_in(phone_page, app, ADMIN_EMAIL, ADMIN_PASSWORD, path="/phone")
        self.a, self.b = Softphone(self.a_page, app), Softphone(self.b_page, app)
        self.phone = TestPhone(phone_page, app).use_number(PHONE)
        self.instrument()

    def instrument(self) -> None:
        for page in (self.a_page, self.b_page, self.phone.page):
            page.evaluate(WATCH_CLICKS)
        self.b_page.evaluate(WATCH_STEPS)

    def diagnose(self) -> str:
        """What each page shows and what its phone engine holds (for a round that failed)."""
        parts = []
        for name, page, screen in (("A", self.a_page, "call-state"), ("B", self.b_page, "call-state"),
                                   ("phone", self.phone.page, "phone-screen")):  # fmt: skip
            shown = page.locator(f'[data-testid="{screen}"]')
            state = shown.first.get_attribute("data-state") if shown.count() else "-"
            engine = page.evaluate(
                "() => { const e = window.almasarPhone && window.almasarPhone.engine;"
                " return e ? JSON.stringify({call: e.call, early: [...e.early.byCall.entries()]}) : ''; }"
            )
            parts.append(f"{name}: shows {state}, engine {engine}")
        return "; ".join(parts)

    def reset(self) -> None:
        """After a round that failed: hang up what is up, reload the pages."""
        for page, button in ((self.a_page, "call-hangup"), (self.b_page, "call-hangup"),
                             (self.phone.page, "phone-hangup")):  # fmt: skip
            found = page.locator(f'[data-testid="{button}"]')
            try:
                if found.count() and found.first.is_visible():
                    found.first.click(timeout=5000)
            except PlaywrightError:
                pass  # the page is reloaded below anyway
        time.sleep(2)
        for softphone in (self.a, self.b):
            softphone.page.goto(f"{self.app.url}/call-center")
            softphone.wait_registered()
        self.phone.page.goto(f"{self.app.url}/phone")
        self.phone.use_number(PHONE)
        time.sleep(5)  # anything left of the failed call ends (its legs are gone)
        self.instrument()

    def _page(self, pw: Playwright, wav: Path) -> Page:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args(wav))
        self.browsers.append(browser)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(30_000)
        return context.new_page()

    def _signed_in(self, pw: Playwright, wav: Path, email: str, password: str) -> Page:
        page = self._page(pw, wav)
        log_in(page, self.app, email, password)
        Softphone(page, self.app).wait_registered()
        return page

    def answered_call(self) -> None:
        self.a.dial(PHONE)
        self.phone.answer()
        self.a.wait_for_state("in-progress")
        self.phone.wait_for_state("in-progress")

    def mute_a(self) -> None:
        self.a.mute()
        expect(self.a_page.locator('[data-testid="call-mute"]')).to_have_attribute("aria-pressed", "true")

    def end_with_b(self) -> None:
        """After the hand-over: B hangs up, every page is back to idle."""
        self.a.wait_for_outcome("completed")
        self.b.hang_up()
        self.phone.wait_for_state("ended")
        self.b.wait_for_outcome("completed")

    def close(self) -> None:
        for browser in self.browsers:
            browser.close()


# CPU -----------------------------------------------------------------------------------------------------
def _window(app: DisposableApp, media: psutil.Process, hold: float) -> dict[str, Any]:
    """CPU-s per call-minute of the one call over `hold` s, and packets per second each leg was sent."""
    stats = media_stats(app)["engine"]
    before, started, load0 = media.cpu_times(), time.monotonic(), os.getloadavg()[0]
    time.sleep(hold)
    after, elapsed = media.cpu_times(), time.monotonic() - started
    later = media_stats(app)["engine"]
    cpu = (after.user - before.user) + (after.system - before.system)
    (sid, call), *_ = later["calls"].items()
    legs = {
        role: (leg["packets_out"] - stats["calls"][sid]["legs"][role]["packets_out"]) / elapsed
        for role, leg in call["legs"].items()
        if role in stats["calls"].get(sid, {}).get("legs", {})
    }
    return {
        "cpu_per_call_minute": cpu / (elapsed / 60),
        "core_busy": cpu / elapsed,
        "mixing": call["mixing"],
        "hears": {role: leg["hears"] for role, leg in call["legs"].items()},
        "pkt_s_out": legs,
        "rss_mb": media.memory_info().rss / 2**20,
        "load": (load0, os.getloadavg()[0]),
    }


def cpu_phases(parties: Parties, hold: float) -> dict[str, dict[str, Any]]:
    app, a, b = parties.app, parties.a, parties.b
    media = psutil.Process(media_stats(app)["pid"])
    phases: dict[str, dict[str, Any]] = {}
    parties.answered_call()
    time.sleep(2)
    phases["two-party (A + customer, forwarding)"] = _window(app, media, hold)
    a.transfer_to(B_NAME, "warm")
    b.incoming().wait().accept()
    a.wait_for_transfer("consulting")
    time.sleep(2)
    phases["warm consult (A + B forwarding, customer on hold tone)"] = _window(app, media, hold)
    a.talk_to_all()
    a.wait_for_transfer("conference")
    time.sleep(2)
    phases["talk to all (3-party mix)"] = _window(app, media, hold)
    a.complete_transfer()
    parties.end_with_b()
    time.sleep(1)
    return phases


# Hand-over -----------------------------------------------------------------------------------------------
def _quiet(page: Page, timeout: float = 5.0) -> float:
    """Wait until the page hears nothing for 0.4 s; the loudest level of the last window."""
    deadline = time.monotonic() + timeout
    while True:
        best = level_window(page, 0.4)
        if best < LEVEL or time.monotonic() > deadline:
            return best
        time.sleep(0.05)


def _wait_heard(page: Page, timeout: float = 10.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        heard = float(page.evaluate("window.__heard") or 0)
        if heard:
            return heard
        time.sleep(0.02)
    return 0.0


def _longest_silence(phone: Page, start: float, end: float) -> float:
    """The longest stretch (ms) between `start` and `end` the customer's microphone was below silence."""
    longest, quiet_since = 0.0, None
    for at, level in phone.evaluate("window.__mic"):
        if at < start or at > end:
            continue
        if level > LEVEL:
            quiet_since = None
        else:
            quiet_since = at if quiet_since is None else quiet_since
            longest = max(longest, at - quiet_since)
    return longest


def steady_customer_voice() -> Path:
    """The kit's customer voice without its pauses (every stretch quieter than 2 % for 10 ms is cut)."""
    source = customer_voice()
    target = source.with_name(f"{source.stem}-steady.wav")
    if not target.exists():
        silence = ["silence", "1", "0.01", "2%", "-1", "0.01", "2%"]
        subprocess.run(["sox", str(source), str(target), *silence], check=True)
    return target


def handover(parties: Parties, mode: str) -> dict[str, float]:
    """One transfer; ms from the click (Complete, or B's Answer when cold) to B hearing the customer."""
    a, b, phone = parties.a, parties.b, parties.phone
    parties.answered_call()
    parties.mute_a()
    a.transfer_to(B_NAME, mode)
    incoming = b.incoming().wait()
    if mode == "warm":
        incoming.accept()
        a.wait_for_transfer("consulting")
        b.wait_for_state("in-progress")
        residual = _quiet(parties.b_page)  # A is muted and the customer is on hold: B hears nothing
        clicker, button = parties.a_page, "transfer-complete"
    else:
        residual, clicker, button = 0.0, parties.b_page, "incoming-accept"
    parties.b_page.evaluate(WATCH_HEARD, LEVEL)
    phone.page.evaluate(TRACE_MIC)
    clicker.evaluate(f"() => delete window.__clicks['{button}']")
    parties.b_page.evaluate("() => { window.__steps = {}; }")
    if mode == "warm":
        a.complete_transfer()
    else:
        incoming.accept()
    heard = _wait_heard(parties.b_page)
    clicked = float(clicker.evaluate(f"window.__clicks['{button}']"))
    pause = _longest_silence(phone.page, clicked, heard or clicked + 10_000)
    steps = {k: float(v) - clicked for k, v in parties.b_page.evaluate("window.__steps").items()}
    parties.end_with_b()
    load = os.getloadavg()[0]
    time.sleep(1)
    if not heard:
        return {"ms": float("nan"), "pause_ms": pause, "load": load}
    return {
        "ms": heard - clicked,
        "pause_ms": pause,
        "residual": residual,
        "load": load,
        **steps,
    }


def mixer_alone(ticks: int = 1500) -> dict[str, float]:
    """The engine's Mixer for three talkers (each hears the two others), ticked in this process with real
    Opus packets of the three voices: CPU per 20 ms tick, and what one Opus decode / encode costs with the
    mixer's own codec settings."""
    import asyncio

    import av

    from call_center.telephony.local import mixer as mixing
    from call_center.telephony.local.tones import FRAME, RATE, encode_opus

    streams = {}
    for name, wav in (("a", agent_voice()), ("b", colleague_voice()), ("customer", customer_voice())):
        rate, samples = decode(wav)
        assert rate == RATE, rate
        streams[name] = encode_opus(samples[0][: RATE * 5])

    class Sink:
        def push(self, source: int, timestamp: int, payload: bytes, now: float) -> None:
            pass

    async def configured() -> mixing.Mixer:
        mixer = mixing.Mixer("bench")
        mixer.configure({name: (tuple(o for o in streams if o != name), Sink()) for name in streams})
        mixer.stop()  # no ticking task: ticked by hand below
        return mixer

    mixer = asyncio.run(configured())

    def feed(index: int) -> None:
        for name, packets in streams.items():
            mixer.feed(name, packets[index % len(packets)])

    for index in range(50):  # warm-up
        feed(index)
        mixer.tick()
    started = time.process_time()
    for index in range(ticks):
        feed(index)
        mixer.tick()
    tick = (time.process_time() - started) / ticks
    decoder, packets = mixing._decoder(), streams["a"]
    started = time.process_time()
    for index in range(ticks):
        decoder.decode(av.Packet(packets[index % len(packets)]))
    decode_s = (time.process_time() - started) / ticks
    _, samples = decode(agent_voice())
    pcm = (samples[0] * 32767).astype(np.int16)
    encoder = mixing._encoder()
    started = time.process_time()
    for index in range(ticks):
        start = (index * FRAME) % (len(pcm) - FRAME)
        frame = av.AudioFrame.from_ndarray(pcm[None, start : start + FRAME], format="s16", layout="mono")
        frame.sample_rate, frame.pts = RATE, index * FRAME
        encoder.encode(frame)
    encode_s = (time.process_time() - started) / ticks
    return {"tick_ms": tick * 1000, "decode_ms": decode_s * 1000, "encode_ms": encode_s * 1000}


def longest_pause(wav: Path) -> float:
    """The longest stretch (ms) of the voice file below the level the pages call silence (20 ms frames)."""
    rate, samples = decode(wav)
    mono = samples[0]
    size = rate // 50
    frames = mono[: len(mono) // size * size].reshape(-1, size)
    quiet = np.sqrt((frames**2).mean(axis=1)) < LEVEL
    quiet = np.concatenate([quiet, quiet])  # the fake microphone loops the file
    best = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        best = max(best, run)
    return min(best, len(frames)) * 20.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="transfers timed per mode")
    parser.add_argument("--hold", type=float, default=60.0, help="seconds each CPU phase is held")
    parser.add_argument("--modes", default="warm,cold", help="transfer modes timed: warm, cold")
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU phases")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-call-control-"))
    load_start = os.getloadavg()
    # one agent places every call: lift the per-agent toll-fraud limit (default 10 a minute, at most 120)
    app = start_app(work / "data", settings={"CALLS_PER_MINUTE": "120"})
    app.create_agent(A_LOGIN[0], A_NAME, A_LOGIN[1])
    app.create_agent(B_LOGIN[0], B_NAME, B_LOGIN[1])
    expect.set_options(timeout=15_000)
    phases: dict[str, dict[str, Any]] = {}
    rounds: dict[str, list[dict[str, float]]] = {}
    failed: dict[str, int] = {}
    try:
        with sync_playwright() as pw:
            parties = Parties(pw, app)
            try:
                if not args.no_cpu:
                    phases = cpu_phases(parties, args.hold)
                    for name, row in phases.items():
                        print(f"{name}: {row}", flush=True)
                for mode in [m for m in args.modes.split(",") if m]:
                    rounds[mode] = []
                    while len(rounds[mode]) < args.rounds:
                        try:
                            rounds[mode].append(handover(parties, mode))
                        except (AssertionError, PlaywrightError) as exc:  # a step timed out: retried
                            failed[mode] = failed.get(mode, 0) + 1
                            print(f"{mode}: round failed ({str(exc).splitlines()[0]}); retrying", flush=True)
                            print(f"  {parties.diagnose()}", flush=True)
                            if failed[mode] > 3:
                                raise
                            parties.reset()
                            continue
                        print(f"{mode} {len(rounds[mode])}: {rounds[mode][-1]}", flush=True)
            finally:
                parties.close()
    finally:
        app.stop()

    print(f"\nlocal provider, 3 real Chromium legs; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}")
    print(f"command: {' '.join(sys.argv)}")
    print(f"1-minute load: {load_start[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end\n")
    if phases:
        print("| one call, phase | media CPU-s per call-minute | core busy | mixing |"
              " pkt/s sent per leg | media RSS MB | load |")  # fmt: skip
        print("|---|---|---|---|---|---|---|")
        for name, row in phases.items():
            pkts = ", ".join(f"{role} {rate:.1f}" for role, rate in row["pkt_s_out"].items())
            print(
                f"| {name} | {row['cpu_per_call_minute']:.2f} | {row['core_busy']:.1%} | "
                f"{row['mixing']} | {pkts} | {row['rss_mb']:.0f} | "
                f"{row['load'][0]:.2f}-{row['load'][1]:.2f} |"
            )
        print()
    if phases:
        alone = mixer_alone()
        print(
            f"mixer alone (3 talkers, ticked in-process): {alone['tick_ms']:.3f} ms CPU per 20 ms tick = "
            f"{alone['tick_ms'] * 3:.2f} CPU-s per call-minute; one Opus decode {alone['decode_ms']:.3f} ms, "
            f"one encode {alone['encode_ms']:.3f} ms (3 of each per tick)\n"
        )
    if rounds:
        print(
            f"customer voice: longest pause {longest_pause(steady_customer_voice()):.0f} ms in the file "
            f"(the kit's voice with its pauses: {longest_pause(customer_voice()):.0f} ms)\n"
        )
        print(
            "| hand-over -> B hears the customer | n | p50 ms | p95 ms | max ms |"
            " longest customer pause in a round, ms | target |"
        )
        print("|---|---|---|---|---|---|---|")
        for mode, values in rounds.items():
            ms = [v["ms"] for v in values if v["ms"] == v["ms"]]
            pauses = [v["pause_ms"] for v in values]
            missed = len(values) - len(ms)
            what = "warm: A clicks Complete" if mode == "warm" else "cold: B clicks Answer"
            if failed.get(mode):
                what += f" ({failed[mode]} rounds failed and were retried)"
            if not ms:
                print(f"| {what} | 0 (missed {missed}) | - | - | - | - | <= 500 |")
                continue
            p50, p95 = statistics.median(ms), percentile(ms, 0.95)
            loads = [v["load"] for v in values]
            what += f" (load {min(loads):.1f}-{max(loads):.1f})"
            print(
                f"| {what} | {len(ms)}{f' (missed {missed})' if missed else ''} | {p50:.0f} | {p95:.0f} | "
                f"{max(ms):.0f} | {max(pauses):.0f} | <= 500 |"
            )
        cold = [v for v in rounds.get("cold", []) if "connected" in v]
        if cold:
            print("\ncold, B's answer step by step (ms after the click, median of the rounds):")
            steps = ("microphone", "posted", "answered", "connected", "ms")
            medians = {k: statistics.median(v.get(k, float("nan")) for v in cold) for k in steps}
            print(" | ".join(f"{'heard' if k == 'ms' else k} {value:.0f}" for k, value in medians.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
