"""The app's side of the local provider: the browser phones' signaling, the media server's primitives, and
its callbacks mapped onto the call-control layer (services.call_control, services.transfers).

Who may act on a call is decided here, never by what the browser claims:
- an agent's device is the session's agent;
- a simulated phone's number comes from a device token the server signed for that agent's session
  (`issue_phone_token`), never from a query parameter;
- an agent may answer or decline only a call offered to them (or a transfer of it), and hang up or send
  keypad tones only on a call they are in.

Legs of a call on the media server: "agent" (the agent who had it first), "customer", the transfer
targets the app names: `agent_<id>_<tag>` (an agent's softphone) or `ext_<digits>_<tag>` (a number), and
supervisors monitoring it: `sup_<id>_<tag>` (services.monitoring).
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
from call_center.models import (
    Agent,
    Call,
    CallParty,
    CallStatus,
    Direction,
    PartyKind,
    Recording,
    RecordingStatus,
)
from call_center.services import (
    call_control,
    calls,
    devices,
    monitoring,
    numbers,
    offers,
    parties,
    presence,
    queue,
    queues,
    recordings,
    transfers,
)
from call_center.services.calls import ProviderEvent
from call_center.services.devices import device_topic
from call_center.services.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from call_center.services.events import queue_event
from call_center.services.parties import PartyEvent
from call_center.telephony.local.protocol import CarrierClient, CarrierError

logger = logging.getLogger(__name__)

PROVIDER = "local"
PHONE_TOKEN_PURPOSE = "phone-device"
CLOSED_SECONDS = 6  # how long a caller hears the closed tone before the line hangs up
_DIGITS = re.compile(r"^[0-9*#]{1,32}$")
TARGET_LEG = re.compile(r"^(agent|ext)_(\d+)_[0-9a-f]+$")


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


def _media(op: str, **args: Any) -> Any:
    """A media server operation; its refusal becomes a Conflict with the reason's key (its own words stay
    in our log)."""
    try:
        return client().request(op, **args)
    except CarrierError as exc:
        logger.info("media server refused %s: %s (%s)", op, exc.code, exc.message)
        raise Conflict(exc.code, t(exc.code, "en")) from None


def _fail(db: Session, sid: str, status: str, code: str, reason: str) -> CallFailed:
    call_control.fail(db, PROVIDER, sid, status, code)
    logger.info("call %s failed: %s", sid, reason)
    return CallFailed(code, t(code, "en"), sid)


# Placing calls -------------------------------------------------------------------------------------------


def place_call(db: Session, agent: Agent, to: str, sdp: str) -> dict[str, Any]:
    """An agent calls a number: the echo line, or a simulated phone if one is registered with that number."""
    settings = get_settings()
    sid = new_sid()
    call, dest = call_control.open_outbound(
        db, provider=PROVIDER, agent=agent, raw=to, settings=settings, call_sid=sid,
        from_number=settings.COMPANY_NUMBER,
    )  # fmt: skip
    if not dest.is_echo and not presence.is_online(db, phone_identity(dest.e164)):
        raise _fail(db, sid, CallStatus.FAILED, "call.error.unreachable", "the number is not reachable")
    mode = "echo" if dest.is_echo else "bridge"
    try:
        reply = client().request(
            "dial", sid=sid, mode=mode, sdp=sdp, ring_timeout=settings.RING_TIMEOUT_SECONDS,
            notice=settings.RECORDING_NOTICE_OUTBOUND,
        )  # fmt: skip
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
    return {
        "call_sid": sid,
        "call_id": call.id,
        "sdp": reply["sdp"],
        "to": dest.e164,
        "display": dest.display,
    }


def phone_calls_company(db: Session, device: Device, sdp: str, to: str | None = None) -> dict[str, Any]:
    """A simulated phone dials the company (COMPANY_NUMBER, or `to`: a number an admin mapped to a queue):
    the call waits in that number's queue (services.queue), which rings agents by its strategy; with
    nobody logged in its first round sends the caller to voicemail. Outside the queue's opening hours the
    caller hears the closed tone for CLOSED_SECONDS (the phone shows the closed message) and the call ends
    `no-answer` for reason "closed"."""
    settings = get_settings()
    assert device.number is not None
    dialled = _company_number(db, to)
    sid = new_sid()
    call = call_control.open_inbound(
        db, provider=PROVIDER, call_sid=sid, caller=device.number, to=dialled, settings=settings
    )
    shut = queue.closed(db, call)
    if shut is not None:
        try:
            reply = client().request(
                "inbound", sid=sid, sdp=sdp, ring_timeout=CLOSED_SECONDS, sound="closed",
                timeout_reason=queues.CLOSED_REASON,
            )  # fmt: skip
        except CarrierError as exc:
            raise _fail(db, sid, CallStatus.FAILED, exc.code, exc.message) from None
        message = {"message_ar": shut.closed_message_ar, "message_en": shut.closed_message_en}
        closed = {"type": "queue", "call_sid": sid, "position": 0, "closed": True}
        signal_customer(db, call, {**closed, **message})
        db.commit()
        return {"call_sid": sid, "call_id": call.id, "sdp": reply["sdp"]}
    config = queues.config(db, queue.queue_of(db, call))
    # The media server's own limit is a safety net: the queue ends the call when the wait is over.
    limit = config.max_wait_seconds + config.ring_seconds + 30
    try:
        reply = client().request(
            "inbound", sid=sid, sdp=sdp, ring_timeout=limit, sound="queue", notice=settings.RECORDING_NOTICE
        )
    except CarrierError as exc:
        raise _fail(db, sid, CallStatus.FAILED, exc.code, exc.message) from None
    queue.dispatch(db, queue.enter(db, call).queue)
    return {"call_sid": sid, "call_id": call.id, "sdp": reply["sdp"]}


def _company_number(db: Session, to: str | None) -> str:
    """The company number a test phone dials: COMPANY_NUMBER unless it asked for a queue's number."""
    settings = get_settings()
    if not to:
        return settings.COMPANY_NUMBER
    try:
        e164 = numbers.to_e164(to, settings.DEFAULT_REGION)
    except DomainError:
        e164 = to
    if e164 == settings.COMPANY_NUMBER or e164 in queues.inbound_numbers(db):
        return e164
    raise InvalidInput("phone.error.not_company", f"{to!r} is not one of the company's numbers")


def ring_agents(db: Session, call: Call, agents: list[Agent]) -> None:
    """The agents' softphones ring (an offer on their event stream; sent when `db` commits)."""
    offer = call_control.offer_message(db, call)
    for agent in agents:
        queue_event(db, device_topic(agent.identity), offer)


# Which leg a device is -----------------------------------------------------------------------------------


def _call(db: Session, sid: str) -> Call:
    call = calls.find_call(db, PROVIDER, sid)
    if call is None:
        raise NotFound("error.not_found", f"no call {sid}")
    return call


def _leg(db: Session, call: Call, device: Device) -> str:
    """The device's leg in `call` ("agent", "customer" or a transfer target's), or Forbidden."""
    if device.is_phone:
        if call.customer_number == device.number:
            return "customer"
        party = db.exec(
            select(CallParty.leg).where(
                CallParty.call_id == call.id,
                CallParty.number == device.number,
                col(CallParty.left_at).is_(None),
            )
        ).first()
        if party:
            return party
    else:
        leg = parties.agent_leg(db, call, device.agent.id or 0)
        if leg:
            return leg
        if call.agent_id == device.agent.id:
            return "agent"
    raise Forbidden("error.forbidden", "this device is not part of that call")


def _party_of(call: Call, leg: str) -> tuple[str, int | None, str | None]:
    """(kind, agent id, number) of a leg name."""
    if leg == "customer":
        return PartyKind.CUSTOMER, None, call.customer_number
    if leg == "agent":
        return PartyKind.AGENT, call.agent_id, None
    match = TARGET_LEG.match(leg)
    if match and match.group(1) == "agent":
        return PartyKind.TARGET, int(match.group(2)), None
    if match:
        return PartyKind.TARGET, None, "+" + match.group(2)
    return PartyKind.SUPERVISOR, monitoring.supervisor_of(leg), None


# Acting on a call ----------------------------------------------------------------------------------------


def answer(db: Session, device: Device, sid: str, sdp: str) -> dict[str, Any]:
    """The called side picks up: a phone answering an agent, the first agent to accept an inbound call, or
    the target of a transfer joining the call."""
    call = _call(db, sid)
    if call.status in CallStatus.TERMINAL:
        raise Conflict("call.error.gone", "the call has ended")
    invited = (
        transfers.pending_for_number(db, call, device.number or "")
        if device.is_phone
        else transfers.pending_for_agent(db, call, device.agent.id or 0)
    )
    if invited is not None and (not device.is_phone or call.customer_number != device.number):
        reply = _media("join", sid=sid, leg=invited.target_leg, sdp=sdp)
        queue_event(
            db, device_topic(device.identity), {"type": "status", "call_sid": sid, "status": "in-progress"}
        )
        db.commit()
        return {"call_sid": sid, "sdp": reply["sdp"]}
    if device.is_phone:
        role = _leg(db, call, device)
    else:
        call_control.check_offered(db, call, device.agent.id or 0)
        call_control.claim(db, call, device.agent.id or 0)
        role = "agent"
    reply = _media("answer", sid=sid, role=role, sdp=sdp)
    return {"call_sid": sid, "sdp": reply["sdp"]}


def reject(db: Session, device: Device, sid: str) -> None:
    """A phone declines a call (busy). An agent declining an offer only stops their own ringing; declining a
    transfer tells the transferring agent."""
    call = _call(db, sid)
    invited = (
        transfers.pending_for_number(db, call, device.number or "")
        if device.is_phone
        else transfers.pending_for_agent(db, call, device.agent.id or 0)
    )
    if invited is not None and (not device.is_phone or call.customer_number != device.number):
        _media("cancel_invite", sid=sid, leg=invited.target_leg, status="declined")
        return
    if device.is_phone:
        _leg(db, call, device)
        _media("reject", sid=sid, status="busy")
        return
    call_control.decline(db, call, device.agent.id or 0)


def hangup(db: Session, device: Device, sid: str) -> None:
    """A device hangs up. With other agents in the call (a transfer), only its own leg leaves: the first
    agent hanging up a consultation completes the transfer."""
    call = _call(db, sid)
    leg = _leg(db, call, device)
    if call.status in CallStatus.TERMINAL:
        return
    if (
        leg != "customer"
        and not device.is_phone
        and transfers.hang_up_during_transfer(db, call, device.agent)
    ):
        return
    # Others who keep the customer company; supervisors never do (the agent hanging up ends the call).
    others = [
        p for p in parties.in_call(db, call)
        if p.leg not in (leg, "customer") and p.kind != PartyKind.SUPERVISOR
    ]  # fmt: skip
    if (
        leg != "customer"
        and call.status == CallStatus.IN_PROGRESS
        and (others or monitoring.supervisor_of(leg) is not None)
    ):
        _media("leave", sid=sid, leg=leg)
        return
    try:
        client().request("hangup", sid=sid, by="customer" if leg == "customer" else "agent")
    except CarrierError as exc:
        # The media server lost the call (e.g. it restarted): end it here so nothing stays "in progress".
        logger.warning(
            "call %s: hang-up not possible on the media server (%s); ending it here", sid, exc.message
        )
        calls.apply_event(
            db, ProviderEvent(PROVIDER, sid, "completed", leg=None, reason="reason.media_restarted")
        )


def send_digits(db: Session, device: Device, sid: str, digits: str) -> None:
    """DTMF from one side reaches the other side's phone."""
    if not _DIGITS.match(digits or ""):
        raise InvalidInput("call.error.digits", "DTMF digits are 0-9, * and #")
    call = _call(db, sid)
    leg = _leg(db, call, device)
    if monitoring.supervisor_of(leg) is not None:
        raise Forbidden("error.forbidden", "a supervisor monitoring a call sends no keypad tones")
    body = {
        "type": "dtmf",
        "call_sid": sid,
        "digits": digits,
        "from": "customer" if leg == "customer" else "agent",
    }
    if leg == "customer":
        call_control.signal(db, call, body)
    else:
        queue_event(db, device_topic(phone_identity(call.customer_number)), body)
    db.commit()


def monitor(db: Session, device: Device, sid: str, sdp: str, mode: str) -> dict[str, Any]:
    """A supervisor's browser joins a live call to listen, whisper or barge (services.monitoring decides
    whether it may and with which flags; the media server mixes for each listener)."""
    if device.is_phone:
        raise Forbidden("error.forbidden", "a test phone cannot monitor calls")
    call = _call(db, sid)
    plan = monitoring.plan(db, device.agent, call, mode)
    reply = _media(
        "join", sid=sid, leg=plan.leg, sdp=sdp, muted=plan.muted, coaching=plan.coach, invited=False
    )
    return {"call_sid": sid, "sdp": reply["sdp"], "leg": plan.leg, "mode": plan.mode}


def set_monitor(db: Session, call: Call, leg: str, *, muted: bool, coach: str | None) -> None:
    _media("update", sid=call.provider_call_sid, leg=leg, muted=muted, coaching=coach)


def signal_customer(db: Session, call: Call, message: dict[str, Any]) -> None:
    if call.customer_number.startswith("+"):
        queue_event(db, device_topic(phone_identity(call.customer_number)), message)


# Primitives for hold and transfers (services.transfers drives them) --------------------------------------


def announce_position(db: Session, call: Call, position: int) -> None:
    _media(
        "announce",
        sid=call.provider_call_sid,
        position=position,
        period=queues.config(db, queue.queue_of(db, call)).announce_seconds,
    )


def end_unanswered(db: Session, call: Call, reason: str) -> None:
    """Nobody took the call: the caller leaves a voicemail (the media server ends the call `no-answer` for
    `reason` when they hang up or the message is at VOICEMAIL_MAX_SECONDS); the test phone shows it."""
    sid = call.provider_call_sid
    try:
        client().request(
            "voicemail", sid=sid, reason=reason, max_seconds=get_settings().VOICEMAIL_MAX_SECONDS
        )
    except CarrierError as exc:  # e.g. the caller hung up meanwhile: end it as the queue decided
        logger.info("call %s: no voicemail (%s); ending it", sid, exc.message)
        _media("end", sid=sid, status=CallStatus.NO_ANSWER, reason=reason)
        return
    signal_customer(db, call, {"type": "queue", "call_sid": sid, "position": 0, "voicemail": True})


def hold_customer(db: Session, call: Call, on: bool) -> None:
    _media("update", sid=call.provider_call_sid, leg="customer", held=on)


def invite(
    db: Session, call: Call, *, agent: Agent | None, number: str | None, ring_timeout: int, tag: str
) -> str:
    """Ring a transfer target: an agent's softphone, or a simulated phone with that number."""
    if agent is not None:
        leg, identity = f"agent_{agent.id}_{tag}", agent.identity
        offer = call_control.offer_message(db, call, leg=leg, transfer_from=call_control.agent_name(db, call))
    else:
        assert number is not None
        leg, identity = f"ext_{number.lstrip('+')}_{tag}", phone_identity(number)
        if not presence.is_online(db, identity):
            raise Conflict("call.error.unreachable", "the number is not reachable")
        company = get_settings().COMPANY_NUMBER
        offer = {"type": "incoming", "call_sid": call.provider_call_sid, "from": company, "leg": leg}
    _media("invite", sid=call.provider_call_sid, leg=leg, ring_timeout=ring_timeout)
    queue_event(db, device_topic(identity), offer)
    return leg


def cancel_invite(db: Session, call: Call, leg: str) -> None:
    _media("cancel_invite", sid=call.provider_call_sid, leg=leg)
    kind, agent_id, number = _party_of(call, leg)
    identity = f"agent_{agent_id}" if agent_id else phone_identity(number or "")
    queue_event(
        db,
        device_topic(identity),
        {"type": "cancel", "call_sid": call.provider_call_sid, "reason": "canceled"},
    )


def remove_party(db: Session, call: Call, leg: str) -> None:
    _media("leave", sid=call.provider_call_sid, leg=leg)
    kind, agent_id, number = _party_of(call, leg)
    if agent_id is None and number and kind == PartyKind.TARGET:  # a simulated phone: its call ends
        ended = devices.status(call.provider_call_sid, "completed", by="agent")
        queue_event(db, device_topic(phone_identity(number)), ended)
        db.commit()


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
        messages.append(devices.status(sid, call.status))
    return messages


# Callbacks from the media server -------------------------------------------------------------------------


def handle_callback(db: Session, body: dict[str, Any]) -> None:
    """Apply one signed callback: a status change, a party's leg, or a finished recording."""
    kind, sid = body.get("type"), str(body.get("sid", ""))
    if kind == "status":
        _apply_status(db, sid, body)
    elif kind == "party":
        _apply_party(db, sid, body)
    elif kind == "recording":
        _apply_recording(db, sid, body)
    else:
        raise InvalidInput("error.generic", f"unknown callback type {kind!r}")


def _at(body: dict[str, Any]) -> datetime | None:
    return datetime.fromisoformat(body["at"]) if body.get("at") else None


def _apply_status(db: Session, sid: str, body: dict[str, Any]) -> None:
    event = ProviderEvent(
        PROVIDER,
        sid,
        str(body.get("status")),
        leg=body.get("leg"),
        at=_at(body),
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
    call_control.after_status(db, call)


def _apply_party(db: Session, sid: str, body: dict[str, Any]) -> None:
    leg, status = str(body.get("leg", "")), str(body.get("status", ""))
    found = calls.find_call(db, PROVIDER, sid)
    if found is None:
        raise NotFound("error.not_found", f"no call {sid}")
    kind, agent_id, number = _party_of(found, leg)
    mode = None
    if kind == PartyKind.SUPERVISOR and status == parties.JOINED:  # the flags it joined with
        mode = monitoring.mode_of(bool(body.get("muted")), bool(body.get("coaching")))
    event = PartyEvent(
        PROVIDER, sid, leg, status, kind=kind, agent_id=agent_id, number=number, mode=mode, at=_at(body),
        raw=body, dedupe=str(body.get("event_id") or ""),
    )  # fmt: skip
    call, new = parties.apply(db, event)
    if call is not None and new:
        call_control.after_party(db, call, leg, status)


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
