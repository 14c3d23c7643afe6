"""`/api/local/...`: signaling for the local provider's browser phones, and the media server's callbacks."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from call_center.api.deps import CurrentAgent, SessionDep, SupervisorAgent
from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.services import nonces
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


class Monitor(BaseModel):
    sdp: str = Field(max_length=SDP_MAX)
    mode: str = Field(max_length=16)


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


@router.post("/calls/{sid}/dtmf", status_code=204)
def dtmf(sid: str, body: Digits, agent: CurrentAgent, db: SessionDep, phone: PhoneQuery = None) -> None:
    get_provider().send_digits(db, _device(agent, phone), sid, body.digits)


@router.post("/calls/{sid}/monitor")
def monitor(sid: str, body: Monitor, supervisor: SupervisorAgent, db: SessionDep) -> dict[str, Any]:
    """A supervisor's browser joins a live call to listen, whisper or barge (services.monitoring)."""
    return get_provider().monitor(db, _device(supervisor, None), sid, body.sdp, body.mode)


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
