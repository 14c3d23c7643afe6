"""Benchmark: the local provider with real Chromium legs (set-up time, media server CPU, recording ready).

Runs the real app (`python -m call_center serve`) and real calls: one Chromium per leg with a fake
microphone speaking (espeak-ng), the agent on /call-center dialling a simulated phone on /phone.

- set-up: "Call" clicked -> the phone shows the incoming call; "Answer" clicked -> the agent's page hears
  the customer (WebAudio analyser above silence). Both ends are timestamped in the pages (same clock).
- CPU: the media server process's CPU seconds (psutil) per call-minute, recording on, with 1..N
  concurrent calls held for --hold seconds.
- recording: hang-up -> the recording is `ready` in the database.

The synthetic figures (concurrent calls per core, MP3 speed, memory per call, a 5-minute call's recording)
come from bench/media_engine.py, which drives the engine with synthetic legs.

    .venv/bin/python bench/local_media.py [--setup-calls 8] [--concurrency 1,3] [--hold 60]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil  # noqa: E402
from _common import machine, percentile  # noqa: E402
from playwright.sync_api import Browser, Page, Playwright, sync_playwright  # noqa: E402

from call_center.testing.audio import say  # noqa: E402
from call_center.testing.browser import CHROMIUM, chromium_args  # noqa: E402
from call_center.testing.server import DisposableApp, start_app  # noqa: E402
from tests.e2e.helpers import PHONE, agent_on, media_stats, phone_on  # noqa: E402
from tests.support import appdb  # noqa: E402

NOW_JS = "() => performance.timeOrigin + performance.now()"
WATCH_RING = """() => { window.__rang = 0; new MutationObserver(() => { if (!window.__rang &&
  document.body.innerText.includes('مكالمة من'))
  window.__rang = performance.timeOrigin + performance.now(); })
  .observe(document.body, {childList: true, subtree: true, characterData: true}); }"""
# On the phone: its leg only exists from the answer on, so the first sound it hears is the agent's voice
# (the agent's side hears ringback before the answer, which would flatter the figure).
WATCH_AUDIO = """() => { window.__heard = 0; const tick = () => { if (!window.__heard && window.almasarPhone
  && window.almasarPhone.remoteLevel() > 0.01) window.__heard = performance.timeOrigin + performance.now();
  if (!window.__heard) setTimeout(tick, 5); }; tick(); }"""


class Pair:
    """An agent and a simulated phone, each in its own Chromium (a fake microphone is per process)."""

    def __init__(self, pw: Playwright, app: DisposableApp, voices: dict[str, Path], number: str):
        self.number = number
        self.browsers: list[Browser] = []
        self.agent = agent_on(self._page(pw, voices["agent"]), app)
        self.phone = phone_on(self._page(pw, voices["customer"]), app, number)

    def _page(self, pw: Playwright, wav: Path) -> Page:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args(wav))
        self.browsers.append(browser)
        return browser.new_context(viewport={"width": 1100, "height": 800}).new_page()

    def call(self) -> tuple[float, float]:
        """Dial and answer; returns (click -> ringing, answer -> audio heard) in ms."""
        self.phone.evaluate(WATCH_RING)
        self.agent.get_by_label("رقم العميل").fill(self.number)  # typed first: the figure starts at the click
        self.agent.get_by_role("button", name="اتصال", exact=True).wait_for()
        clicked = float(self.agent.evaluate(NOW_JS))
        self.agent.get_by_role("button", name="اتصال", exact=True).click()
        self.phone.get_by_role("button", name="رد").wait_for(timeout=10000)
        rang = float(self.phone.evaluate("window.__rang")) or float(self.phone.evaluate(NOW_JS))
        self.phone.evaluate(WATCH_AUDIO)
        answered = float(self.phone.evaluate(NOW_JS))
        self.phone.get_by_role("button", name="رد").click()
        deadline = time.monotonic() + 10
        while not self.phone.evaluate("window.__heard") and time.monotonic() < deadline:
            time.sleep(0.02)
        heard = float(self.phone.evaluate("window.__heard") or 0)
        return rang - clicked, (heard - answered) if heard else float("nan")

    def hang_up(self) -> None:
        self.agent.get_by_role("button", name="إنهاء المكالمة").click()
        self.phone.get_by_text("انتهت المكالمة").wait_for(timeout=10000)

    def close(self) -> None:
        for browser in self.browsers:
            browser.close()


def setup_times(pw: Playwright, app: DisposableApp, voices: dict[str, Path], calls: int) -> tuple[list, list]:
    pair = Pair(pw, app, voices, PHONE)
    ring, audio = [], []
    try:
        for _ in range(calls):
            to_ring, to_audio = pair.call()
            ring.append(to_ring)
            audio.append(to_audio)
            pair.agent.wait_for_timeout(500)
            pair.hang_up()
            pair.agent.wait_for_timeout(800)
    finally:
        pair.close()
    return ring, audio


def cpu_per_minute(
    pw: Playwright, app: DisposableApp, voices: dict[str, Path], calls: int, hold: float
) -> dict:
    pairs = [Pair(pw, app, voices, f"+2010000001{i:02d}") for i in range(calls)]
    media = psutil.Process(media_stats(app)["pid"])
    try:
        for pair in pairs:
            pair.call()
        time.sleep(2)
        before, started = media.cpu_times(), time.monotonic()
        rss = media.memory_info().rss
        time.sleep(hold)
        after, elapsed = media.cpu_times(), time.monotonic() - started
        cpu = (after.user - before.user) + (after.system - before.system)
        ended = time.monotonic()
        for pair in pairs:
            pair.hang_up()
        last = appdb.rows(app, "SELECT id FROM call ORDER BY id DESC LIMIT ?", calls)
        for row in last:
            appdb.wait_for(
                lambda r=row: (rec := appdb.recording_of(app, r["id"])) and rec["status"] == "ready"
            )
        ready = time.monotonic() - ended
    finally:
        for pair in pairs:
            pair.close()
    return {
        "calls": calls,
        "cpu_per_call_minute": cpu / (calls * elapsed / 60),
        "rss_mb": rss / 2**20,
        "ready_s": ready,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup-calls", type=int, default=8)
    parser.add_argument("--concurrency", default="1,3", help="comma-separated numbers of concurrent calls")
    parser.add_argument("--hold", type=float, default=60.0, help="seconds the concurrent calls are held")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-media-"))
    voices = {
        "agent": say("Hello, this is Sara from Al Masar. How can I help you today?"),
        "customer": say("Good morning. My order number is four five six.", pitch=75),
    }
    # one admin places every call here: lift the per-agent toll-fraud limit (default 10 a minute, at most 120)
    app = start_app(work / "data", settings={"CALLS_PER_MINUTE": "120"})
    try:
        with sync_playwright() as pw:
            ring, audio = setup_times(pw, app, voices, args.setup_calls)
            cpu = [cpu_per_minute(pw, app, voices, int(n), args.hold) for n in args.concurrency.split(",")]
    finally:
        app.stop()

    print(f"\nlocal provider, real Chromium legs; {datetime.now(UTC):%Y-%m-%d}; {machine()}")
    print(f"command: {' '.join(sys.argv)}\n")
    print("| set-up | p50 ms | p95 ms | max ms | target |\n|---|---|---|---|---|")
    for name, values in (
        ("click Call -> phone rings", ring),
        ("answer -> the other side's voice heard", audio),
    ):
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        print(f"| {name} | {p50:.0f} | {p95:.0f} | {max(values):.0f} | <= 500 |")
    print(
        "\n| concurrent calls | media CPU-s per call-minute | media RSS MB | hang-up -> recordings ready s |"
    )
    print("|---|---|---|---|")
    for row in cpu:
        cpu_min, rss, ready = row["cpu_per_call_minute"], row["rss_mb"], row["ready_s"]
        print(f"| {row['calls']} | {cpu_min:.2f} | {rss:.0f} | {ready:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
