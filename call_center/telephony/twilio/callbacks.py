"""Twilio's status and recording callbacks, mapped onto the one call state machine.

Which leg a status callback describes: the TwiML App's status callback reports the parent leg and a
`<Number>`/`<Client>` status callback the child leg (it carries `ParentCallSid`). A leg whose address is
`client:agent_<id>` is the agent's browser; an outbound child to a phone number is the customer. An inbound
parent leg (the customer's phone calling us) describes the call as a whole (leg None): whether an agent took
it is told by the agent legs and by the `<Dial>` outcome (voice.after_dial), not by the caller's leg, which
Twilio answers itself to run the TwiML.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime

from sqlmodel import Session

from call_center.models import Call, CallStatus, RecordingStatus
from call_center.models.base import utcnow
from call_center.services import recording_jobs
from call_center.services.calls import (
    ApplyResult,
    ProviderEvent,
    apply_event,
    claim_call,
    find_call,
    insert_event,
    normalise_status,
    publish_call,
)
from call_center.services.recordings import mark_failed, start_recording
from call_center.telephony.twilio.client import API_BASE, media_url

logger = logging.getLogger(__name__)

PROVIDER = "twilio"
AGENT_ADDRESS = re.compile(r"^client:agent_(\d+)$")
SIP_REASONS = {
    "404": "number not found",
    "408": "no response",
    "480": "temporarily unavailable",
    "484": "incomplete number",
    "486": "busy",
    "487": "caller hung up",
    "488": "not acceptable",
    "503": "carrier unavailable",
    "603": "declined",
}


def agent_id_of(address: str | None) -> int | None:
    """The agent id in a `client:agent_<id>` address, else None."""
    match = AGENT_ADDRESS.match(address or "")
    return int(match.group(1)) if match else None


def leg_of(params: Mapping[str, str]) -> tuple[str, str | None, str | None]:
    """(the call's parent sid, leg, child sid) for one status callback."""
    sid = params.get("CallSid", "")
    parent = params.get("ParentCallSid")
    if parent:
        return parent, ("agent" if params.get("To", "").startswith("client:") else "customer"), sid
    return sid, ("agent" if params.get("From", "").startswith("client:") else None), None


def parse_timestamp(value: str | None) -> datetime | None:
    """Twilio's `Timestamp` (RFC 2822) as an aware datetime; None if absent or unreadable."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def reason_of(params: Mapping[str, str], status: str) -> str | None:
    """A readable reason for a call that ended badly (SIP response, Twilio error code)."""
    if status not in CallStatus.TERMINAL:
        return None
    parts = []
    sip = params.get("SipResponseCode", "")
    if sip and sip != "200":
        parts.append(f"SIP {sip} ({SIP_REASONS[sip]})" if sip in SIP_REASONS else f"SIP {sip}")
    if params.get("ErrorCode"):
        message = params.get("ErrorMessage", "")
        parts.append(f"Twilio error {params['ErrorCode']}" + (f": {message}" if message else ""))
    return "; ".join(parts)[:255] or None


def to_event(params: Mapping[str, str]) -> ProviderEvent:
    """The ProviderEvent a status callback reports. ValueError for an unknown `CallStatus`."""
    call_sid, leg, child = leg_of(params)
    if not call_sid:
        raise ValueError("CallSid is missing")
    status = normalise_status(params.get("CallStatus", ""))
    duration = _int(params.get("CallDuration")) or _int(params.get("DialCallDuration"))
    # A retry repeats the callback exactly; distinct callbacks differ in status, sequence or time.
    basis = "|".join(
        [
            "callback",
            params.get("CallSid", ""),
            status,
            params.get("SequenceNumber", ""),
            params.get("Timestamp", ""),
        ]
    )
    return ProviderEvent(
        provider=PROVIDER,
        call_sid=call_sid,
        status=status,
        leg=leg,
        at=parse_timestamp(params.get("Timestamp")),
        sequence=_int(params.get("SequenceNumber")),
        duration=duration,
        reason=reason_of(params, status),
        child_call_sid=child,
        raw=dict(params),
        dedupe=basis,
    )


def handle_status(db: Session, params: Mapping[str, str], *, again: bool = False) -> ApplyResult:
    """Apply one status callback of a call's own leg (the TwiML App's and the number's status callbacks;
    participants we add report to their own URL: conference_callbacks.handle_leg).

    The agent's browser leg of an outbound call is a participant of the call's room: its end is a party
    leaving (the room's own events say so), not the end of the call, which goes on after a transfer. Only
    a browser that hung up before the room opened ends the call here (canceled).

    `again`: an earlier try stored this event and failed after it (services.inbox retries it), so what
    follows a status runs even though the event is now a duplicate."""
    event = to_event(params)
    if event.leg == "agent" and event.child_call_sid is None:
        return _browser_leg(db, event, again)
    result = apply_event(db, event)
    if result.call is not None and event.child_call_sid and event.status == CallStatus.IN_PROGRESS:
        give_to_agent(db, result.call, agent_id_of(params.get("To")))  # a <Dial><Client> call (before rooms)
    _follow(db, result, again)
    return result


def _follow(db: Session, result: ApplyResult, again: bool) -> None:
    """What follows a status that changed the call (or, tried again, one stored by a try that failed)."""
    if result.call is not None and (result.changed or (again and result.duplicate)):
        from call_center.services import call_control

        call_control.after_status(db, result.call)


def _browser_leg(db: Session, event: ProviderEvent, again: bool = False) -> ApplyResult:
    """The agent's browser leg of an outbound call. Twilio answers it at once to run our TwiML, so only its
    end is a fact of the call: the fold counts it only while nobody answered (the agent hung up before the
    customer did: canceled), never once the call is answered (it leaves the room; the call goes on)."""
    if event.status not in CallStatus.TERMINAL:
        call = find_call(db, PROVIDER, event.call_sid)
        stored = insert_event(
            db,
            {
                "call_id": call.id if call else None,
                "provider": PROVIDER,
                "provider_call_sid": event.call_sid,
                "kind": "leg",
                "status": event.status,
                "dedupe_key": event.key(),
                "payload": json.dumps(event.raw),
                "received_at": utcnow(),
            },
        )
        db.commit()
        return ApplyResult(call, changed=False, duplicate=not stored)
    ended = dataclasses.replace(event, reason=event.reason or "reason.hangup_agent", hangup_by="agent")
    result = apply_event(db, ended)
    _follow(db, result, again)
    return result


def give_to_agent(db: Session, call: Call, agent_id: int | None) -> bool:
    """The agent whose browser leg answered takes an unassigned (incoming) call. Commits."""
    if agent_id is None or call.agent_id is not None or call.id is None:
        return False
    if not claim_call(db, call.id, agent_id):
        db.rollback()
        return False
    db.refresh(call)
    publish_call(db, call)
    db.commit()
    logger.info("call %s taken by agent %s", call.id, agent_id)
    return True


def _store_raw(db: Session, params: Mapping[str, str], call_id: int | None) -> bool:
    """Keep the raw recording callback; False if it is a retry of one already stored."""
    sid, status = params.get("RecordingSid", ""), params.get("RecordingStatus", "")
    key = hashlib.sha256(
        f"{PROVIDER}|{params.get('CallSid', '')}|recording|{sid}|{status}".encode()
    ).hexdigest()
    return insert_event(
        db,
        {
            "call_id": call_id,
            "provider": PROVIDER,
            "provider_call_sid": params.get("CallSid"),
            "kind": "recording",
            "status": status[:32] or None,
            "dedupe_key": key,
            "payload": json.dumps(dict(params)),
            "received_at": utcnow(),
        },
    )


def handle_recording(db: Session, params: Mapping[str, str], *, call_id: int | None = None) -> str:
    """Record a recording callback; a completed recording becomes a download job. Commits.

    Returns what happened: "queued", "failed", "duplicate", "ignored" or "unknown-call".
    """
    db.commit()
    sid, status = params.get("RecordingSid", ""), params.get("RecordingStatus", "")
    # Our recordings' URLs name the call (?call=<id>); a recording from elsewhere is found by its leg.
    call = db.get(Call, call_id) if call_id is not None else find_call(db, PROVIDER, params.get("CallSid"))
    if call is not None and call.provider != PROVIDER:
        call = None
    if not _store_raw(db, params, call.id if call else None):
        return "duplicate"
    if call is None or not sid:
        db.commit()
        logger.warning("recording %s for unknown call %s kept for reconcile", sid, params.get("CallSid"))
        return "unknown-call"
    recording = start_recording(db, call, provider_recording_sid=sid)
    duration, channels = _int(params.get("RecordingDuration")), _int(params.get("RecordingChannels"))
    recording.duration_seconds = float(duration) if duration is not None else recording.duration_seconds
    recording.channels = channels or recording.channels
    db.add(recording)
    outcome = "ignored"
    if status == "completed" and recording.status == RecordingStatus.PROCESSING:
        url = (
            params.get("RecordingUrl")
            or f"{API_BASE}/2010-04-01/Accounts/{params.get('AccountSid')}/Recordings/{sid}"
        )
        source = media_url(url, dual=channels != 1)
        # Our recording of the customer's leg (conference calls) has the customer first: swapped into ours.
        customer_first = params.get("RecordingSource") == "StartCallRecordingAPI"
        recording_jobs.enqueue(db, recording, source, swap_channels=customer_first)
        outcome = "queued"
    elif status in ("failed", "absent") and recording.status != RecordingStatus.READY:
        code = params.get("ErrorCode")
        mark_failed(db, recording, f"Twilio recording {status}" + (f" (error {code})" if code else ""))
        outcome = "failed"
    db.commit()
    logger.info("recording %s of call %s: %s -> %s", sid, call.id, status, outcome)
    return outcome
