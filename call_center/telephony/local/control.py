"""The app's side of the local provider: routing calls to phones and agents, driving the media server,
and applying its callbacks through the one call state machine.

Who may act on a call is decided here, never by what the browser claims:
- an agent's device is the session's agent;
- a simulated phone's number comes from a device token the server signed for that agent's session
  (`issue_phone_token`), never from a query parameter;
- an agent may answer or decline only a call offered to them, and hang up, hold or send keypad tones only
  on a call that is theirs; the first agent to answer gets the call, the others are told "taken".
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from call_center.core import security
from call_center.core.config import get_settings
from call_center.core.i18n import t
from call_center.models import Agent, Call, CallStatus, Direction, OfferOutcome, Recording, RecordingStatus
from call_center.services import call_control, calls, offers, presence, recordings
from call_center.services.calls import ProviderEvent
from call_center.services.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from call_center.services.events import queue_event
from call_center.telephony.local.protocol import CarrierClient, CarrierError

logger = logging.getLogger(__name__)

PROVIDER = "local"
PHONE_TOKEN_PURPOSE = "phone-device"
_DIGITS = re.compile(r"^[0-9*#]{1,32}$")


class CallFailed(DomainError):
    """The call could not be placed; the Call row records why."""

    status = 409

    def __init__(self, code: str, detail: str, call_sid: str):
        super().__init__(code, detail)
        self.call_sid = call_sid


@dataclass(frozen=True)
class Device:
    """Who is acting: an agent's softphone or a simulated customer phone (used by a logged-in tester)."""

    identity: str
    agent: Agent
    number: str | None = None  # set for simulated phones

    @property
    def is_phone(self) -> bool:
        return self.number is not None


def phone_identity(number: str) -> str:
    return "phone_" + number.lstrip("+")


def device_topic(identity: str) -> str:
    return f"device.{identity}"


def new_sid() -> str:
    return "LC" + secrets.token_hex(16)


# Devices -------------------------------------------------------------------------------------------------


def issue_phone_token(agent_id: int, number: str) -> str:
    """A signed registration of a simulated phone with `number`, for this agent's session only."""
    ttl = get_settings().SESSION_TTL_HOURS * 3600
    value = f"{agent_id}:{number}"
    expires, signature = security.sign(PHONE_TOKEN_PURPOSE, value, ttl)
    return f"{value}:{expires}:{signature}"


def phone_device(agent: Agent, token: str) -> Device:
    """The simulated phone a device token registers (issued to this agent), or Forbidden."""
    try:
        agent_id, number, expires, signature = token.split(":")
        valid = security.verify_signed(PHONE_TOKEN_PURPOSE, f"{agent_id}:{number}", int(expires), signature)
    except ValueError:
        valid = False
    if not valid or int(agent_id) != agent.id:
        raise Forbidden("device.error.token", "this phone's registration is not valid; reload the page")
    return Device(identity=phone_identity(number), agent=agent, number=number)


def agent_device(agent: Agent) -> Device:
    return Device(identity=agent.identity, agent=agent)


def client() -> CarrierClient:
    settings = get_settings()
    return CarrierClient(settings.media_control_port, settings.secret_key())


def _media_refused(exc: CarrierError) -> Conflict:
    # The media server's own words stay in our log; the browser gets the reason's key and its text.
    logger.info("media server refused: %s (%s)", exc.code, exc.message)
    return Conflict(exc.code, t(exc.code, "en"))


def _fail(db: Session, sid: str, status: str, code: str, reason: str) -> CallFailed:
    # The i18n key is what the call keeps as its reason: the history shows it in the viewer's language.
    calls.apply_event(db, ProviderEvent(PROVIDER, sid, status, leg=None, reason=code, dedupe=f"{sid}:{code}"))
    logger.info("call %s failed: %s", sid, reason)
    return CallFailed(code, t(code, "en"), sid)


# Placing calls -------------------------------------------------------------------------------------------


def place_call(db: Session, agent: Agent, to: str, sdp: str) -> dict[str, Any]:
    """An agent calls a number: the echo line, or a simulated phone if one is registered with that number."""
    settings = get_settings()
    try:
        dest = call_control.check_outbound(db, agent, to, settings)
    except DomainError as exc:
        call_control.record_refused(db, provider=PROVIDER, agent=agent, raw=to, error=exc, settings=settings)
        raise
    sid = new_sid()
    call = calls.create_call(
        db,
        provider=PROVIDER,
        call_sid=sid,
        direction=Direction.OUTBOUND,
        from_number=settings.COMPANY_NUMBER,
        to_number=dest.e164,
        customer_number=dest.e164,
        agent_id=agent.id,
    )
    db.commit()
    if not dest.is_echo and not presence.is_online(db, phone_identity(dest.e164)):
        raise _fail(db, sid, CallStatus.FAILED, "call.error.unreachable", "the number is not reachable")
    mode = "echo" if dest.is_echo else "bridge"
    try:
        reply = client().request(
            "dial", sid=sid, mode=mode, sdp=sdp, ring_timeout=settings.RING_TIMEOUT_SECONDS
        )
    except CarrierError as exc:
        raise _fail(db, sid, CallStatus.FAILED, exc.code, exc.message) from None
    if mode == "bridge":
        offer = {
            "type": "incoming",
            "call_sid": sid,
            "from": settings.COMPANY_NUMBER,
            "caller_name": agent.name,
        }
        queue_event(db, device_topic(phone_identity(dest.e164)), offer)
        db.commit()
    logger.info("call %s: agent %s dialled %s (%s)", sid, agent.id, dest.e164, mode)
    return {
        "call_sid": sid,
        "call_id": call.id,
        "sdp": reply["sdp"],
        "to": dest.e164,
        "display": dest.display,
    }


def phone_calls_company(db: Session, device: Device, sdp: str) -> dict[str, Any]:
    """A simulated phone dials the company number: every available agent's softphone rings."""
    settings = get_settings()
    assert device.number is not None
    sid = new_sid()
    call = calls.create_call(
        db,
        provider=PROVIDER,
        call_sid=sid,
        direction=Direction.INBOUND,
        from_number=device.number,
        to_number=settings.COMPANY_NUMBER,
        customer_number=device.number,
    )
    db.commit()
    agents = presence.available_agents(db)
    if not agents:
        raise _fail(db, sid, CallStatus.NO_ANSWER, "call.error.no_agents", "no agent is available")
    try:
        reply = client().request("inbound", sid=sid, sdp=sdp, ring_timeout=settings.RING_TIMEOUT_SECONDS)
    except CarrierError as exc:
        raise _fail(db, sid, CallStatus.FAILED, exc.code, exc.message) from None
    offer_to_agents(db, call, agents)
    db.commit()
    logger.info("call %s: %s calls the company; ringing %d agent(s)", sid, device.number, len(agents))
    return {"call_sid": sid, "call_id": call.id, "sdp": reply["sdp"]}


def offer_to_agents(db: Session, call: Call, agents: list[Agent]) -> None:
    """Ring these agents' phones (all at once; the first to answer gets the call). Sent on commit."""
    contact = calls.contact_for(db, call.customer_number)
    offers.open_offers(db, call.id or 0, [a.id or 0 for a in agents])
    offer = {
        "type": "incoming",
        "call_sid": call.provider_call_sid,
        "from": call.customer_number,
        "caller_name": contact.name if contact else None,
    }
    for agent in agents:
        queue_event(db, device_topic(agent.identity), offer)


# Acting on a call ----------------------------------------------------------------------------------------


def _call(db: Session, sid: str) -> Call:
    call = calls.find_call(db, PROVIDER, sid)
    if call is None:
        raise NotFound("error.not_found", f"no call {sid}")
    return call


def _role(call: Call, device: Device) -> str:
    """Which side of `call` the device is ("customer", or "agent" for the agent it belongs to)."""
    if device.is_phone:
        if call.customer_number == device.number:
            return "customer"
    elif call.agent_id == device.agent.id:
        return "agent"
    raise Forbidden("error.forbidden", "this device is not part of that call")


def _offered(db: Session, call: Call, device: Device) -> None:
    """An agent acting on an unanswered call must have been offered it (it rings on their phone)."""
    outcome = offers.latest_outcome(db, call.id or 0, device.agent.id or 0)
    if outcome == OfferOutcome.TAKEN or (call.agent_id is not None and call.agent_id != device.agent.id):
        raise Conflict("call.error.taken", "another agent answered first")
    if call.direction != Direction.INBOUND or outcome != OfferOutcome.RINGING:
        raise Forbidden("call.error.not_offered", "that call was not offered to you")


def answer(db: Session, device: Device, sid: str, sdp: str) -> dict[str, Any]:
    """The called side picks up: a phone answering an agent, or the first agent to accept an inbound call."""
    call = _call(db, sid)
    if call.status in CallStatus.TERMINAL:
        raise Conflict("call.error.gone", "the call has ended")
    if device.is_phone:
        role = _role(call, device)
    else:
        _offered(db, call, device)
        if not calls.claim_call(db, call.id or 0, device.agent.id or 0):
            raise Conflict("call.error.taken", "another agent answered first")
        others = offers.answered(db, call.id or 0, device.agent.id or 0)
        _tell_agents(db, others, {"type": "cancel", "call_sid": sid, "reason": "answered-elsewhere"})
        db.commit()
        role = "agent"
    try:
        reply = client().request("answer", sid=sid, role=role, sdp=sdp)
    except CarrierError as exc:
        raise _media_refused(exc) from None
    return {"call_sid": sid, "sdp": reply["sdp"]}


def reject(db: Session, device: Device, sid: str) -> None:
    """A phone declines a call (busy). An agent declining an offer only stops their own ringing."""
    call = _call(db, sid)
    if device.is_phone:
        _role(call, device)
        try:
            client().request("reject", sid=sid, status="busy")
        except CarrierError as exc:
            raise _media_refused(exc) from None
        return
    _offered(db, call, device)
    offers.end_offer(db, call.id or 0, device.agent.id or 0, OfferOutcome.DECLINED)
    db.commit()


def hangup(db: Session, device: Device, sid: str) -> None:
    call = _call(db, sid)
    role = _role(call, device)
    if call.status in CallStatus.TERMINAL:
        return
    try:
        client().request("hangup", sid=sid, by=role)
    except CarrierError as exc:
        # The media server lost the call (e.g. it restarted): end it here so nothing stays "in progress".
        logger.warning(
            "call %s: hang-up not possible on the media server (%s); ending it here", sid, exc.message
        )
        calls.apply_event(
            db, ProviderEvent(PROVIDER, sid, "completed", leg=None, reason="reason.media_restarted")
        )


def hold(db: Session, device: Device, sid: str, on: bool) -> None:
    call = _call(db, sid)
    if _role(call, device) != "agent":
        raise Forbidden("error.forbidden", "only the agent can hold a call")
    try:
        client().request("hold", sid=sid, on=on)
    except CarrierError as exc:
        raise _media_refused(exc) from None
    signal(db, call, {"type": "hold", "on": on})
    db.commit()


def send_digits(db: Session, device: Device, sid: str, digits: str) -> None:
    """DTMF from one side reaches the other side's phone."""
    if not _DIGITS.match(digits or ""):
        raise InvalidInput("call.error.digits", "DTMF digits are 0-9, * and #")
    call = _call(db, sid)
    role = _role(call, device)
    target = phone_identity(call.customer_number) if role == "agent" else _agent_identity(db, call)
    if target:
        queue_event(
            db, device_topic(target), {"type": "dtmf", "call_sid": sid, "digits": digits, "from": role}
        )
        db.commit()


def _agent_identity(db: Session, call: Call) -> str | None:
    agent = db.get(Agent, call.agent_id) if call.agent_id else None
    return agent.identity if agent else None


def _tell_agents(db: Session, agent_ids: list[int], message: dict[str, Any]) -> None:
    for agent_id in agent_ids:
        queue_event(db, device_topic(f"agent_{agent_id}"), message)


def signal(db: Session, call: Call, message: dict[str, Any]) -> None:
    """Tell both ends of `call` (and, while it rings unanswered, every agent it rings for) about it."""
    body = {"call_sid": call.provider_call_sid, **message}
    if identity := _agent_identity(db, call):
        queue_event(db, device_topic(identity), body)
    if call.direction == Direction.INBOUND and call.agent_id is None:
        _tell_agents(db, offers.ringing_agents(db, call.id or 0), body)
    if call.customer_number.startswith("+"):
        queue_event(db, device_topic(phone_identity(call.customer_number)), body)


def current_state(db: Session, device: Device) -> list[dict[str, Any]]:
    """Messages that bring a (re)connecting device up to date: calls offered to it, and its calls' status."""
    active = (CallStatus.INITIATED, CallStatus.RINGING, CallStatus.IN_PROGRESS)
    query = select(Call).where(Call.provider == PROVIDER, col(Call.status).in_(active))
    if device.is_phone:
        query = query.where(Call.customer_number == device.number)
    else:
        mine = col(Call.agent_id) == device.agent.id
        ringing_for_me = offers.ringing_calls(db, device.agent.id or 0)
        offered = and_(col(Call.agent_id).is_(None), col(Call.id).in_(ringing_for_me or [-1]))
        query = query.where(or_(mine, offered))
    messages: list[dict[str, Any]] = []
    for call in db.exec(query):
        sid = call.provider_call_sid
        offer_to_me = call.status == CallStatus.RINGING and (
            (device.is_phone and call.direction == Direction.OUTBOUND)
            or (not device.is_phone and call.direction == Direction.INBOUND and call.agent_id is None)
        )
        if offer_to_me:
            caller = (
                call.from_number if call.direction == Direction.INBOUND else get_settings().COMPANY_NUMBER
            )
            messages.append({"type": "incoming", "call_sid": sid, "from": caller, "caller_name": None})
        messages.append(
            {"type": "status", "call_sid": sid, "status": call.status, "reason": None, "by": None}
        )
    return messages


# Callbacks from the media server -------------------------------------------------------------------------


def handle_callback(db: Session, body: dict[str, Any]) -> None:
    """Apply one signed callback: a status change or a finished recording."""
    kind, sid = body.get("type"), str(body.get("sid", ""))
    if kind == "status":
        _apply_status(db, sid, body)
    elif kind == "recording":
        _apply_recording(db, sid, body)
    else:
        raise InvalidInput("error.generic", f"unknown callback type {kind!r}")


def _apply_status(db: Session, sid: str, body: dict[str, Any]) -> None:
    at = datetime.fromisoformat(body["at"]) if body.get("at") else None
    event = ProviderEvent(
        PROVIDER,
        sid,
        str(body.get("status")),
        leg=body.get("leg"),
        at=at,
        reason=body.get("reason"),
        hangup_by=body.get("hangup_by"),
        raw=body,
        dedupe=str(body.get("event_id") or ""),
    )
    result = calls.apply_event(db, event)
    call = result.call
    if call is None or result.duplicate:
        return
    if event.status == CallStatus.IN_PROGRESS and not recordings.recordings_for_call(db, call.id or 0):
        recordings.start_recording(db, call)
    signal(
        db,
        call,
        {"type": "status", "status": call.status, "reason": call.hangup_reason, "by": call.hangup_by},
    )
    if call.status in CallStatus.TERMINAL:
        offers.call_ended(db, call.id or 0)  # still ringing somewhere: those rings were missed
    db.commit()


def _apply_recording(db: Session, sid: str, body: dict[str, Any]) -> None:
    call = calls.find_call(db, PROVIDER, sid)
    if call is None:
        raise NotFound("error.not_found", f"no call {sid}")
    recording = db.exec(
        select(Recording)
        .where(Recording.call_id == call.id, Recording.status == RecordingStatus.PROCESSING)
        .order_by(col(Recording.id).desc())
    ).first() or recordings.start_recording(db, call)
    if body.get("status") == "ready":
        key = str(body["key"])
        store = recordings.get_store()
        if not store.exists(key):
            recordings.mark_failed(db, recording, f"the media server's file {key} is missing")
        else:
            recordings.mark_ready(
                db,
                recording,
                key=key,
                size=store.size(key),
                duration=body.get("duration"),
                channels=body.get("channels"),
            )
    else:
        recordings.mark_failed(db, recording, str(body.get("reason") or "recording failed"))
    db.commit()
