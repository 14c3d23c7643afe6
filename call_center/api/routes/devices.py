"""`GET /api/devices/events`: every browser phone's event stream, whichever provider carries its calls.

An agent's softphone keeps it open while it is registered (local: always; Twilio: between the SDK's
`registered` and `unregistered`), and that is the agent's presence: an agent is rung only while a stream
of theirs is open and fresh (services.presence). It carries what the server tells the phone: offers,
status changes, "answered by another agent", hold and transfer steps, DTMF, a sign-out. A simulated phone
(local provider only) opens it with the device token the server signed for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from call_center.api.deps import CurrentAgent
from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.core.security import SESSION_COOKIE
from call_center.services import agent_states, agents, call_control, devices, presence
from call_center.services.events import STOPPING, get_bus
from call_center.telephony.local import control

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/devices", tags=["devices"])

KEEPALIVE_SECONDS = 10.0

DeviceQuery = Annotated[
    str | None,
    Query(
        alias="device",
        max_length=200,
        description="(local provider) the simulated phone this server-issued device token registers",
    ),
]


def _device(agent: Any, device_token: str | None) -> control.Device:
    if device_token is None:
        return control.agent_device(agent)
    if get_settings().TELEPHONY_PROVIDER != "local":
        raise HTTPException(404, detail={"code": "error.not_found", "message": "simulated phones are local"})
    return control.phone_device(agent, device_token)


@router.get("/events")
async def events(request: Request, agent: CurrentAgent, phone: DeviceQuery = None) -> StreamingResponse:
    """Server-sent events for one browser phone. Keeps its presence fresh."""
    device = _device(agent, phone)
    topics = [devices.device_topic(device.identity), agents.account_topic(agent.id or 0)]
    token = request.cookies.get(SESSION_COOKIE)
    return StreamingResponse(
        _stream(device, topics, token),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


async def _stream(device: control.Device, topics: list[str], token: str | None) -> AsyncIterator[bytes]:
    connection = await anyio.to_thread.run_sync(_presence_connect, device)
    account = agents.account_topic(device.agent.id or 0)
    try:
        async with get_bus().subscribe(*topics) as sub:
            hello = {"type": "registered", "identity": device.identity, "number": device.number}
            yield _sse(hello)
            # A reconnecting browser may have missed offers or status changes: replay where its calls stand.
            for message in await anyio.to_thread.run_sync(_current_state, device):
                yield _sse(message)
            next_beat = time.monotonic() + KEEPALIVE_SECONDS
            # No `request.is_disconnected()` here: Starlette's StreamingResponse already listens for the
            # disconnect (and cancels this generator); a second reader of `receive` raced it, and granian
            # then ended healthy streams at once (a phone "registered" and gone 9 ms later).
            while True:
                item = await sub.get(timeout=max(0.0, next_beat - time.monotonic()))
                if time.monotonic() >= next_beat:
                    # Presence is refreshed on time however busy the stream is with events.
                    next_beat = time.monotonic() + KEEPALIVE_SECONDS
                    await anyio.to_thread.run_sync(_presence_touch, connection)
                    yield b": keep-alive\n\n"
                if item is None:
                    continue
                if item.topic == STOPPING:
                    return  # the server is stopping: the browser reconnects to whatever comes next
                if item.topic == account:
                    if not await anyio.to_thread.run_sync(_still_signed_in, token):
                        yield _sse({"type": "signed-out"})
                        return
                    continue
                yield _sse(item.data)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(anyio.to_thread.run_sync(_presence_disconnect, connection))


def _still_signed_in(token: str | None) -> bool:
    with session_scope() as db:
        return agents.agent_for_token(db, token) is not None


def _sse(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, default=str)}\n\n".encode()


def _presence_connect(device: control.Device) -> str:
    with session_scope() as db:
        cid = presence.connect(db, device.identity, None if device.is_phone else device.agent.id)
        if not device.is_phone:
            agent_states.track(db, device.agent.id or 0)
    logger.debug("presence: %s connected (%s)", device.identity, cid)
    return cid


def _presence_touch(connection: str) -> None:
    try:
        with session_scope() as db:
            presence.heartbeat(db, connection)
    except Exception as exc:  # a missed heartbeat must not drop the phone's connection
        logger.warning("presence heartbeat failed: %s", exc.__class__.__name__)


def _current_state(device: control.Device) -> list[dict[str, Any]]:
    with session_scope() as db:
        if device.is_phone:
            return control.current_state(db, device)
        return call_control.current_state(db, device.agent.id or 0)


def _presence_disconnect(connection: str) -> None:
    logger.debug("presence: connection %s closed", connection)
    with session_scope() as db:
        agent_id = presence.disconnect(db, connection)
        if agent_id:
            agent_states.track(db, agent_id)
