"""Hold and transfers, the same on every provider (the provider only holds, rings, joins and removes legs).

Cold: the customer is held (our hold tone), the target rings; when it answers, the first agent leaves and
the customer is taken off hold with the target. If the target does not answer (or declines), the customer
comes back to the first agent, who is told so.
Warm: the customer is held, the target rings; once it answers the two agents talk. Then *complete* (the
first agent leaves, customer and target talk), *cancel* (the target leaves, back to the customer), or
*talk to all* (the customer joins: three-way), then complete or cancel from there.

A transfer moves on from what the provider reports about the target's leg (party events), so the steps are
the same for the media server's callbacks and Twilio's participant callbacks: `sync` compares the active
transfer with the call's parties and takes the one step they call for. Every step is on the call's
timeline (calls.note) and told to both agents' softphones; reasons are i18n keys.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from sqlmodel import Session, col, select

from call_center.core.config import get_settings
from call_center.models import Agent, Call, CallStatus, CallTransfer, TransferMode, TransferState
from call_center.models.base import utcnow
from call_center.services import call_control, calls, devices, numbers, parties, presence
from call_center.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from call_center.telephony import get_provider
from call_center.telephony.base import Capability, ProviderError

logger = logging.getLogger(__name__)

REASON_FOR = {"no-answer": "transfer.reason.no_answer", "declined": "transfer.reason.declined",
              "busy": "transfer.reason.declined", "canceled": "transfer.reason.canceled"}  # fmt: skip


def _owned_live_call(db: Session, call_sid: str, agent: Agent) -> Call:
    call = calls.find_call(db, get_provider().name, call_sid)
    if call is None:
        raise NotFound("error.not_found", f"no call {call_sid}")
    if call.agent_id != agent.id:
        raise Forbidden("error.forbidden", "that call is not yours")
    if call.status != CallStatus.IN_PROGRESS:
        raise Conflict("call.error.not_answered", "the call is not in progress")
    return call


def active(db: Session, call: Call) -> CallTransfer | None:
    query = (
        select(CallTransfer)
        .where(CallTransfer.call_id == call.id, col(CallTransfer.state).in_(TransferState.ACTIVE))
        .order_by(col(CallTransfer.id).desc())
    )
    return db.exec(query).first()


def _require(capability: str) -> None:
    if not get_provider().can(capability):
        raise Conflict("call.error.unsupported", f"{capability} is not available with this provider")


def _step(action: Any, *args: Any, **kwargs: Any) -> Any:
    """A provider primitive; its failure is the user's Conflict with the provider's reason."""
    try:
        return action(*args, **kwargs)
    except ProviderError as exc:
        raise Conflict(exc.code, exc.detail) from None


def _quietly(what: str, call: Call, action: Any, *args: Any) -> None:
    """A provider step whose failure must not undo what happened (the call or leg may be gone already)."""
    try:
        action(*args)
    except (ProviderError, Conflict) as exc:
        logger.warning("call %s: %s not done: %s", call.id, what, getattr(exc, "detail", exc))


def _agent_name(db: Session, agent_id: int | None) -> str:
    agent = db.get(Agent, agent_id) if agent_id else None
    return agent.name if agent else ""


def _target_name(db: Session, transfer: CallTransfer) -> str:
    if transfer.to_agent_id:
        return _agent_name(db, transfer.to_agent_id)
    return numbers.display(transfer.to_number or "", get_settings().DEFAULT_REGION)


def _tell(db: Session, transfer: CallTransfer, call: Call) -> None:
    """Both agents' softphones hear where the transfer stands."""
    message = {"type": "transfer", "call_sid": call.provider_call_sid, **describe_transfer(db, transfer)}
    for agent_id in {transfer.from_agent_id, transfer.to_agent_id} - {None}:
        devices.tell_agent(db, agent_id, message)  # type: ignore[arg-type]


def describe_transfer(db: Session, transfer: CallTransfer) -> dict[str, Any]:
    return {
        "transfer_id": transfer.id,
        "state": transfer.state,
        "mode": transfer.mode,
        "target": _target_name(db, transfer),
        "from": _agent_name(db, transfer.from_agent_id),
        "reason": transfer.reason,
        "from_agent_id": transfer.from_agent_id,
        "to_agent_id": transfer.to_agent_id,
    }


# Hold ------------------------------------------------------------------------------------------------------
def set_hold(db: Session, call_sid: str, agent: Agent, on: bool) -> None:
    """The agent holds or resumes their customer. Commits."""
    _require(Capability.HOLD)
    call = _owned_live_call(db, call_sid, agent)
    if active(db, call) is not None:
        raise Conflict("transfer.error.in_progress", "finish the transfer first")
    _step(get_provider().hold_customer, db, call, on)
    calls.note(db, call, "hold" if on else "resume", agent_id=agent.id)
    devices.tell_agent(db, agent.id or 0, {"type": "hold", "call_sid": call_sid, "on": on})
    db.commit()


def on_hold(db: Session, call: Call) -> bool:
    """Whether the customer is held by their agent now (the latest hold/resume note)."""
    steps = [s["what"] for s in calls.timeline(db, call.id or 0) if s["what"] in ("hold", "resume")]
    return bool(steps) and steps[-1] == "hold"


# Transfers -------------------------------------------------------------------------------------------------
def transfer_targets(db: Session, agent: Agent) -> list[Agent]:
    """The agents a call can be transferred to now: available, online, not on a call (not me)."""
    return [a for a in presence.available_agents(db) if a.id != agent.id]


def start(
    db: Session,
    call_sid: str,
    agent: Agent,
    *,
    mode: str,
    to_agent_id: int | None = None,
    to_number: str | None = None,
) -> CallTransfer:
    """Begin a cold or warm transfer to an available agent or to a number. Commits."""
    _require(Capability.TRANSFER)
    if mode not in TransferMode.ALL:
        raise InvalidInput("error.generic", f"unknown transfer mode {mode!r}")
    call = _owned_live_call(db, call_sid, agent)
    if active(db, call) is not None:
        raise Conflict("transfer.error.in_progress", "a transfer of this call is already going on")
    settings = get_settings()
    target_agent: Agent | None = None
    number: str | None = None
    if to_agent_id:
        target_agent = db.get(Agent, to_agent_id)
        if target_agent is None or target_agent.id not in {a.id for a in transfer_targets(db, agent)}:
            raise Conflict("transfer.error.agent_unavailable", "that agent cannot take a call now")
    elif to_number:
        destination = call_control.check_outbound(db, agent, to_number, settings)  # toll fraud, rate
        if destination.is_echo or destination.e164 == call.customer_number:
            raise InvalidInput("transfer.error.number", "transfer to another number than the customer's")
        number = destination.e164
    else:
        raise InvalidInput("transfer.error.no_target", "choose an agent or a number")
    provider = get_provider()
    was_held = on_hold(db, call)
    if not was_held:
        _step(provider.hold_customer, db, call, True)
    try:
        leg = _step(
            provider.invite, db, call, agent=target_agent, number=number,
            ring_timeout=settings.RING_TIMEOUT_SECONDS, tag=secrets.token_hex(3),
        )  # fmt: skip
    except Conflict:
        if not was_held:
            _quietly("taking the customer off hold", call, provider.hold_customer, db, call, False)
        raise
    transfer = CallTransfer(
        call_id=call.id or 0,
        mode=mode,
        from_agent_id=agent.id,
        to_agent_id=target_agent.id if target_agent else None,
        to_number=number,
        target_leg=leg,
    )
    db.add(transfer)
    db.flush()
    calls.note(db, call, f"transfer-{mode}", agent_id=agent.id, target=_target_name(db, transfer))
    _tell(db, transfer, call)
    db.commit()
    logger.info("call %s: agent %s started a %s transfer (%s)", call.id, agent.id, mode, leg)
    sync(db, call)  # a target may have answered already (the provider reports before we return)
    db.commit()
    return transfer


def pending_for_agent(db: Session, call: Call, agent_id: int) -> CallTransfer | None:
    transfer = active(db, call)
    if transfer is not None and transfer.state == TransferState.RINGING and transfer.to_agent_id == agent_id:
        return transfer
    return None


def pending_for_number(db: Session, call: Call, number: str) -> CallTransfer | None:
    transfer = active(db, call)
    if transfer is not None and transfer.state == TransferState.RINGING and transfer.to_number == number:
        return transfer
    return None


def ringing_for(agent_id: int) -> Any:
    """The ids of the calls whose transfer rings this agent now."""
    return select(CallTransfer.call_id).where(
        CallTransfer.to_agent_id == agent_id, CallTransfer.state == TransferState.RINGING
    )


def sync(db: Session, call: Call) -> None:
    """Take the step the target's leg calls for (answered, not reached, gone). Idempotent: the transfer's
    state says which steps are done, the call's parties (a projection of every event) say where the
    target is. Flushes; the caller commits."""
    transfer = active(db, call)
    if transfer is None or call.status != CallStatus.IN_PROGRESS:
        return
    where = parties.outcome(db, call, transfer.target_leg)
    if transfer.state == TransferState.RINGING:
        if where == parties.JOINED:
            _target_answered(db, call, transfer)
        elif where == "left":
            _end(db, call, transfer, TransferState.FAILED, reason="transfer.reason.target_left")
        elif where in parties.UNREACHED:
            _end(
                db,
                call,
                transfer,
                TransferState.FAILED,
                reason=REASON_FOR.get(where, "transfer.reason.failed"),
            )
    elif where != parties.JOINED:
        _end(db, call, transfer, TransferState.CANCELED, reason="transfer.reason.target_left")


def _target_answered(db: Session, call: Call, transfer: CallTransfer) -> None:
    transfer.answered_at = utcnow()
    if transfer.to_agent_id:  # the target's softphone: its call is in progress
        devices.tell_agent(
            db,
            transfer.to_agent_id,
            devices.status(call.provider_call_sid, "in-progress"),
        )
    if transfer.mode == TransferMode.COLD:
        _complete(db, call, transfer)
        return
    transfer.state = TransferState.CONSULTING
    db.add(transfer)
    calls.note(db, call, "transfer-answered", target=_target_name(db, transfer))
    _tell(db, transfer, call)


def complete(db: Session, call_sid: str, agent: Agent) -> None:
    """Warm transfer: the first agent leaves; the customer and the target talk. Commits."""
    call = _owned_live_call(db, call_sid, agent)
    transfer = active(db, call)
    if transfer is None or transfer.state not in (TransferState.CONSULTING, TransferState.CONFERENCE):
        raise Conflict("transfer.error.not_answered", "the target has not answered yet")
    _complete(db, call, transfer)
    db.commit()


def _complete(db: Session, call: Call, transfer: CallTransfer) -> None:
    provider = get_provider()
    leaving = parties.agent_leg(db, call, transfer.from_agent_id or 0)
    transfer.state, transfer.ended_at = TransferState.COMPLETED, utcnow()
    db.add(transfer)
    # The call now belongs to the target: their softphone, their hang-up, their next transfer.
    call.agent_id = transfer.to_agent_id or call.agent_id
    call.updated_at = utcnow()
    db.add(call)
    calls.note(db, call, "transfer-completed", target=_target_name(db, transfer))
    _tell(db, transfer, call)
    if transfer.from_agent_id:
        ended = devices.status(call.provider_call_sid, "completed", reason="reason.transferred", by="agent")
        devices.tell_agent(db, transfer.from_agent_id, ended)
    calls.publish_call(db, call)
    db.commit()  # the decision stands before the provider is asked: its callbacks find it
    if leaving:
        _quietly("handing the call over", call, provider.handoff, db, call, leaving, transfer.target_leg)
    if leaving:  # gone before the customer is taken off hold: they never hear the first agent again
        _quietly("removing the first agent", call, provider.remove_party, db, call, leaving)
    _quietly("taking the customer off hold", call, provider.hold_customer, db, call, False)
    logger.info("call %s transferred to %s", call.id, transfer.target_leg)


def cancel(db: Session, call_sid: str, agent: Agent) -> None:
    """The first agent takes the call back: the target is hung up (or stops ringing). Commits."""
    call = _owned_live_call(db, call_sid, agent)
    transfer = active(db, call)
    if transfer is None:
        raise Conflict("transfer.error.none", "there is no transfer to cancel")
    _end(db, call, transfer, TransferState.CANCELED, reason="transfer.reason.canceled")
    db.commit()


def talk_to_all(db: Session, call_sid: str, agent: Agent) -> None:
    """Warm transfer: bring the customer into the consultation (three-way). Commits."""
    call = _owned_live_call(db, call_sid, agent)
    transfer = active(db, call)
    if transfer is None or transfer.state != TransferState.CONSULTING:
        raise Conflict("transfer.error.not_answered", "the target has not answered yet")
    _step(get_provider().hold_customer, db, call, False)
    transfer.state = TransferState.CONFERENCE
    db.add(transfer)
    calls.note(db, call, "transfer-conference")
    _tell(db, transfer, call)
    db.commit()


def hang_up_during_transfer(db: Session, call: Call, agent: Agent) -> bool:
    """The first agent hangs up while a transfer goes on: a consultation is completed (as a desk phone
    does); a target still ringing is canceled and the call then ends. True if the hang-up was handled."""
    transfer = active(db, call)
    if transfer is None or transfer.from_agent_id != agent.id:
        return False
    if transfer.state in (TransferState.CONSULTING, TransferState.CONFERENCE):
        _complete(db, call, transfer)
        db.commit()
        return True
    _end(db, call, transfer, TransferState.CANCELED, reason="transfer.reason.canceled", unhold=False)
    db.commit()
    return False


def call_ended(db: Session, call: Call) -> None:
    """The call ended with a transfer going on: it ends too (a ringing target stops ringing). Flushes."""
    transfer = active(db, call)
    if transfer is not None:
        _end(db, call, transfer, TransferState.CANCELED, reason="transfer.reason.call_ended", unhold=False)


def _end(
    db: Session, call: Call, transfer: CallTransfer, state: str, *, reason: str, unhold: bool = True
) -> None:
    """The transfer ends without completing: the target is stopped or removed, the customer taken off hold
    (back with the first agent, who is told why)."""
    was = transfer.state
    transfer.state, transfer.reason, transfer.ended_at = state, reason, utcnow()
    db.add(transfer)
    calls.note(db, call, f"transfer-{state}", reason=reason)
    _tell(db, transfer, call)
    db.commit()  # decided: the provider's callbacks about the target find the transfer ended
    provider = get_provider()
    if was == TransferState.RINGING:
        _quietly("stopping the target's ringing", call, provider.cancel_invite, db, call, transfer.target_leg)
    elif parties.present(db, call, transfer.target_leg) is not None:
        if transfer.to_agent_id:  # their softphone ends the call, saying why
            ended = devices.status(
                call.provider_call_sid, "completed", reason="reason.taken_back", by="agent"
            )
            devices.tell_agent(db, transfer.to_agent_id, ended)
        _quietly("removing the target", call, provider.remove_party, db, call, transfer.target_leg)
    if unhold and call.status == CallStatus.IN_PROGRESS:
        _quietly("taking the customer off hold", call, provider.hold_customer, db, call, False)
    db.commit()


def describe(db: Session, call: Call) -> dict[str, Any] | None:
    """The active transfer as a softphone shows it (after a reload)."""
    transfer = active(db, call)
    return describe_transfer(db, transfer) if transfer is not None else None
