"""The local media server under stress: a burst of web requests, a crash mid-call, a clean shutdown."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from playwright.sync_api import expect

from call_center.testing.server import start_app
from tests.e2e.helpers import PHONE, agent_on, dial, heard, media_stats, phone_on, ready_recording
from tests.support import appdb


def _answered_call(app, launch, new_page, voices):
    agent = agent_on(new_page(launch(voices["agent"])), app)
    phone = phone_on(new_page(launch(voices["customer"])), app)
    dial(agent, PHONE)
    phone.get_by_role("button", name="رد").click()
    expect(agent.locator("#call-state")).to_have_text("مكالمة جارية", timeout=10000)
    assert heard(phone, 2) > 0.01
    return agent, phone


def _legs(app):
    calls = media_stats(app)["engine"]["calls"]
    assert len(calls) == 1, calls
    return next(iter(calls.values()))["legs"]


def test_a_burst_of_web_requests_does_not_stall_the_media(app, launch, new_page, voices):
    agent, phone = _answered_call(app, launch, new_page, voices)
    cookies = {c["name"]: c["value"] for c in agent.context.cookies()}
    before, started = _legs(app), time.monotonic()

    def hammer(_: int) -> int:
        with httpx.Client(cookies=cookies, timeout=30) as client:
            return sum(client.get(f"{app.url}/api/calls").status_code == 200 for _ in range(25))

    with ThreadPoolExecutor(16) as pool:
        ok = sum(pool.map(hammer, range(16)))
    after, elapsed = _legs(app), time.monotonic() - started
    assert ok == 400
    for role in ("agent", "customer"):
        forwarded = after[role]["packets_out"] - before[role]["packets_out"]
        # 50 packets a second go to each leg; the burst must not make the media server lose its pace
        assert forwarded >= 0.9 * 50 * elapsed, (role, forwarded, elapsed)
    agent.get_by_role("button", name="إنهاء المكالمة").click()
    expect(phone.get_by_text("انتهت المكالمة")).to_be_visible(timeout=10000)


def test_a_media_server_crash_ends_the_call_and_keeps_the_recording(app, launch, new_page, voices):
    agent, phone = _answered_call(app, launch, new_page, voices)
    agent.wait_for_timeout(2000)
    os.kill(media_stats(app)["pid"], signal.SIGKILL)  # no chance to clean up: only the leg files remain
    # serve starts it again; it finalises the leg files and tells the app the call is over
    expect(phone.get_by_text("انتهت المكالمة")).to_be_visible(timeout=20000)
    expect(agent.locator("#call-outcome")).to_be_visible(timeout=10000)
    call = appdb.wait_for(lambda: (c := appdb.latest_call(app)) and c["status"] == "completed" and c)
    assert call["hangup_reason"] == "reason.media_restarted"
    recording = ready_recording(app, call["id"])
    assert recording["status"] == "ready" and recording["duration_seconds"] > 1.5
    assert media_stats(app)["calls"] == 0  # the new media server is up and takes calls again


@pytest.fixture
def own_app(tmp_path):
    running = start_app(tmp_path / "data")
    yield running
    running.stop()


def test_stopping_the_server_ends_calls_cleanly_and_finalises_recordings(own_app, launch, new_page, voices):
    app = own_app
    agent, phone = _answered_call(app, launch, new_page, voices)
    time.sleep(2)
    app.stop()  # one SIGTERM to `serve`, as systemd or Ctrl+C would; every PID of the tree must be gone
    call = appdb.latest_call(app)
    assert call["status"] == "completed" and call["hangup_reason"] == "reason.shutdown"
    recording = appdb.recording_of(app, call["id"])
    assert recording is not None and recording["status"] == "ready", recording
    assert recording["duration_seconds"] > 1.5
    assert (app.data_dir.resolve() / "recordings" / recording["storage_key"]).stat().st_size > 1000
    # the pages heard the end of the call before the server went
    expect(phone.get_by_text("انتهت المكالمة")).to_be_visible()
