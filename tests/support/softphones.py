"""Agents' softphones in tests: the app's own event stream (GET /api/devices/events) opened by a logged-in
agent and read in a thread. Its presence is what the app writes for an open stream, never a made-up row."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient


@dataclass
class Softphone:
    """An agent's event stream, read in a thread: what their softphone hears."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    response: Any = None
    closing: bool = False  # set when the test hangs up the stream: the reader's error then is ours

    def wait_for(self, kind: str, timeout: float = 10, **fields: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for message in self.messages:
                    if message.get("type") == kind and all(message.get(k) == v for k, v in fields.items()):
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {kind} {fields} within {timeout} s; got {self.messages}")
                self.changed.wait(left)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]


@contextlib.contextmanager
def online(app: Any, email: str, password: str = "correct-horse-1", *, base_url: str) -> Iterator[Softphone]:
    """A softphone of this agent registered with `app` (an ASGI app) for the duration."""
    client = TestClient(app, base_url=base_url, headers={"Origin": base_url})
    client.__enter__()
    login = client.post("/api/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    phone = Softphone()

    def read() -> None:
        try:
            with client.stream("GET", "/api/devices/events") as response:
                phone.response = response
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        with phone.changed:
                            phone.messages.append(json.loads(line[len("data: ") :]))
                            phone.changed.notify_all()
        except Exception:
            if not phone.closing:  # the stream broke while the test still listened: a real failure
                raise

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    phone.wait_for("registered")
    try:
        yield phone
    finally:
        phone.closing = True
        with contextlib.suppress(Exception):
            phone.response.close()
        thread.join(5)
        client.__exit__(None, None, None)
