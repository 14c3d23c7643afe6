"""GET /api/metrics on the real app and media server: a real call (synthetic WebRTC legs speaking the
browsers' HTTP signaling) moves the figures a Prometheus scraper reads. Who may read it: the access matrix."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from call_center.testing.server import ADMIN_EMAIL, ADMIN_PASSWORD, ROOT, DisposableApp, start_app
from tests.support.legs import EventStream, Leg, agent_answers, login, phone_calls_company, phone_token

AGENT_EMAIL, PASSWORD = "metrics-agent@almasar.test", "agent-password-123"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DisposableApp]:
    running = start_app(tmp_path_factory.mktemp("metrics") / "data")
    subprocess.run(
        [sys.executable, "-m", "call_center", "create-agent", "--email", AGENT_EMAIL, "--name", "Agent M",
         "--password", PASSWORD],
        cwd=ROOT, env=running.env, check=True, capture_output=True,
    )  # fmt: skip
    yield running
    running.stop()


async def _scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/api/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _get(figures: dict, name: str, **labels: str) -> float:
    return figures[(name, tuple(sorted(labels.items())))]


async def _until(client: httpx.AsyncClient, check, what: str) -> dict:
    """Scrape until `check(figures)` holds (the app reaches its state on its own time), at most 15 s."""
    figures: dict = {}
    for _ in range(150):
        figures = await _scrape(client)
        if check(figures):
            return figures
        await asyncio.sleep(0.1)
    raise AssertionError(f"metrics never showed {what}: {figures}")


async def test_a_real_call_moves_the_figures_a_scraper_reads(app, http):
    admin_cookies = login(app, ADMIN_EMAIL, ADMIN_PASSWORD)
    admin = http(admin_cookies)
    idle = await _scrape(admin)
    assert _get(idle, "almasar_media_up") == 1
    assert _get(idle, "almasar_calls_live", status="in-progress") == 0
    assert _get(idle, "almasar_agents_connected") == 0
    assert _get(idle, "almasar_recording_jobs", state="pending") == 0
    assert _get(idle, "almasar_recordings", status="ready") == 0
    legs_started = _get(idle, "almasar_media_legs_started_total")

    agent = http(login(app, AGENT_EMAIL, PASSWORD))
    token = await phone_token(app, admin_cookies, "+201000000031")
    phone_leg, agent_leg = Leg(), Leg((300, 500))
    try:
        async with EventStream(agent) as softphone:
            await _until(admin, lambda f: _get(f, "almasar_agents_connected") == 1, "the agent connected")
            # (an agent who connects is available, unless away: what the agent chose is counted too)
            assert sum(v for (n, _), v in (await _scrape(admin)).items() if n == "almasar_agents") >= 2

            sid = await phone_calls_company(admin, token, phone_leg)
            await softphone.wait_for("incoming", call_sid=sid)
            ringing = await _scrape(admin)
            assert sum(v for (n, _), v in ringing.items() if n == "almasar_calls_live") == 1, ringing
            assert _get(ringing, "almasar_queue_waiting", queue="default") == 1

            await agent_answers(agent, sid, agent_leg)
            talking = await _until(
                admin,
                lambda f: (
                    _get(f, "almasar_calls_live", status="in-progress") == 1
                    and _get(f, "almasar_media_legs") == 2
                    and _get(f, "almasar_media_packets_received_total") > 0
                ),
                "a call in progress with media",
            )
            assert ("almasar_queue_waiting", (("queue", "default"),)) not in talking
            assert _get(talking, "almasar_media_legs_started_total") == legs_started + 2
            received = _get(talking, "almasar_media_packets_received_total")
            later = await _until(
                admin,
                lambda f: _get(f, "almasar_media_packets_received_total") > received + 50,
                "packets flowing (a counter that grows)",
            )
            assert _get(later, "almasar_media_packets_sent_total") > 0

            assert (await agent.post(f"/api/local/calls/{sid}/hangup")).status_code == 204
            await _until(
                admin,
                lambda f: (
                    sum(v for (n, _), v in f.items() if n == "almasar_calls_live") == 0
                    and _get(f, "almasar_media_legs") == 0
                    and _get(f, "almasar_recordings", status="ready") == 1
                ),
                "the call over and its recording ready",
            )
    finally:
        await phone_leg.close()
        await agent_leg.close()
    assert _get(await _scrape(admin), "almasar_media_legs_dropped_total") == 0


def test_metrics_say_when_the_media_server_does_not_answer(app):
    """A scrape still answers (the database's figures) when the media server is gone; media_up says 0."""
    cookies = login(app, ADMIN_EMAIL, ADMIN_PASSWORD)
    settings = {**app.env, "MEDIA_CONTROL_PORT": "1"}  # nothing listens there
    code = (
        "import sys\nfrom call_center.services import metrics\n"
        "from call_center.core.db import session_scope\n"
        "with session_scope() as db: sys.stdout.buffer.write(metrics.exposition(db, metrics.media_stats()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=settings, check=True, capture_output=True, text=True
    ).stdout
    figures = {s.name: s.value for f in text_string_to_metric_families(out) for s in f.samples}
    assert figures["almasar_media_up"] == 0 and "almasar_media_calls" not in figures
    assert "almasar_calls_live" in figures
    assert httpx.get(f"{app.url}/api/metrics", cookies=cookies).status_code == 200
