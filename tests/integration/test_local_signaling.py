"""The local provider's doors, on the real app with its media server: who may act on which call.

Phones and agents are synthetic WebRTC legs (aiortc) speaking the browser's HTTP signaling; the phone's
registration comes from the phone page's own handler, as in a browser.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from unittest import mock

import httpx
import pytest

from call_center.telephony.local.protocol import (
    callback_headers,
    control_key,
    encode,
    sign_request,
)
from call_center.testing.server import ADMIN_EMAIL, ADMIN_PASSWORD, ROOT, DisposableApp, start_app
from tests.support import appdb
from tests.support.legs import EventStream, Leg, login, phone_calls_company, phone_token

AGENTS = {"a": "agent-a@almasar.test", "b": "agent-b@almasar.test", "c": "agent-c@almasar.test"}
PASSWORD = "agent-password-123"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DisposableApp]:
    # ring-all: the answer race below needs two agents rung for one call (the queue's other strategies
    # ring one agent at a time: test_queue.py)
    running = start_app(
        tmp_path_factory.mktemp("signaling") / "data",
        settings={"RING_TIMEOUT_SECONDS": "20", "QUEUE_STRATEGY": "ring-all"},
    )
    for key, email in AGENTS.items():
        subprocess.run(
            [sys.executable, "-m", "call_center", "create-agent", "--email", email, "--name", f"Agent {key}",
             "--password", PASSWORD],
            cwd=ROOT, env=running.env, check=True, capture_output=True,
        )  # fmt: skip
    yield running
    running.stop()


async def test_a_phone_is_who_its_server_signed_token_says_never_a_query_parameter(app, http):
    admin = login(app, ADMIN_EMAIL, ADMIN_PASSWORD)
    other = login(app, AGENTS["c"], PASSWORD)
    token = await phone_token(app, admin, "+201000000011")
    async with EventStream(http(admin), EventStream.device(token)) as phone:
        assert phone.messages[0]["identity"] == "phone_201000000011"
    # the old ?phone= parameter is not an identity any more: the stream is the agent's own softphone
    async with EventStream(http(admin), "?phone=%2B201000000099") as stream:
        assert stream.messages[0]["identity"].startswith("agent_")
    # a token is bound to the session it was issued to, and cannot be altered
    response = await http(other).get(f"/api/devices/events{EventStream.device(token)}")
    assert response.status_code == 403 and response.json()["detail"]["code"] == "device.error.token"
    forged = token.replace("201000000011", "201000000012")
    response = await http(admin).get(f"/api/devices/events{EventStream.device(forged)}")
    assert response.status_code == 403


async def test_only_offered_agents_answer_the_first_wins_and_only_the_owner_controls_the_call(app, http):
    admin = login(app, ADMIN_EMAIL, ADMIN_PASSWORD)
    a, b, c = (http(login(app, AGENTS[k], PASSWORD)) for k in "abc")
    token = await phone_token(app, admin, "+201000000021")
    legs = [Leg() for _ in range(4)]
    try:
        async with EventStream(a) as stream_a, EventStream(b) as stream_b:
            phone = http(admin)
            sid = await phone_calls_company(phone, token, legs[0])
            await stream_a.wait_for("incoming", call_sid=sid)
            await stream_b.wait_for("incoming", call_sid=sid)

            # C's phone is not connected, so the call was not offered to C
            refused = await c.post(f"/api/local/calls/{sid}/answer", json={"sdp": await legs[1].offer()})
            assert refused.status_code == 403 and refused.json()["detail"]["code"] == "call.error.not_offered"

            won = await a.post(f"/api/local/calls/{sid}/answer", json={"sdp": await legs[2].offer()})
            assert won.status_code == 200, won.text
            lost = await b.post(f"/api/local/calls/{sid}/answer", json={"sdp": await legs[3].offer()})
            assert lost.status_code == 409 and lost.json()["detail"]["code"] == "call.error.taken"
            await stream_b.wait_for("cancel", call_sid=sid, reason="answered-elsewhere")

            for action, body in (("hangup", None), ("dtmf", {"digits": "1"})):
                response = await b.post(f"/api/local/calls/{sid}/{action}", json=body)
                assert response.status_code == 403, (action, response.text)
            other_phone = await phone_token(app, admin, "+201000000022")
            response = await phone.post(f"/api/local/calls/{sid}/hangup{EventStream.device(other_phone)}")
            assert response.status_code == 403

            row = appdb.rows(app, "SELECT agent_id FROM call WHERE provider_call_sid = ?", sid)[0]
            agent_a = appdb.rows(app, "SELECT id FROM agent WHERE email = ?", AGENTS["a"])[0]["id"]
            assert row["agent_id"] == agent_a
            offers = appdb.rows(app, "SELECT agent_id, outcome FROM call_offer ORDER BY agent_id")
            assert {o["outcome"] for o in offers} == {"answered", "taken"}
            assert (await a.post(f"/api/local/calls/{sid}/hangup")).status_code == 204
    finally:
        for leg in legs:
            await leg.close()


def _callback(app: DisposableApp, body: bytes, headers: dict[str, str]) -> int:
    headers = {"content-type": "application/json", **headers}
    return httpx.post(f"{app.url}/api/local/webhook", content=body, headers=headers).status_code


def test_media_callbacks_must_be_signed_fresh_and_used_once(app):
    secret = (app.data_dir / ".secret_key").read_text().strip()
    event = {"type": "status", "sid": "LC" + uuid.uuid4().hex, "status": "ringing", "leg": "customer",
             "event_id": uuid.uuid4().hex, "at": datetime.now(UTC).isoformat()}  # fmt: skip
    body = json.dumps(event).encode()
    headers = callback_headers(secret, body)
    assert _callback(app, body, {**headers, "x-media-signature": "0" * 64}) == 403  # bad signature
    assert _callback(app, body, callback_headers("another-secret-entirely-0123456789", body)) == 403
    assert _callback(app, body, headers) == 204
    assert _callback(app, body, headers) == 403  # the same delivery again: a replay
    stale = dict(headers, **{"x-media-timestamp": f"{time.time() - 600:.3f}"})
    assert _callback(app, body, stale) == 403
    assert _callback(app, body, callback_headers(secret, body)) == 204  # a real retry: re-signed, harmless


def _control(app: DisposableApp, message: dict) -> dict:
    with socket.create_connection(("127.0.0.1", int(app.env["MEDIA_CONTROL_PORT"])), timeout=5) as sock:
        sock.sendall(encode(message))
        return json.loads(sock.makefile().readline())


def test_the_media_control_channel_refuses_unsigned_altered_and_replayed_requests(app):
    key = control_key((app.data_dir / ".secret_key").read_text().strip())
    assert _control(app, {"op": "stats", "args": {}})["ok"] is False  # unsigned
    request = sign_request(key, "stats", {})
    assert _control(app, request)["ok"] is True
    assert _control(app, request)["message"] == "replayed request"
    altered = sign_request(key, "stats", {})
    altered["op"] = "hangup"
    assert _control(app, altered)["message"] == "bad signature"
    ten_minutes_ago = time.time() - 600
    with mock.patch("call_center.telephony.local.protocol.time.time", return_value=ten_minutes_ago):
        old = sign_request(key, "stats", {})  # correctly signed, ten minutes ago
    assert _control(app, old)["message"] == "stale request"
