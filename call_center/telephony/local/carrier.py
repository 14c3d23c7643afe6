"""The local media server's call control: a tiny "carrier" around the media engine.

It owns what a phone network would: legs, ringing timers, answer/reject/hang-up, the echo line and the
recordings. The app decides *who* a call goes to and tells the carrier over the control protocol; the carrier
reports every status change back as a signed callback, which the app applies like a Twilio webhook.

An answered call is a small conference, like Twilio's: parties join and leave (a transfer target, a
supervisor), each can be held (hears the hold tone, is heard by nobody), muted (a listener: heard by
nobody) or coaching one party (a whisper: heard by that party alone). Everyone else hears everyone else;
the engine forwards when a party hears one other, and mixes when it hears more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from call_center.telephony.local.media import MediaEngine, RecordingFailure, RecordingResult
from call_center.telephony.local.notifier import Notifier
from call_center.telephony.local.tones import NOTICE_SUFFIX, position_sound

logger = logging.getLogger(__name__)

ECHO_ANSWER_DELAY = 0.4
VOICEMAIL_BEEP_SECONDS = 1.0  # the voicemail tone plays this long, then silence while the caller speaks


class CarrierRefused(Exception):
    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass
class Party:
    leg: str  # "agent", "customer", or a name the app chose (agent_7, ext_201000000002, sup_3)
    held: bool = False
    muted: bool = False
    coaching: str | None = None  # the one leg that hears this party (whisper)
    announcing: bool = False  # hears the recording notice (tones), once, before anyone else
    monitor: bool = False  # a supervisor: never keeps the customer company on their own

    def heard_by(self, listener: str) -> bool:
        if self.held or self.muted:
            return False
        return self.coaching is None or self.coaching == listener


@dataclass
class CarrierCall:
    sid: str
    mode: str  # "bridge" or "echo"
    direction: str  # "outbound" (agent called out) or "inbound" (a phone called the company)
    key: str  # where the recording goes in the store
    answered: bool = False
    ended: bool = False
    voicemail: str | None = None  # leaving a message: why the queue let the caller go (an i18n key)
    notice: bool = False  # the caller is still to hear the recording notice in full (first announcement)
    announce: bool = False  # outbound: the customer hears the recording notice when they answer
    timers: list[asyncio.TimerHandle | asyncio.Task[None]] = field(default_factory=list)
    parties: dict[str, Party] = field(default_factory=dict)  # who is in the answered call
    invites: dict[str, asyncio.TimerHandle] = field(default_factory=dict)  # legs ringing to join
    joining: set[str] = field(default_factory=set)  # legs whose browser is connecting to the call now

    @property
    def on_hold(self) -> bool:
        party = self.parties.get("customer")
        return bool(party and party.held)


class Carrier:
    """Calls in progress and what happens to them."""

    def __init__(self, engine: MediaEngine, notifier: Notifier, recordings_dir: Path):
        self.engine = engine
        self.notifier = notifier
        self.recordings_dir = recordings_dir
        self.calls: dict[str, CarrierCall] = {}
        self.draining = False  # stopping: calls in progress go on, new ones are refused
        self.engine.recording_path = self._recording_path
        self.engine.on_played = self._played
        self._ops: dict[str, Callable[..., Awaitable[Any]]] = {
            "dial": self.dial,
            "inbound": self.inbound,
            "announce": self.announce,
            "voicemail": self.take_voicemail,
            "end": self.end,
            "answer": self.answer,
            "reject": self.reject,
            "hangup": self.hangup,
            "hold": self.hold,
            "invite": self.invite,
            "cancel_invite": self.cancel_invite,
            "join": self.join,
            "update": self.update,
            "leave": self.leave,
            "stats": self.stats,
        }

    def _recording_path(self, sid: str) -> Path:
        call = self.calls.get(sid)
        key = call.key if call else f"recovered/{sid}.mp3"
        return self.recordings_dir / key

    async def handle(self, op: str, args: dict[str, Any]) -> Any:
        handler = self._ops.get(op)
        if handler is None:
            raise CarrierRefused("error.generic", f"unknown operation {op!r}")
        return await handler(**args)

    def _get(self, sid: str) -> CarrierCall:
        call = self.calls.get(sid)
        if call is None or call.ended:
            raise CarrierRefused("call.error.gone", f"call {sid} is not in progress")
        return call

    def _new(self, sid: str, mode: str, direction: str) -> CarrierCall:
        if self.draining:
            raise CarrierRefused("call.error.shutting_down", "the media server is stopping")
        if sid in self.calls:
            raise CarrierRefused("error.generic", f"call {sid} exists already")
        key = f"{datetime.now(UTC):%Y/%m}/{sid}.mp3"
        call = self.calls[sid] = CarrierCall(sid, mode, direction, key)
        return call

    def _ring(self, call: CarrierCall, timeout: float, reason: str = "reason.no_answer") -> None:
        loop = asyncio.get_running_loop()
        call.timers.append(
            loop.call_later(timeout, lambda: asyncio.create_task(self._ring_timeout(call.sid, reason)))
        )

    async def _ring_timeout(self, sid: str, reason: str = "reason.no_answer") -> None:
        call = self.calls.get(sid)
        if call is not None and not call.answered and not call.ended:
            await self._end(call, "no-answer", reason=reason, by="system")

    # Operations (the app's requests) -------------------------------------------------------------------
    async def dial(
        self, sid: str, mode: str, sdp: str, ring_timeout: float = 30, notice: bool = False
    ) -> dict[str, Any]:
        """An agent's outbound call: `echo` answers by itself, `bridge` rings until the phone answers. With
        `notice` (RECORDING_NOTICE_OUTBOUND) the customer who answers hears the recording notice first."""
        if mode not in ("bridge", "echo"):
            raise CarrierRefused("error.generic", f"unknown mode {mode!r}")
        call = self._new(sid, mode, "outbound")
        call.announce = notice and mode == "bridge"
        try:
            answer = await self.engine.add_leg(sid, "agent", sdp)
        except Exception:
            self.calls.pop(sid, None)
            raise
        self.engine.play(sid, "agent", "ringback")
        self.notifier.status(sid, "ringing", leg="customer")
        if mode == "echo":
            call.timers.append(asyncio.create_task(self._answer_echo(call)))
        else:
            self._ring(call, ring_timeout)
        return {"sdp": answer}

    async def _answer_echo(self, call: CarrierCall) -> None:
        await asyncio.sleep(ECHO_ANSWER_DELAY)
        if call.ended:
            return
        call.answered = True
        self.engine.play(call.sid, "agent", None)
        self.engine.connect(call.sid, "echo")
        self.notifier.status(call.sid, "in-progress", leg="customer")
        self.notifier.party(call.sid, "agent", "joined")

    async def inbound(
        self,
        sid: str,
        sdp: str,
        ring_timeout: float = 30,
        sound: str = "ringback",
        timeout_reason: str = "reason.no_answer",
        notice: bool = False,
    ) -> dict[str, Any]:
        """A simulated phone calls the company: it hears `sound` (ringback, the queue's waiting music, or
        the closed tone) until an agent answers; after `ring_timeout` the call ends unanswered, for
        `timeout_reason`. With `notice` the queue's music and its first position announcement start with
        the recording notice (tones)."""
        call = self._new(sid, "bridge", "inbound")
        try:
            answer = await self.engine.add_leg(sid, "customer", sdp)
        except Exception:
            self.calls.pop(sid, None)
            raise
        sound = sound if sound in ("ringback", "queue", "closed") else "ringback"
        if notice and sound == "queue":
            call.notice, sound = True, sound + NOTICE_SUFFIX
        self.engine.play(sid, "customer", sound)
        self.notifier.status(sid, "ringing", leg="customer")
        self._ring(call, ring_timeout, str(timeout_reason)[:64])
        return {"sdp": answer}

    async def announce(self, sid: str, position: int, period: int) -> None:
        """A queued caller hears their position (as tones), then the waiting music, every `period` s."""
        call = self._get(sid)
        if call.answered or call.ended:
            return
        sound = position_sound(int(position), int(period))
        if call.notice:  # the first announcement: the notice the music began with, heard in full
            call.notice, sound = False, sound + NOTICE_SUFFIX
        await self.engine.load_sound(sound)
        if not call.answered and not call.ended:
            self.engine.play(sid, "customer", sound)

    async def end(self, sid: str, status: str, reason: str) -> None:
        """The app ends an unanswered call (the queue's wait is over, nobody is logged in)."""
        call = self.calls.get(sid)
        if call is None or call.ended:
            return
        if call.answered:
            raise CarrierRefused("call.error.already_answered", f"call {sid} was answered already")
        if status not in ("no-answer", "canceled", "failed"):
            raise CarrierRefused("error.generic", f"cannot end a call as {status!r}")
        await self._end(call, status, reason=str(reason)[:64], by="system")

    async def take_voicemail(self, sid: str, reason: str, max_seconds: float = 120) -> None:
        """Nobody took the call (`reason`): the caller hears the tone and their message is recorded until
        they hang up or `max_seconds` pass. The call then ends `no-answer` for `reason`, and the recording
        (the caller alone, on the customer's channel) is reported like any call's."""
        call = self._get(sid)
        if call.answered:
            raise CarrierRefused("call.error.already_answered", f"call {sid} was answered already")
        if call.voicemail is not None:
            return
        self._cancel_timers(call)  # (the ring limit: the message has its own)
        call.voicemail = str(reason)[:64]
        await self.engine.load_sound("voicemail")
        await self.engine.load_sound("silence")
        if call.ended:
            return
        self.engine.play(sid, "customer", "voicemail")
        self.engine.record(sid)
        loop = asyncio.get_running_loop()
        call.timers.append(loop.call_later(VOICEMAIL_BEEP_SECONDS, self._after_beep, sid))
        call.timers.append(
            loop.call_later(float(max_seconds), lambda: asyncio.create_task(self._voicemail_over(sid)))
        )

    def _after_beep(self, sid: str) -> None:
        call = self.calls.get(sid)
        if call is not None and not call.ended:
            self.engine.play(sid, "customer", "silence")

    async def _voicemail_over(self, sid: str) -> None:
        call = self.calls.get(sid)
        if call is not None and not call.ended and call.voicemail is not None:
            await self._end(call, "no-answer", reason=call.voicemail, by="system")

    async def answer(self, sid: str, role: str, sdp: str) -> dict[str, Any]:
        """The called side picks up: its leg joins and the two are bridged."""
        call = self._get(sid)
        if call.answered or call.mode != "bridge":
            raise CarrierRefused("call.error.already_answered", f"call {sid} was answered already")
        expected = "customer" if call.direction == "outbound" else "agent"
        if role != expected:
            raise CarrierRefused("error.generic", f"the {role} cannot answer call {sid}")
        answer = await self.engine.add_leg(sid, role, sdp)
        self._cancel_timers(call)
        call.answered = True
        # The notice is the customer's alone (as Twilio's participant announcement): the agent hears them
        # from the start, they hear the agent once the notice is over (_played).
        call.parties = {"agent": Party("agent"), "customer": Party("customer", announcing=call.announce)}
        self.engine.play(sid, "agent", None)
        self.engine.play(sid, "customer", None)
        self.engine.connect(sid, "bridge")
        self._apply_routes(call)
        self.notifier.status(sid, "in-progress", leg="customer")
        self.notifier.party(sid, "agent", "joined")
        self.notifier.party(sid, "customer", "joined")
        return {"sdp": answer}

    async def reject(self, sid: str, status: str = "busy") -> None:
        """The called phone declines (outbound → busy)."""
        call = self._get(sid)
        if call.answered:
            raise CarrierRefused("call.error.already_answered", f"call {sid} was answered already")
        await self._end(call, status, reason="reason.rejected", by="customer")

    async def hangup(self, sid: str, by: str) -> None:
        """Either side hangs up; before an answer that cancels the call."""
        call = self.calls.get(sid)
        if call is None or call.ended:
            return  # already over: hanging up twice is fine
        if call.answered:
            await self._end(call, "completed", reason=f"reason.hangup_{by}", by=by)
        elif call.voicemail is not None:  # the caller left their message
            await self._end(call, "no-answer", reason=call.voicemail, by=by)
        else:
            await self._end(call, "canceled", reason=f"reason.hangup_{by}", by=by)

    async def hold(self, sid: str, on: bool) -> None:
        """Hold / resume the customer."""
        call = self._get(sid)
        if call.mode == "echo":
            raise CarrierRefused("call.error.unsupported", "the echo line cannot be held")
        await self.update(sid, "customer", held=on)

    # The conference: parties joining, flags, leaving ---------------------------------------------------
    def _answered(self, sid: str) -> CarrierCall:
        call = self._get(sid)
        if not call.answered or call.mode != "bridge":
            raise CarrierRefused("call.error.not_answered", f"call {sid} is not answered yet")
        return call

    def _apply_routes(self, call: CarrierCall) -> None:
        """Everyone hears everyone who is heard by them (see Party.heard_by); held parties hear the hold
        tone. Parties nobody on the customer's side hears are left out of the recording."""
        routes: dict[str, Any] = {}
        for leg, party in call.parties.items():
            if party.held:
                routes[leg] = "hold"
                continue
            if party.announcing:
                routes[leg] = "notice"
                continue
            heard = tuple(
                other.leg for other in call.parties.values() if other.leg != leg and other.heard_by(leg)
            )
            routes[leg] = heard or "silence"
        unrecorded = frozenset(leg for leg, party in call.parties.items() if party.muted or party.coaching)
        self.engine.set_routes(call.sid, routes, unrecorded=unrecorded)

    def _played(self, sid: str, leg: str, sound: str) -> None:
        """The media engine sent a sound played once in full: a customer's recording notice is over, so they
        hear the call now."""
        call = self.calls.get(sid)
        party = call.parties.get(leg) if call is not None and not call.ended else None
        if call is not None and party is not None and sound == "notice" and party.announcing:
            party.announcing = False
            self._apply_routes(call)

    async def invite(self, sid: str, leg: str, ring_timeout: float = 30) -> None:
        """A party is being rung to join (a transfer target): if it has not joined within `ring_timeout`
        the app hears `party no-answer`."""
        call = self._answered(sid)
        if leg in call.parties or leg in call.invites:
            raise CarrierRefused("error.generic", f"{leg} is already in call {sid}")
        loop = asyncio.get_running_loop()
        call.invites[leg] = loop.call_later(ring_timeout, self._invite_timeout, sid, leg)

    def _invite_timeout(self, sid: str, leg: str) -> None:
        call = self.calls.get(sid)
        if call is not None and call.invites.pop(leg, None) is not None and not call.ended:
            self.notifier.party(sid, leg, "no-answer")

    async def cancel_invite(self, sid: str, leg: str, status: str = "canceled") -> None:
        call = self.calls.get(sid)
        timer = call.invites.pop(leg, None) if call else None
        if timer is not None:
            timer.cancel()
            self.notifier.party(sid, leg, status)

    async def join(
        self,
        sid: str,
        leg: str,
        sdp: str,
        held: bool = False,
        muted: bool = False,
        coaching: str | None = None,
        invited: bool = True,
    ) -> dict[str, Any]:
        """A party's browser joins the answered call: an invited transfer target (while its invite rings),
        or a supervisor (`invited=False`)."""
        call = self._answered(sid)
        if leg in call.parties:
            raise CarrierRefused("error.generic", f"{leg} is already in call {sid}")
        timer = call.invites.pop(leg, None)
        if timer is not None:
            timer.cancel()
        elif invited:
            raise CarrierRefused("transfer.error.expired", f"{leg} is not invited to call {sid} (any more)")
        if invited:  # (a supervisor connecting keeps nobody company either)
            call.joining.add(leg)
        try:
            answer = await self.engine.add_leg(sid, leg, sdp)
        except Exception:
            call.joining.discard(leg)
            if invited:
                self.notifier.party(sid, leg, "failed")  # the transfer learns its target never joined
            if not call.ended and not self._company(call, but=leg):
                # the first agent left while this one connected: nobody is left with the customer
                await self._end(call, "completed", reason="reason.lost_agent", by="system")
            raise
        call.joining.discard(leg)
        if call.ended:
            raise CarrierRefused("call.error.gone", f"call {sid} ended")
        if not invited and not self._company(call, but=leg):  # the agent left while this one connected
            await self.engine.end_leg(sid, leg)
            raise CarrierRefused("monitor.error.no_agent", f"nobody is on call {sid} to monitor")
        monitor = not invited
        call.parties[leg] = Party(leg, held=held, muted=muted, coaching=coaching, monitor=monitor)
        self._apply_routes(call)
        flags = {"muted": muted, "coaching": coaching} if monitor else {}
        self.notifier.party(sid, leg, "joined", **flags)
        return {"sdp": answer}

    async def update(
        self,
        sid: str,
        leg: str,
        held: bool | None = None,
        muted: bool | None = None,
        coaching: str | None = "",
    ) -> None:
        """Change a party's flags (coaching: "" leaves it as it is, None ends a whisper)."""
        call = self._answered(sid)
        party = call.parties.get(leg)
        if party is None:
            raise CarrierRefused("error.generic", f"{leg} is not in call {sid}")
        if held is not None:
            party.held = held
        if muted is not None:
            party.muted = muted
        if coaching != "":
            party.coaching = coaching
        self._apply_routes(call)

    async def leave(self, sid: str, leg: str) -> None:
        """A party leaves (the first agent once the transfer target has the customer). The call goes on
        while the customer has someone; the customer leaving, or being left alone, ends it."""
        call = self.calls.get(sid)
        if call is None or call.ended or leg not in call.parties:
            return
        await self._party_left(call, leg, reason=f"reason.left_{leg}")

    def _company(self, call: CarrierCall, *, but: str) -> list[str]:
        """The legs on the company's side (agents, transfer targets) other than `but`; supervisors
        monitoring the call do not count."""
        return [p for p, party in call.parties.items() if p not in (but, "customer") and not party.monitor]

    async def _party_left(self, call: CarrierCall, leg: str, *, reason: str) -> None:
        alone = self._company(call, but=leg)
        if leg == "customer" or not alone:
            by = "customer" if leg == "customer" else "agent"
            await self._end(call, "completed", reason=f"reason.hangup_{by}", by=by)
            return
        del call.parties[leg]
        await self.engine.end_leg(call.sid, leg)
        self._apply_routes(call)
        self.notifier.party(call.sid, leg, "left")

    async def stats(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "calls": len(self.calls),
            "parties": {
                sid: {leg: vars(party) for leg, party in call.parties.items()}
                for sid, call in self.calls.items()
            },
            "engine": self.engine.stats(),
            "callbacks_sent": self.notifier.sent,
        }

    # Events from the media engine ----------------------------------------------------------------------
    async def on_leg_ended(self, sid: str, role: str, reason: str) -> None:
        """A browser vanished (watchdog or connection state): the call ends, unless it was one of several
        parties on the company's side (a transfer target, a supervisor): then only that party leaves."""
        call = self.calls.get(sid)
        if call is None or call.ended:
            return
        logger.info("call %s: %s leg ended by itself (%s)", sid, role, reason)
        # A party still connecting counts: the first agent's browser closes as soon as the transfer target
        # accepted, which may be before the target's media leg is up (the call must not end then).
        others = [*self._company(call, but=role), *(p for p in call.joining if p != role)]
        monitor = role in call.parties and call.parties[role].monitor
        if call.answered and role != "customer" and role in call.parties and (others or monitor):
            del call.parties[role]
            self._apply_routes(call)
            self.notifier.party(sid, role, "lost")
            return
        lost = "customer" if role == "customer" else "agent"
        if call.voicemail is not None and not call.answered:
            await self._end(call, "no-answer", reason=call.voicemail, by="system")
            return
        status = "completed" if call.answered else "canceled"
        await self._end(call, status, reason=f"reason.lost_{lost}", by="system")

    # Ending -------------------------------------------------------------------------------------------
    def _cancel_timers(self, call: CarrierCall) -> None:
        for timer in [*call.timers, *call.invites.values()]:
            timer.cancel()
        call.timers.clear()
        call.invites.clear()

    async def _end(self, call: CarrierCall, status: str, *, reason: str, by: str) -> None:
        call.ended = True
        self._cancel_timers(call)
        self.notifier.status(call.sid, status, leg="customer", reason=reason, by=by)
        try:
            result = await self.engine.end_call(call.sid)
        finally:
            self.calls.pop(call.sid, None)
        self._report_recording(call, result)

    def _report_recording(self, call: CarrierCall, result: RecordingResult | RecordingFailure | None) -> None:
        if not call.answered and call.voicemail is None:
            if isinstance(result, RecordingResult):
                result.path.unlink(missing_ok=True)  # nothing was said: no recording
            return
        if result is None and call.voicemail is not None:
            return  # the caller hung up at the tone: no message
        if isinstance(result, RecordingResult):
            self.notifier.recording(
                call.sid,
                status="ready",
                key=call.key,
                size=result.size,
                duration=result.duration,
                channels=result.channels,
            )
        else:
            reason = result.reason if isinstance(result, RecordingFailure) else "no audio was received"
            self.notifier.recording(call.sid, status="failed", reason=reason)

    async def shutdown(self) -> None:
        """End every call cleanly (callbacks sent, recordings finalised)."""
        for call in list(self.calls.values()):
            if not call.ended:
                with contextlib.suppress(Exception):
                    unanswered = "no-answer" if call.voicemail is not None else "canceled"
                    await self._end(
                        call,
                        "completed" if call.answered else unanswered,
                        reason="reason.shutdown",
                        by="system",
                    )
