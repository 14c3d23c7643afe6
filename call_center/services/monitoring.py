"""Listen, whisper, barge: a supervisor joins a live call from the wallboard, whichever provider carries it.

- listen: the supervisor hears everyone and nobody hears them (a muted party);
- whisper: only the call's agent hears them (a party coaching the agent's leg);
- barge: everyone hears everyone (an ordinary party).

The supervisor's browser joins the call as a leg of its own (`sup_<id>_<tag>`: a leg on the local media
server, a labelled participant of the Twilio conference). The mode can change while they are in; they leave
by hanging up, and the call never goes on with only supervisors left on the company's side. A listening or
whispering supervisor is left out of the recording (the customer never heard them); one who barged in is
recorded like any party.

The decisions are here (who may monitor which call, what each mode means for the leg); a provider only
joins the leg with flags, changes them and removes it. The party events providers report (joined, left,
with the leg's flags) are the facts: the call's timeline notes each start, change and end (who, when,
which mode), and the call's agent's softphone is told who monitors it (the agent always knows).
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from call_center.models import Agent, Call, CallParty, CallStatus, PartyKind, Role
from call_center.services import calls, devices, parties
from call_center.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from call_center.telephony import get_provider
from call_center.telephony.base import Capability, ProviderError

logger = logging.getLogger(__name__)

LISTEN, WHISPER, BARGE = "listen", "whisper", "barge"
MODES = (LISTEN, WHISPER, BARGE)
LEG = re.compile(r"^sup_(\d+)_[0-9a-f]+$")


@dataclass(frozen=True)
class Plan:
    """How a supervisor's leg joins (or is changed): muted (listen), coaching `coach` (whisper), neither."""

    call: Call
    leg: str
    mode: str
    muted: bool
    coach: str | None  # the leg that alone hears the supervisor (the agent's), for a whisper


def leg_name(supervisor_id: int) -> str:
    return f"sup_{supervisor_id}_{secrets.token_hex(4)}"


def supervisor_of(leg: str) -> int | None:
    """The supervisor whose monitoring leg this is (None for any other leg)."""
    match = LEG.match(leg or "")
    return int(match.group(1)) if match else None


def mode_of(muted: bool, coaching: bool) -> str:
    """A monitoring leg's mode from its flags, as a provider reports them."""
    return LISTEN if muted else WHISPER if coaching else BARGE


def _check(supervisor: Agent, mode: str) -> None:
    if supervisor.role not in Role.SEES_EVERY_CALL or not supervisor.is_active:
        raise Forbidden("error.forbidden", "only supervisors and admins monitor calls")
    if mode not in MODES:
        raise InvalidInput("monitor.error.mode", f"unknown monitoring mode {mode!r}")


def live_call(db: Session, call_id: int) -> Call:
    call = db.get(Call, call_id)
    if call is None:
        raise NotFound("error.not_found", f"no call {call_id}")
    return call


def _agent_leg(db: Session, call: Call) -> str:
    """The leg of the agent who has the call now (the one a whisper coaches)."""
    leg = parties.agent_leg(db, call, call.agent_id or 0) if call.agent_id else None
    if leg is None:
        raise Conflict("monitor.error.no_agent", "no agent is on this call now")
    return leg


def monitoring_party(db: Session, call: Call, supervisor_id: int) -> CallParty | None:
    """The supervisor's monitoring leg in the call now, if any."""
    query = select(CallParty).where(
        CallParty.call_id == call.id,
        CallParty.agent_id == supervisor_id,
        CallParty.kind == PartyKind.SUPERVISOR,
        col(CallParty.left_at).is_(None),
    )
    return db.exec(query).first()


def plan(db: Session, supervisor: Agent, call: Call, mode: str) -> Plan:
    """Whether `supervisor` may start monitoring `call` in `mode` now, and how their leg joins."""
    _check(supervisor, mode)
    if not get_provider().can(Capability.MONITOR):
        raise Conflict("call.error.unsupported", "monitoring is not available with this provider")
    if call.status != CallStatus.IN_PROGRESS:
        raise Conflict("monitor.error.not_live", "the call is not in progress")
    if monitoring_party(db, call, supervisor.id or 0) is not None:
        raise Conflict("monitor.error.already", "you are monitoring this call already")
    agent_leg = _agent_leg(db, call)
    if supervisor.id == call.agent_id or supervisor.id in parties.agents_in_call(db, call):
        raise Conflict("monitor.error.own_call", "this is your own call")
    return Plan(
        call, leg_name(supervisor.id or 0), mode, mode == LISTEN, agent_leg if mode == WHISPER else None
    )


def check_start(db: Session, supervisor: Agent, call_id: int, mode: str) -> Call:
    """The wallboard's first step (the browser joins next): the call, if it may be monitored now."""
    call = live_call(db, call_id)
    plan(db, supervisor, call, mode)
    return call


def change(db: Session, supervisor: Agent, call_sid: str, mode: str) -> None:
    """Switch a monitoring leg between listen, whisper and barge. Commits."""
    _check(supervisor, mode)
    call = calls.find_call(db, get_provider().name, call_sid)
    party = monitoring_party(db, call, supervisor.id or 0) if call is not None else None
    if call is None or party is None or call.status != CallStatus.IN_PROGRESS:
        raise Conflict("monitor.error.not_monitoring", "you are not monitoring this call")
    if party.mode == mode:
        return
    coach = _agent_leg(db, call) if mode == WHISPER else None
    try:
        get_provider().set_monitor(db, call, party.leg, muted=mode == LISTEN, coach=coach)
    except ProviderError as exc:  # the provider's refusal, in the user's words
        raise Conflict(exc.code, exc.detail) from None
    party.mode = mode
    db.add(party)
    calls.note(db, call, "monitor-" + mode, agent_id=supervisor.id)
    tell(db, call)
    db.commit()
    logger.info("call %s: supervisor %s now %s", call.id, supervisor.id, mode)


def sync(db: Session, call: Call, leg: str, status: str) -> None:
    """A party event was new: a supervisor's leg joining or leaving goes on the timeline and the agent is
    told. Flushes."""
    party = db.exec(select(CallParty).where(CallParty.call_id == call.id, CallParty.leg == leg)).first()
    if party is None:
        return  # a leave heard before its join: the join says it
    if party.kind != PartyKind.SUPERVISOR:
        if watchers(db, call):  # a transfer moved the call on: whispers follow its agent, who is told
            if status in parties.GONE:
                _follow_the_agent(db, call)
            tell(db, call)
        return
    if status == parties.JOINED:
        calls.note(db, call, "monitor-" + (party.mode or LISTEN), agent_id=party.agent_id)
        if party.left_at is not None:  # its leave came first (callbacks keep no order): it is over too
            calls.note(db, call, "monitor-ended", agent_id=party.agent_id)
    elif status in parties.GONE:
        calls.note(db, call, "monitor-ended", agent_id=party.agent_id)
    else:
        return
    tell(db, call)


def _follow_the_agent(db: Session, call: Call) -> None:
    """A party left (the first agent once a transfer completed): a whisper goes to the agent who has the
    call now, or, with nobody to whisper to, becomes listening. A provider's refusal is logged: the call
    goes on."""
    whisperers = [p for p in watchers(db, call) if p.mode == WHISPER]
    if not whisperers or call.status != CallStatus.IN_PROGRESS:
        return
    coach = parties.agent_leg(db, call, call.agent_id) if call.agent_id else None
    for party in whisperers:
        try:
            get_provider().set_monitor(db, call, party.leg, muted=coach is None, coach=coach)
        except (ProviderError, Conflict) as exc:
            logger.warning("call %s: the whisper of %s not moved on: %s", call.id, party.leg, exc)
            continue
        if coach is None:
            party.mode = LISTEN
            db.add(party)
            calls.note(db, call, "monitor-" + LISTEN, agent_id=party.agent_id)


def watchers(db: Session, call: Call) -> list[CallParty]:
    """The supervisors monitoring the call now."""
    return [p for p in parties.in_call(db, call) if p.kind == PartyKind.SUPERVISOR]


def describe(db: Session, call: Call) -> list[dict[str, Any]]:
    """Who monitors the call now and how, as the agent's softphone shows it."""
    out = []
    for party in watchers(db, call):
        supervisor = db.get(Agent, party.agent_id) if party.agent_id else None
        out.append({"name": supervisor.name if supervisor else "", "mode": party.mode or LISTEN})
    return out


def message(db: Session, call: Call) -> dict[str, Any]:
    return {"type": "monitor", "call_sid": call.provider_call_sid, "monitors": describe(db, call)}


def tell(db: Session, call: Call) -> None:
    """The call's agents (never its supervisors) hear who monitors it. Sent when `db` commits."""
    agents = {call.agent_id} | {
        p.agent_id for p in parties.in_call(db, call) if p.kind != PartyKind.SUPERVISOR
    }
    devices.tell_agents(db, [a for a in agents if a], message(db, call))
