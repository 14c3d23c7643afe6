"""A lightweight client for Reflex's event websocket, speaking the protocol the browser speaks.

It opens `/_event` (Socket.IO over a websocket) with a client token and the cookies of a session (or none),
hydrates like a page load, sends events by their full handler name and collects what comes back: state
deltas and frontend events (redirects, scripts). Used by the access-matrix test, the "call every handler
without a cookie" script and the many-agents benchmark, where a Chromium per session would be too heavy.

    async with ReflexClient(url, cookies={"cc_session": "..."}, path="/history") as client:
        updates = await client.call("reflex___state____state....history_state.go_page", page=2)
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import socketio

ROOT_STATE = "reflex___state____state"
NAMESPACE = "/_event"
HYDRATE = f"{ROOT_STATE}.hydrate"
SESSION_STATE = f"{ROOT_STATE}.call_center___state___session____session_state"
# A barrier: SessionState.ping echoes a nonce; its echo coming back means every event sent before it was
# processed (events of one client token run one after the other, in order).
BARRIER = f"{SESSION_STATE}.ping"
FIELD_MARKER = "_rx_state_"  # Reflex's suffix on var names in deltas


def _plain(delta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        state: {str(var).removesuffix(FIELD_MARKER): value for var, value in (vars_ or {}).items()}
        for state, vars_ in delta.items()
    }


@dataclass
class Update:
    """One message from the server: a state delta and/or frontend events."""

    delta: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    received_at: float = 0.0

    @property
    def redirects(self) -> list[str]:
        return [
            str(e.get("payload", {}).get("path", "")) for e in self.events if e.get("name") == "_redirect"
        ]

    def values(self) -> dict[str, Any]:
        """Every var in the delta, flattened to `state.var` keys."""
        return {
            f"{state}.{var}": value for state, vars_ in self.delta.items() for var, value in vars_.items()
        }


class ReflexClient:
    """One browser tab's worth of Reflex: a token, a socket, and the updates it receives."""

    def __init__(
        self,
        base_url: str,
        *,
        cookies: Mapping[str, str] | None = None,
        path: str = "/",
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.cookies = dict(cookies or {})
        self.path = path
        self.token = token or str(uuid.uuid4())
        self.headers = dict(headers or {})
        self.updates: list[Update] = []
        self._changed = asyncio.Event()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("event", self._on_event, namespace=NAMESPACE)

    async def __aenter__(self) -> ReflexClient:
        await self.connect()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _on_event(self, data: Any) -> None:
        if isinstance(data, dict):
            self.updates.append(
                Update(_plain(dict(data.get("delta") or {})), list(data.get("events") or []), time.time())
            )
            self._changed.set()

    async def connect(self, *, hydrate: bool = True, timeout: float = 15) -> None:
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        origin = urlsplit(self.base_url)
        headers.setdefault("Origin", f"{origin.scheme}://{origin.netloc}")
        await self.sio.connect(
            f"{self.base_url}?token={self.token}",
            socketio_path="/_event",
            namespaces=[NAMESPACE],
            transports=["websocket"],
            headers=headers,
            wait_timeout=timeout,
        )
        if hydrate:
            await self.call(HYDRATE, timeout=timeout)

    async def close(self) -> None:
        await self.sio.disconnect()

    def _router_data(self) -> dict[str, Any]:
        return {"pathname": self.path, "asPath": self.path, "query": {}}

    async def send(self, event: str, payload: dict[str, Any] | None = None, /, **fields: Any) -> None:
        """Send one event (its arguments as a dict, or as keywords) without waiting for what it does."""
        await self.sio.emit(
            "event",
            {"name": event, "payload": {**(payload or {}), **fields}, "router_data": self._router_data()},
            namespace=NAMESPACE,
        )

    async def call(
        self, event: str, payload: dict[str, Any] | None = None, /, *, timeout: float = 15, **fields: Any
    ) -> list[Update]:
        """Send an event and wait until it (and whatever it chained) was processed; its updates."""
        start = len(self.updates)
        await self.send(event, payload, **fields)
        await self.sync(timeout)
        return [u for u in self.updates[start:] if not _is_barrier(u)]

    async def sync(self, timeout: float = 15) -> None:
        """Wait until every event sent so far, and every event those chained, has been processed.

        One barrier event is not enough: an event's chained events (e.g. a page's on_load handlers) are
        queued when it finishes, possibly behind a barrier already sent. So barriers are sent until one
        comes back with nothing else having arrived since the previous one."""
        deadline = time.monotonic() + timeout
        previous = None
        while True:
            reply = await self._barrier_round(max(0.1, deadline - time.monotonic()))
            if previous is not None and not any(not _is_barrier(u) for u in self.updates[previous:reply]):
                return
            previous = reply

    async def _barrier_round(self, timeout: float) -> int:
        """Send one barrier and wait for it; the index of its reply in `updates`."""
        nonce = uuid.uuid4().hex
        start = len(self.updates)
        await self.send(BARRIER, {"nonce": nonce})

        def reply() -> int | None:
            for index in range(start, len(self.updates)):
                if self.updates[index].delta.get(SESSION_STATE, {}).get("pong") == nonce:
                    return index
            return None

        await self.wait_for(lambda: reply() is not None, timeout)
        found = reply()
        assert found is not None
        return found

    async def wait_for(self, predicate: Any, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the server did not answer in time")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue

    def seen(self, var: str) -> list[Any]:
        """Every value `state.var` had in the updates so far."""
        return [u.values()[var] for u in self.updates if var in u.values()]


def _is_barrier(update: Update) -> bool:
    return (
        not update.events
        and set(update.delta) == {SESSION_STATE}
        and set(update.delta[SESSION_STATE]) == {"pong"}
    )
