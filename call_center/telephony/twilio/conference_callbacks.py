"""Twilio's conference and participant callbacks, mapped onto the call-control layer.

Every callback is stored first (a duplicate is recognised by its key and changes nothing) and becomes
events of the two folds: call statuses (services.calls.apply_event) and parties (services.parties.apply),
both idempotent and order-independent. The reactions (add the customer, ring the agents, claim, start the
recording, move a transfer on) happen once: each is guarded by a stored marker (`_once`) or by the state it
changes, so a retried or late callback never repeats them.

- conference `participant-join`: the first agent joined (outbound: dial the customer), the customer joined
  (inbound: ring the agents), a rung agent joined (the first one claims the call, any other is removed),
  a transfer target joined;
- conference `participant-leave`, `conference-end`: parties leave; the end of the room ends the call, with
  who ended it;
- a participant's own call status (`?call=<id>&leg=<label>` on our status URL): the customer's leg gives
  the call its ringing / answered / busy / no-answer; a rung agent's or a target's leg that ends without
  joining ends that ring or that transfer.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from call_center.core.config import get_settings
from call_center.models import Call, CallStatus, Direction, OfferOutcome, PartyKind
from call_center.models.base import utcnow
from call_center.services import (
    call_control,
    calls,
    devices,
    monitoring,
    offers,
    parties,
    queue,
    recordings,
)
from call_center.services.calls import ProviderEvent, insert_event, normalise_status
from call_center.services.errors import Conflict
from call_center.services.parties import PartyEvent
from call_center.telephony.base import ProviderError
from call_center.telephony.twilio import conference as room
from call_center.telephony.twilio.callbacks import PROVIDER, parse_timestamp, reason_of
from call_center.telephony.twilio.provider import TwilioProvider

logger = logging.getLogger(__name__)


def _provider() -> TwilioProvider:
    from call_center.telephony import get_provider

    provider = get_provider()
    assert isinstance(provider, TwilioProvider)
    return provider


def _once(db: Session, call: Call, what: str) -> bool:
    """True the first time `what` is asked for this call (a stored marker; atomic on both databases)."""
    key = hashlib.sha256(f"{PROVIDER}|{call.id}|once|{what}".encode()).hexdigest()
    first = insert_event(
        db,
        {
            "call_id": call.id,
            "provider": PROVIDER,
            "provider_call_sid": call.provider_call_sid,
            "kind": "once",
            "status": what[:32],
            "dedupe_key": key,
            "payload": "{}",
            "received_at": utcnow(),
        },
    )
    db.commit()
    return first


def _stored(db: Session, call: Call, kind: str, params: Mapping[str, str]) -> bool:
    """Keep the raw callback; False if it is a retry of one already stored."""
    basis = "|".join(
        params.get(k, "")
        for k in (
            "CallSid",
            "StatusCallbackEvent",
            "CallStatus",
            "SequenceNumber",
            "Timestamp",
            "ConferenceSid",
        )
    )
    key = hashlib.sha256(f"{PROVIDER}|{call.id}|{kind}|{basis}".encode()).hexdigest()
    new = insert_event(
        db,
        {
            "call_id": call.id,
            "provider": PROVIDER,
            "provider_call_sid": params.get("CallSid"),
            "kind": kind,
            "status": (params.get("StatusCallbackEvent") or params.get("CallStatus") or "")[:32] or None,
            "dedupe_key": key,
            "payload": json.dumps(dict(params)),
            "received_at": utcnow(),
        },
    )
    db.commit()
    return new


def _call(db: Session, call_id: int) -> Call | None:
    call = db.get(Call, call_id)
    if call is None or call.provider != PROVIDER:
        logger.warning("twilio callback for unknown call %s ignored", call_id)
        return None
    return call


def _party(
    db: Session, call: Call, leg: str, status: str, label: str, at: datetime | None, params: Mapping[str, str]
) -> None:
    kind, agent_id, number = room.parse_label(label)
    if label == room.AGENT:
        agent_id = call.agent_id
    if kind == PartyKind.CUSTOMER:
        number = call.customer_number
    mode = None
    if kind == PartyKind.SUPERVISOR and status == parties.JOINED:  # the flags it joined with
        mode = monitoring.mode_of(params.get("Muted") == "true", params.get("Coaching") == "true")
    event = PartyEvent(
        PROVIDER, call.provider_call_sid or "", leg, status, kind=kind, agent_id=agent_id, number=number,
        mode=mode, at=at, raw=dict(params),
        dedupe=f"{leg}|{status}|{params.get('SequenceNumber', '')}|{at}",
    )  # fmt: skip
    found, new = parties.apply(db, event)
    if found is not None and new:
        call_control.after_party(db, found, leg, status)


def _status(db: Session, call: Call, event: ProviderEvent) -> None:
    result = calls.apply_event(db, event)
    if result.call is not None and result.changed:
        call_control.after_status(db, result.call)


# Conference events ----------------------------------------------------------------------------------------
def handle_conference(db: Session, params: Mapping[str, str], call_id: int) -> None:
    """One conference status callback (`StatusCallbackEvent`). Commits."""
    call = _call(db, call_id)
    if call is None or not _stored(db, call, "conference", params):
        return
    if params.get("ConferenceSid") and not call.conference_sid:
        call.conference_sid = params["ConferenceSid"]
        db.add(call)
        db.commit()
    what, leg = params.get("StatusCallbackEvent", ""), params.get("CallSid", "")
    at = parse_timestamp(params.get("Timestamp"))
    if what == "conference-end":
        _room_ended(db, call, at, params)
        return
    if what not in ("participant-join", "participant-leave") or not leg:
        return  # start, hold, unhold...: kept above, nothing to decide
    label = room.label_of_leg(db, call, leg, params.get("ParticipantLabel"))
    if label is None:
        logger.warning("call %s: conference event for an unknown leg %s ignored", call.id, leg)
        return
    if what == "participant-join":
        _joined(db, call, leg, label, at, params)
    else:
        _left(db, call, leg, label, at, params)


def _joined(
    db: Session, call: Call, leg: str, label: str, at: datetime | None, params: Mapping[str, str]
) -> None:
    kind, agent_id, _ = room.parse_label(label)
    if label == room.AGENT:
        _party(db, call, leg, parties.JOINED, label, at, params)
        if call.direction == Direction.OUTBOUND:
            _dial_customer(db, call)
    elif label == room.CUSTOMER:
        _party(db, call, leg, parties.JOINED, label, at, params)
        if call.direction == Direction.INBOUND:
            _ring_agents(db, call, at)
        else:
            _notice(db, call, leg)
    elif kind == PartyKind.AGENT and agent_id is not None:
        _agent_answered(db, call, leg, agent_id, at, params)
    else:
        _party(db, call, leg, parties.JOINED, label, at, params)


def _left(
    db: Session, call: Call, leg: str, label: str, at: datetime | None, params: Mapping[str, str]
) -> None:
    # The customer leaving the room is a party leaving, not the end of the call: they may have been sent on
    # to the voicemail. Their own call's status callback (the number's) says when the call really ends.
    status = room.reason_left(params)
    kind, agent_id, _ = room.parse_label(label)
    if kind == PartyKind.AGENT and agent_id is not None and status in parties.UNREACHED:
        _ring_ended(db, call, agent_id, status, at)  # a rung agent who never joined
        return
    _party(db, call, leg, status, label, at, params)  # (a leave may come before its join: the fold waits)


def _room_ended(db: Session, call: Call, at: datetime | None, params: Mapping[str, str]) -> None:
    ending = params.get("CallSidEndingConference")
    by_api = params.get("ReasonConferenceEnded") == "conference-ended-via-api"
    # Who ended it is the leg that left; whether that leg is the customer's the fold decides (it may not be
    # known yet). Ended by us: after what ended the call, whose own event says why.
    who = f"{calls.BY_LEG}{ending}" if ending and not by_api else None
    event = ProviderEvent(
        PROVIDER, call.provider_call_sid or "", CallStatus.COMPLETED, leg=None, at=at,
        reason=calls.BY_LEG_REASON if who else None, hangup_by=who, raw=dict(params),
        dedupe=f"conference-end|{call.id}",
    )  # fmt: skip
    _status(db, call, event)


# Reactions ------------------------------------------------------------------------------------------------
def _dial_customer(db: Session, call: Call) -> None:
    """Outbound: the agent is in the room; now the customer's phone rings (once)."""
    if not _once(db, call, "dial-customer"):
        return
    settings = get_settings()
    try:
        leg = _provider().conference().add(
            call, to=call.customer_number, from_=settings.TWILIO_CALLER_ID or "", label=room.CUSTOMER,
            end_conference_on_exit=True, timeout=settings.RING_TIMEOUT_SECONDS,
        )  # fmt: skip
    except ProviderError as exc:
        call_control.fail(db, PROVIDER, call.provider_call_sid or "", CallStatus.FAILED, exc.code,
                          raw={"detail": exc.detail})  # fmt: skip
        db.refresh(call)
        call_control.after_status(db, call)
        return
    db.execute(update(Call).where(col(Call.id) == call.id).values(child_call_sid=leg, updated_at=utcnow()))
    db.commit()


def _notice(db: Session, call: Call, leg: str) -> None:
    """Outbound, the customer answered: they hear the recording notice first (RECORDING_NOTICE_OUTBOUND,
    once). Twilio refusing it does not end the call; the refusal is logged."""
    if not get_settings().RECORDING_NOTICE_OUTBOUND or not _once(db, call, "notice"):
        return
    try:
        _provider().conference().announce_notice(call, leg)
    except ProviderError as exc:
        logger.warning("call %s: the recording notice was not said: %s", call.id, exc.detail)


def _ring_agents(db: Session, call: Call, at: datetime | None) -> None:
    """Inbound: the customer is in the room: they join the queue (once), whose round rings agents by its
    strategy; with no agent logged in to wait for, voicemail."""
    if not _once(db, call, "ring-agents"):
        return
    if not queue.anyone_logged_in(db, queue.queue_of(db, call)):
        _to_voicemail(db, call, at, call_control.NO_AGENTS)
        return
    _status(db, call, ProviderEvent(PROVIDER, call.provider_call_sid or "", CallStatus.RINGING, leg=None,
                                    at=at, dedupe=f"ringing|{call.id}"))  # fmt: skip
    db.refresh(call)
    if call.status in CallStatus.TERMINAL or call.agent_id is not None:
        return  # the caller hung up already, or an agent's join was heard first (callbacks keep no order)
    queue.dispatch(db, queue.enter(db, call).queue)


def _agent_answered(
    db: Session, call: Call, leg: str, agent_id: int, at: datetime | None, params: Mapping[str, str]
) -> None:
    """A rung agent joined: the first gets the call; anyone after is taken out again."""
    db.refresh(call)
    if call.agent_id != agent_id:
        try:
            call_control.claim(db, call, agent_id)
        except Conflict:
            logger.info("call %s: agent %s joined after another agent took it; removed", call.id, agent_id)
            try:
                _provider().remove_party(db, call, leg)
            except ProviderError as exc:
                logger.warning("call %s: removing agent %s failed: %s", call.id, agent_id, exc.detail)
            return
    db.refresh(call)
    try:  # from now on the agent leaving ends the call (the customer is never left alone)
        _provider().conference().ends_call_on_exit(call, leg, True)
    except ProviderError as exc:
        logger.warning("call %s: %s", call.id, exc.detail)
    _party(db, call, leg, parties.JOINED, room.ring_label(agent_id), at, params)
    _status(db, call, ProviderEvent(PROVIDER, call.provider_call_sid or "", CallStatus.IN_PROGRESS,
                                    leg="agent", at=at, dedupe=f"answered|{call.id}"))  # fmt: skip
    _record(db, call)


def _ring_ended(db: Session, call: Call, agent_id: int, status: str, at: datetime | None) -> None:
    """A rung agent's leg ended without joining: their ring is over. A queued call goes on to the queue's
    next round (the next agent); a call rung outside the queue with nobody left ringing is voicemail."""
    outcome = OfferOutcome.DECLINED if status == "declined" else OfferOutcome.MISSED
    offers.end_offer(db, call.id or 0, agent_id, outcome)
    devices.tell_agent(db, agent_id, {"type": "cancel", "call_sid": call.provider_call_sid, "reason": status})
    db.commit()
    db.refresh(call)
    if call.agent_id is not None or call.status in CallStatus.TERMINAL:
        return
    if queue.entry_of(db, call.id or 0) is not None:
        queue.dispatch(db)
    elif not offers.ringing_agents(db, call.id or 0):
        _to_voicemail(db, call, at)


def _to_voicemail(db: Session, call: Call, at: datetime | None, reason: str = "reason.no_answer") -> None:
    """Nobody took the call: the customer leaves the room for our voicemail TwiML (once), and the call ends
    unanswered, for `reason`."""
    if not _once(db, call, "voicemail"):
        return
    try:  # out of the room first: ending the call's room would hang the customer up
        _provider().conference().redirect(call.provider_call_sid or "", room.VOICEMAIL_PATH)
    except ProviderError as exc:
        logger.warning("call %s: voicemail not reached: %s", call.id, exc.detail)
    call_control.fail(db, PROVIDER, call.provider_call_sid or "", CallStatus.NO_ANSWER, reason, at=at)
    db.refresh(call)
    call_control.after_status(db, call)


def end_unanswered(db: Session, call: Call, reason: str) -> None:
    """The queue let the caller go (the wait is over, nobody is logged in): voicemail."""
    _to_voicemail(db, call, None, reason)


def _record(db: Session, call: Call) -> None:
    """Record the customer's leg from the answer on (once): both channels, across any transfer."""
    leg = room.customer_leg(call)
    if not leg or not _once(db, call, "record"):
        return
    try:
        sid = _provider().conference().record(call, leg)
    except ProviderError as exc:
        recording = recordings.start_recording(db, call)
        recordings.mark_failed(db, recording, exc.detail)
        db.commit()
        return
    recordings.start_recording(db, call, provider_recording_sid=sid)
    db.commit()


# A participant's own call status ---------------------------------------------------------------------------
def handle_leg(db: Session, params: Mapping[str, str], call_id: int, label: str) -> None:
    """A status callback of a participant we added (`?call=<id>&leg=<label>` on the URL). Commits.
    ValueError for an unknown status or label."""
    status = normalise_status(params.get("CallStatus", ""))
    kind, agent_id, _ = room.parse_label(label)
    call = _call(db, call_id)
    if call is None or not _stored(db, call, "leg", params):
        return
    leg, at = params.get("CallSid", ""), parse_timestamp(params.get("Timestamp"))
    if label == room.CUSTOMER:
        event = ProviderEvent(
            PROVIDER, call.provider_call_sid or "", status, leg="customer", at=at,
            sequence=_int(params.get("SequenceNumber")), duration=_int(params.get("CallDuration")),
            reason=reason_of(params, status), child_call_sid=leg, raw=dict(params),
            dedupe=f"leg|{leg}|{status}|{params.get('SequenceNumber', '')}|{params.get('Timestamp', '')}",
        )  # fmt: skip
        _status(db, call, event)
        db.refresh(call)
        if status == CallStatus.IN_PROGRESS:
            _record(db, call)
        return
    if status not in CallStatus.UNREACHED:
        # Ringing, answered: the conference says when it joins. Completed: it was answered, so it joined
        # or will (its callback may come before the join's); a joined party leaves through the room.
        return
    if parties.present(db, call, leg) is not None:
        return
    unreached = {
        CallStatus.BUSY: "declined",
        CallStatus.NO_ANSWER: "no-answer",
        CallStatus.CANCELED: "canceled",
    }
    if kind == PartyKind.AGENT and agent_id is not None:
        _ring_ended(db, call, agent_id, unreached.get(status, "failed"), at)
    elif kind == PartyKind.TARGET and parties.outcome(db, call, leg) is None:
        _party(db, call, leg, unreached.get(status, "failed"), label, at, params)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None
