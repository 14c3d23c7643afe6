"""Benchmark: how long `serve` takes to stop, idle and with live calls, until every process is gone.

- idle: start the real app, SIGTERM to serve, time until serve, reflex (supervisor and workers) and the
  media server have all exited and the port is closed. Also two SIGINTs 50 ms apart (Ctrl-C twice) and a
  SIGKILL of serve (its children must go by themselves).
- with calls: three agents in their own Chromium each call the echo line (a recorded call with a real
  WebRTC leg); once all three are connected, SIGTERM. Every call must end `completed` with the reason
  "server stopped" and a `ready` recording.

    .venv/bin/python bench/stop_times.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from call_center.testing.audio import say  # noqa: E402
from call_center.testing.browser import CHROMIUM, chromium_args  # noqa: E402
from call_center.testing.server import DisposableApp, port_listening, start_app, wait_gone  # noqa: E402
from tests.e2e.helpers import agent_on, dial  # noqa: E402
from tests.support import appdb  # noqa: E402


def stop_with(app: DisposableApp, *signals: int) -> float:
    app.refresh_tree()
    started = time.monotonic()
    for index, signum in enumerate(signals):
        if index:
            time.sleep(0.05)
        app.signal(signum)
    app.wait_stopped()
    return time.monotonic() - started


def killed(app: DisposableApp) -> float:
    tree = app.refresh_tree()
    started = time.monotonic()
    app.signal(signal.SIGKILL)
    app.process.wait(5)
    left = wait_gone(tree, 10)
    while port_listening(app.port):
        time.sleep(0.02)
    assert not left, left
    return time.monotonic() - started


def with_calls(work: Path, calls: int) -> tuple[float, list[dict]]:
    app = start_app(work / "data-calls")
    voice = say("Hello, this is Sara from Al Masar. How can I help you today?")
    with sync_playwright() as pw:
        browsers = [
            pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args(voice)) for _ in range(calls)
        ]
        try:
            pages = [agent_on(b.new_context().new_page(), app) for b in browsers]
            for page in pages:
                dial(page, "1000")
            for page in pages:
                expect(page.locator("#call-state")).to_have_text("مكالمة جارية", timeout=20000)
            time.sleep(3)
            seconds = stop_with(app, signal.SIGTERM)
        finally:
            for browser in browsers:
                browser.close()
    ended = appdb.rows(app, "SELECT id, status, hangup_reason FROM call ORDER BY id DESC LIMIT ?", calls)
    for call in ended:
        call["recording"] = (appdb.recording_of(app, call["id"]) or {}).get("status")
    return seconds, ended


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stop-bench-"))
    results: dict[str, list[float]] = {"SIGTERM, idle": [], "2 x SIGINT 50 ms apart, idle": [], "SIGKILL": []}
    for round_ in range(args.rounds):
        for name, action in (
            ("SIGTERM, idle", lambda a: stop_with(a, signal.SIGTERM)),
            ("2 x SIGINT 50 ms apart, idle", lambda a: stop_with(a, signal.SIGINT, signal.SIGINT)),
            ("SIGKILL", killed),
        ):
            app = start_app(work / f"data-{round_}-{len(results[name])}-{name[:4]}")
            results[name].append(action(app))
    live, ended = with_calls(work, args.calls)

    print(f"\nserve stop times; {datetime.now(UTC):%Y-%m-%d}; {machine()}")
    print(f"command: {' '.join(sys.argv)}\n")
    print("| stop | runs | median s | max s | target |\n|---|---|---|---|---|")
    for name, values in results.items():
        target = "<= 5 (port free)" if name == "SIGKILL" else "<= 3"
        print(f"| {name} | {len(values)} | {statistics.median(values):.2f} | {max(values):.2f} | {target} |")
    print(f"| SIGTERM, {args.calls} live calls | 1 | {live:.2f} | {live:.2f} | <= 8 |")
    print("\ncalls ended by the stop:")
    for call in ended:
        print(
            f"  call {call['id']}: {call['status']}, {call['hangup_reason']}, recording {call['recording']}"
        )
    ok = all(
        c["status"] == "completed" and c["hangup_reason"] == "reason.shutdown" and c["recording"] == "ready"
        for c in ended
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
