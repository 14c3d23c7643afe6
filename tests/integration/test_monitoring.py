"""A supervisor monitoring a live call on the local provider, on the real app and media server: who may,
what each mode does to their leg, what the agent is told, what the timeline keeps, and that the call neither
ends with the supervisor nor goes on without its agent.

Phones, agents and the supervisor are synthetic WebRTC legs (aiortc) speaking the browser's signaling; the
mode switch goes through the wallboard's own Reflex handlers. (What each party hears is checked by ear in
real Chromium: tests/e2e/test_monitoring.py.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from call_center.testing.reflex_client import ReflexClient
from call_center.testing.server import ADMIN_EMAIL, ADMIN_PASSWORD, DisposableApp, start_app
from tests.e2e.helpers import media_stats
from tests.support import appdb
from tests.support.legs import EventStream, Leg, agent_answers, login, phone_calls_company, phone_token

AGENT, SUPERVISOR = "agent-m@almasar.test", "noura-m@almasar.test"
PASSWORD = "agent-password-123"
SOFTPHONE_STATE = (
    "reflex___state____state.call_center___state___session____session_state"
    ".call_center___state___softphone____softphone_state"
)
MONITOR_STATE = SOFTPHONE_STATE + ".call_center___state___monitor____monitor_state"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DisposableApp]:
    running = start_app(tmp_path_factory.mktemp("monitoring") / "data", settings={"WRAPUP_SECONDS": "0"})
    running.create_agent(AGENT, "Sara Agent", PASSWORD)
    running.create_agent(SUPERVISOR, "Noura Supervisor", PASSWORD, "supervisor")
    yield running
    running.stop()


def _party(app: DisposableApp, sid: str, prefix: str) -> dict:
    parties = media_stats(app)["parties"][sid]
    (found,) = [p for leg, p in parties.items() if leg.startswith(prefix)]
    return found


def _steps(app: DisposableApp, call_id: int) -> list[tuple[str, str]]:
    """The call's monitoring steps: what, and who (by name)."""
    names = {r["id"]: r["name"] for r in appdb.rows(app, "SELECT id, name FROM agent")}
    return [
        (s["what"], names.get(s["agent_id"], ""))
        for s in app.timeline(call_id)
        if s["what"].startswith("monitor")
    ]


async def test_a_supervisor_listens_whispers_barges_and_leaves_and_the_agent_always_knows(app, http):
    admin = login(app, ADMIN_EMAIL, ADMIN_PASSWORD)
    agent, supervisor = login(app, AGENT, PASSWORD), login(app, SUPERVISOR, PASSWORD)
    token = await phone_token(app, admin, "+201000000051")
    phone_leg, agent_leg, sup_leg, again = Leg(), Leg(), Leg(), Leg()
    try:
        async with EventStream(http(agent)) as agent_stream, EventStream(http(supervisor)) as sup_stream:
            sid = await phone_calls_company(http(admin), token, phone_leg)
            await agent_stream.wait_for("incoming", call_sid=sid)
            await agent_answers(http(agent), sid, agent_leg)
            await agent_stream.wait_for("status", call_sid=sid, status="in-progress")
            call_id = appdb.rows(app, "SELECT id FROM call WHERE provider_call_sid = ?", sid)[0]["id"]

            # the doors: an agent cannot, a bad mode is refused, nobody monitors a call not in progress
            refused = await http(agent).post(
                f"/api/local/calls/{sid}/monitor", json={"sdp": "x", "mode": "listen"}
            )
            assert refused.status_code == 403
            bad = await http(supervisor).post(
                f"/api/local/calls/{sid}/monitor", json={"sdp": "x", "mode": "spy"}
            )
            assert bad.status_code == 422 and bad.json()["detail"]["code"] == "monitor.error.mode"

            async with ReflexClient(app.url, cookies=supervisor, path="/wallboard") as wallboard:
                # the wallboard's button: the server checks, then the page's phone joins (here: our leg)
                await wallboard.call(f"{MONITOR_STATE}.start", call_id=call_id, mode="listen")
                assert wallboard.seen(f"{SOFTPHONE_STATE}.monitor_sid")[-1] == sid
                joined = await http(supervisor).post(
                    f"/api/local/calls/{sid}/monitor", json={"sdp": await sup_leg.offer(), "mode": "listen"}
                )
                assert joined.status_code == 200, joined.text
                await sup_leg.answered(joined.json()["sdp"])
                told = await agent_stream.wait_for("monitor", call_sid=sid)
                assert told["monitors"] == [{"name": "Noura Supervisor", "mode": "listen"}]
                assert _party(app, sid, "sup_") | {
                    "muted": True,
                    "coaching": None,
                    "monitor": True,
                } == _party(app, sid, "sup_")
                twice = await http(supervisor).post(
                    f"/api/local/calls/{sid}/monitor", json={"sdp": await again.offer(), "mode": "barge"}
                )
                assert twice.status_code == 409 and twice.json()["detail"]["code"] == "monitor.error.already"

                await wallboard.call(f"{MONITOR_STATE}.switch_mode", mode="whisper")
                whispering = [{"name": "Noura Supervisor", "mode": "whisper"}]
                await agent_stream.wait_for("monitor", call_sid=sid, monitors=whispering)
                whisper = _party(app, sid, "sup_")
                assert whisper["muted"] is False and whisper["coaching"] == "agent"
                await wallboard.call(f"{MONITOR_STATE}.switch_mode", mode="barge")
                barge = _party(app, sid, "sup_")
                assert barge["muted"] is False and barge["coaching"] is None

            # the supervisor hangs up: the call goes on, the agent hears nobody monitors any more
            assert (await http(supervisor).post(f"/api/local/calls/{sid}/hangup")).status_code == 204
            await agent_stream.wait_for("monitor", call_sid=sid, monitors=[])
            assert (
                appdb.rows(app, "SELECT status FROM call WHERE id = ?", call_id)[0]["status"] == "in-progress"
            )
            assert _steps(app, call_id) == [
                ("monitor-listen", "Noura Supervisor"),
                ("monitor-whisper", "Noura Supervisor"),
                ("monitor-barge", "Noura Supervisor"),
                ("monitor-ended", "Noura Supervisor"),
            ]
            party = appdb.rows(
                app, "SELECT kind, agent_id, mode, left_at FROM call_party WHERE leg LIKE 'sup_%'"
            )
            assert party[0]["kind"] == "supervisor" and party[0]["mode"] == "barge" and party[0]["left_at"]

            # listening again, then the agent hangs up: the call ends (a supervisor never keeps it going)
            rejoin = await http(supervisor).post(
                f"/api/local/calls/{sid}/monitor", json={"sdp": await again.offer(), "mode": "listen"}
            )
            assert rejoin.status_code == 200, rejoin.text
            await again.answered(rejoin.json()["sdp"])
            await agent_stream.wait_for("monitor", call_sid=sid, monitors=[{"name": "Noura Supervisor",
                                                                              "mode": "listen"}])  # fmt: skip
            assert (await http(agent).post(f"/api/local/calls/{sid}/hangup")).status_code == 204
            await sup_stream.wait_for("status", call_sid=sid, status="completed")
            call = app.wait_for_call(status="completed", customer_number="+201000000051")
            assert call["agent_name"] == "Sara Agent"
            assert [s["name"] for s in call["chain"]] == ["Sara Agent"]  # supervisors are not in the chain
    finally:
        for leg in (phone_leg, agent_leg, sup_leg, again):
            await leg.close()
