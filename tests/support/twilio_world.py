"""The app in this process on the Twilio provider, with `TwilioSim` playing Twilio over real HTTP.

The app's REST client goes to the simulator's server (TWILIO_API_URL: every request held to Twilio's
contract); the simulator's callbacks come back as signed webhooks through a TestClient. Softphones are real
event streams of logged-in agents (`online`): the presence the app itself writes, never a hand-made row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from call_center.api.app import PageGuard, create_api
from call_center.core.config import reset_settings
from call_center.telephony import reset_provider
from tests.support.fake_twilio import PUBLIC_URL, TWILIO_ENV, applied
from tests.support.softphones import Softphone, online
from tests.support.twilio_sim import SimServer, TwilioSim, signed_delivery

BASE_URL = PUBLIC_URL  # the app thinks it is served there (its cookies are Secure)


class TwilioWorld:
    def __init__(self, app: Any, sim: TwilioSim, server: SimServer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.app = app
        self.monkeypatch = monkeypatch
        self.sim = sim
        self.server = server
        self.client = TestClient(app, base_url=BASE_URL, headers={"Origin": BASE_URL})
        self.client.__enter__()

    def post(self, path: str, signature: str, params: dict[str, str]) -> Any:
        response = self.client.post(
            path,
            content=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        )
        assert response.status_code < 300, (path, response.status_code, response.text)
        if "/webhook/" in path:  # acknowledged once stored: its effects (REST calls, callbacks) follow
            applied()  # (a TwiML route answers with its effects done: one may be asked during them)
        return response

    def requests(self, method: str, suffix: str) -> list[dict[str, Any]]:
        """The REST requests the app sent whose path ends with `suffix`, their parameters."""
        return [params for m, path, params in self.server.requests if m == method and path.endswith(suffix)]

    def online(self, email: str, password: str = "correct-horse-1") -> AbstractContextManager[Softphone]:
        """An agent's softphone registered (their event stream open) for the duration."""
        return online(self.app, email, password, base_url=BASE_URL)

    def setting(self, name: str, value: str) -> None:
        """Change one setting for the rest of the test (the provider is rebuilt to read it)."""
        self.monkeypatch.setenv(name, value)
        reset_settings()
        reset_provider()

    def new_sim(self) -> TwilioSim:
        """A fresh Twilio (no rooms, no legs) behind the same server and delivery."""
        self.sim = self.server.sim = TwilioSim(self.sim.deliver, send_labels=self.sim.send_labels)
        return self.sim

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.server.close()


@pytest.fixture
def twilio_world(database: str, env: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[TwilioWorld]:
    """Twilio settings, the simulator's REST server as TWILIO_API_URL, the API app, signed callbacks."""
    holder: dict[str, TwilioWorld] = {}
    sim = TwilioSim(
        signed_delivery(lambda path, signature, params: holder["world"].post(path, signature, params))
    )
    server = SimServer(sim)
    # Ring-all: most Twilio tests are about every rung agent's leg (the queue's other strategies have
    # their own tests, which set QUEUE_STRATEGY themselves).
    world_env = {**TWILIO_ENV, "TWILIO_API_URL": server.url, "QUEUE_STRATEGY": "ring-all"}
    for name, value in world_env.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    reset_provider()
    world = holder["world"] = TwilioWorld(PageGuard(create_api()), sim, server, monkeypatch)
    try:
        yield world
        assert not server.violations, "\n".join(server.violations)
    finally:
        world.close()
        reset_settings()
        reset_provider()
