"""`/api/local/...`: signaling for the local provider's browser phones, and the media server's callbacks."""

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
from pydantic import BaseModel, Field

from call_center.api.deps import CurrentAgent, SessionDep
from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.core.security import SESSION_COOKIE
from call_center.services import agents, nonces, presence
from call_center.services.events import STOPPING, get_bus
from call_center.telephony import get_provider
from call_center.telephony.local import control
from call_center.telephony.local.protocol import NONCE_HEADER, callback_signature_ok

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/local", tags=["local"])

SDP_MAX = 20_000
KEEPALIVE_SECONDS = 10.0


def _require_local() -> None:
    if get_settings().TELEPHONY_PROVIDER != "local":
        raise HTTPException(
            status_code=404, detail={"code": "error.not_found", "message": "local provider is off"}
        )


def _device(agent: Any, device_token: str | None) -> control.Device:
    """The session's agent's softphone, or (with a device token the server issued) a simulated phone."""
    _require_local()
    return control.phone_device(agent, device_token) if device_token else control.agent_device(agent)


class Dial(BaseModel):
    to: str = Field(max_length=40)
    sdp: str = Field(max_length=SDP_MAX)


class Offer(BaseModel):
    sdp: str = Field(max_length=SDP_MAX)


class Hold(BaseModel):
    on: bool


class Digits(BaseModel):
    digits: str = Field(max_length=32)


PhoneQuery = Annotated[
    str | None,
    Query(
        alias="device",
        max_length=200,
        description="act as the simulated phone this server-issued device token registers",
    ),
]


@router.post("/calls")
def dial(body: Dial, agent: CurrentAgent, db: SessionDep, phone: PhoneQuery = None) -> dict[str, Any]:
    """An agent calls a number, or (with ?device=) a simulated phone calls the company number."""
    return get_provider().place_call(db, _device(agent, phone), body.to, body.sdp)


@router.post("/calls/{sid}/answer")
def answer(
    sid: str, body: Offer, agent: CurrentAgent, db: SessionDep, phone: PhoneQuery = None
) -> dict[str, Any]:
    return get_provider().answer(db, _device(agent, phone), sid, body.sdp)


@router.post("/calls/{sid}/reject", status_code=204)
def reject(sid: str, agent: CurrentAgent, db: SessionDep, phone: PhoneQuery = None) -> None:
    get_provider().reject(db, _device(agent, phone), sid)


@router.post("/calls/{sid}/hangup", status_code=204)
def hangup(sid: str, agent: CurrentAgent, db: SessionDep, phone: PhoneQuery = None) -> None:
    get_provider().hangup(db, _device(agent, phone), sid)


@router.post("/calls/{sid}/hold", status_code=204)
def hold(sid: str, body: Hold, agent: CurrentAgent, db: SessionDep) -> None:
    get_provider().hold(db, _device(agent, None), sid, body.on)


@router.post("/calls/{sid}/dtmf", status_code=204)
def dtmf(sid: str, body: Digits, agent: CurrentAgent, db: SessionDep, phone: PhoneQuery = None) -> None:
    get_provider().send_digits(db, _device(agent, phone), sid, body.digits)


@router.get("/events")
async def events(request: Request, agent: CurrentAgent, phone: PhoneQuery = None) -> StreamingResponse:
    """Server-sent events for one browser phone: offers, status changes, DTMF. Keeps its presence fresh."""
    device = _device(agent, phone)
    topics = [control.device_topic(device.identity), agents.account_topic(agent.id or 0)]
    token = request.cookies.get(SESSION_COOKIE)
    return StreamingResponse(
        _stream(request, device, topics, token),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


async def _stream(
    request: Request, device: control.Device, topics: list[str], token: str | None
) -> AsyncIterator[bytes]:
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
        return control.current_state(db, device)


def _presence_disconnect(connection: str) -> None:
    logger.debug("presence: connection %s closed", connection)
    with session_scope() as db:
        presence.disconnect(db, connection)


@router.post("/webhook", status_code=204, include_in_schema=False)
async def webhook(request: Request) -> None:
    """Callbacks from our media server: signed, fresh and single-use (like Twilio's, but ours)."""
    _require_local()
    raw = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    if not callback_signature_ok(get_settings().secret_key(), raw, headers):
        raise HTTPException(status_code=403, detail={"code": "error.forbidden", "message": "bad signature"})
    try:
        body = json.loads(raw)
    except ValueError:
        raise HTTPException(
            status_code=400, detail={"code": "error.generic", "message": "malformed JSON"}
        ) from None
    if not isinstance(body, dict):
        raise HTTPException(status_code=400, detail={"code": "error.generic", "message": "not an object"})
    if not await anyio.to_thread.run_sync(_apply_callback, body, headers[NONCE_HEADER]):
        logger.warning("media callback refused: replayed nonce")
        raise HTTPException(status_code=403, detail={"code": "error.forbidden", "message": "replayed"})


def _apply_callback(body: dict[str, Any], nonce: str) -> bool:
    with session_scope() as db:
        if not nonces.first_use(db, nonce):
            return False
        db.commit()
        control.handle_callback(db, body)
    return True
