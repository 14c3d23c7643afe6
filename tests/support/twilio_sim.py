"""Twilio's voice side, offline: the REST resources our app drives (conferences, participants, calls,
recordings) and the signed callbacks Twilio sends back, as one small state machine.

    sim = TwilioSim(deliver=post_to_the_app)
    agent_leg = sim.browser_dials(agent_id=1, to="+201001234567")   # the SDK's device.connect()
    sim.run()                                   # callbacks go out; the app reacts through the REST API
    customer = sim.leg_labelled("customer")
    sim.answer(customer); sim.run()

Every REST request the app sends is checked against Twilio's published contract (the `FakeTwilioHttp`
transport for an app in this process, `SimServer` for an app in another process) and answered from the
state here, the way Twilio would: a participant added rings, then joins when answered; removing the one
with endConferenceOnExit ends the room and every leg in it; a held participant's flag is kept. Callbacks are
queued (`outbox`) and sent by `run()`, in order, or in any order a test chooses (`take()`), which is what
the property tests use.

TwiML the app answers is parsed like Twilio does: `<Dial><Conference>` puts the leg in its room with the
attributes given (label, startConferenceOnEnter, endConferenceOnExit, statusCallback), `<Record>` and
`<Say>` are noted as voicemail.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.fake_twilio import (
    ACCOUNT_SID,
    API,
    APP_SID,
    CALLER_ID,
    PUBLIC_URL,
    account_path,
    call_body,
    conference_body,
    participant_body,
    recording_body,
    sign,
    twilio_sid,
)
from tests.support.twilio_contract import contract

Deliver = Callable[[str, dict[str, str]], Any]  # (public URL with query, form) -> the app's answer

STATUS_PATH = "/api/calls/webhook/status"
TERMINAL = ("completed", "busy", "no-answer", "canceled", "failed")
OUTBOUND_PATH = "/api/calls/twiml/outbound"
INBOUND_PATH = "/api/calls/twiml/inbound"


@dataclass
class Leg:
    sid: str
    to: str
    from_: str
    status: str = "queued"  # queued, ringing, in-progress, completed, busy, no-answer, canceled, failed
    label: str | None = None
    room: str | None = None  # the friendly name of the conference it is in (or dialled into)
    joined: bool = False
    hold: bool = False
    muted: bool = False
    coach: str | None = None  # the CallSid this participant coaches (heard by that leg alone)
    end_on_exit: bool = False
    start_on_enter: bool = True
    status_callback: str | None = None  # a participant's own status URL (REST-created legs)
    parent_status: str | None = None  # the TwiML App's / number's status URL (legs that asked for TwiML)
    conference_callback: str | None = None
    recording: dict[str, Any] | None = None
    answered_at: datetime | None = None
    voicemail: bool = False
    made_during: int | None = None  # the request the app was handling when it asked for this leg
    seq: itertools.count = field(default_factory=itertools.count)


@dataclass
class Room:
    name: str
    sid: str
    started: bool = False
    ended: bool = False
    callback: str | None = None
    seq: itertools.count = field(default_factory=itertools.count)


class TwilioSim:
    def __init__(self, deliver: Deliver, *, send_labels: bool = False) -> None:
        self.deliver = deliver
        # Replaying callbacks already recorded (property tests): the REST API answers from the state the
        # first run left, with the same SIDs, and nothing new is called back.
        self.replaying = False
        self.send_labels = send_labels  # Twilio's ParticipantLabel in conference callbacks (off: lookups)
        self.legs: dict[str, Leg] = {}
        self.rooms: dict[str, Room] = {}
        self.outbox: list[tuple[str, dict[str, str], int | None]] = []
        self.twiml: list[tuple[str, str]] = []  # (leg, the TwiML the app answered for it)
        # Everything sent to the app, in order: (url, form, after) where `after` is the index of the request
        # that caused it (it was sent while the app handled that one, through its REST calls), or of the
        # last request before a `barrier()` for what people do after hearing it; None: free to come first.
        self.delivered: list[tuple[str, dict[str, str], int | None]] = []
        self._current: int | None = None
        self._barrier: int | None = None
        self._ids = itertools.count(1)
        self._clock = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
        self.lock = threading.RLock()

    # Time and ids -------------------------------------------------------------------------------------
    def _now(self) -> datetime:
        self._clock += timedelta(seconds=1)
        return self._clock

    def _stamp(self) -> str:
        return self._now().strftime("%a, %d %b %Y %H:%M:%S +0000")

    def _sid(self, prefix: str) -> str:
        return twilio_sid(prefix, next(self._ids))

    def _send(self, url: str | None, params: dict[str, str]) -> None:
        if url and not self.replaying:
            form = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", **params}
            self.outbox.append((url, form, self._cause(params.get("CallSid"))))

    def _cause(self, leg: str | None = None) -> int | None:
        """What a callback follows: the request the app was handling (its REST call made it), else what
        people could know when they acted: the request that brought their leg about, or a barrier."""
        if self._current is not None:
            return self._current
        made = self.legs[leg].made_during if leg in self.legs else None
        known = [i for i in (made, self._barrier) if i is not None]
        return max(known) if known else None

    def barrier(self) -> None:
        """What people do from now on follows everything the app has been told so far (a caller who hangs
        up in the voicemail was sent there first)."""
        self._barrier = len(self.delivered) - 1 if self.delivered else None

    def _post(self, url: str, params: dict[str, str], after: int | None) -> Any:
        index = len(self.delivered)
        self.delivered.append((url, params, after))
        outer, self._current = self._current, index
        try:
            return self.deliver(url, params)
        finally:
            self._current = outer

    # Delivering callbacks -------------------------------------------------------------------------------
    def take(self) -> list[tuple[str, dict[str, str], int | None]]:
        with self.lock:
            taken, self.outbox = self.outbox, []
        return taken

    def run(self, limit: int = 200) -> int:
        """Send queued callbacks (and those the app's reactions queue) until none is left."""
        sent = 0
        while True:
            batch = self.take()
            if not batch:
                return sent
            for url, params, after in batch:
                self._post(url, params, after)
                sent += 1
                if sent > limit:
                    raise AssertionError("callbacks keep coming: a loop between the app and Twilio?")

    # What people do -------------------------------------------------------------------------------------
    def browser_dials(self, agent_id: int, to: str) -> str:
        """The agent's SDK calls `to` (device.connect): Twilio asks the TwiML App's voice URL."""
        leg = self._new_leg(to=to, from_=f"client:agent_{agent_id}", status="ringing")
        leg.parent_status = PUBLIC_URL + STATUS_PATH
        params = {"CallSid": leg.sid, "ApplicationSid": APP_SID, "CallStatus": "ringing",
                  "Direction": "inbound", "From": leg.from_, "Caller": leg.from_, "To": to}  # fmt: skip
        self._ask_twiml(leg, PUBLIC_URL + OUTBOUND_PATH, params)
        return leg.sid

    def browser_monitors(self, agent_id: int, call_sid: str, mode: str) -> str:
        """A supervisor's SDK connects to monitor call `call_sid` (device.connect with our parameters)."""
        leg = self._new_leg(to="monitor", from_=f"client:agent_{agent_id}", status="ringing")
        leg.parent_status = PUBLIC_URL + STATUS_PATH
        params = {"CallSid": leg.sid, "ApplicationSid": APP_SID, "CallStatus": "ringing",
                  "Direction": "inbound", "From": leg.from_, "Caller": leg.from_, "To": "monitor",
                  "MonitorCall": call_sid, "Mode": mode}  # fmt: skip
        self._ask_twiml(leg, PUBLIC_URL + OUTBOUND_PATH, params)
        return leg.sid

    def customer_calls(self, number: str, to: str = CALLER_ID) -> str:
        """A customer calls the company number (or `to`, another of its numbers): Twilio asks the number's
        voice URL."""
        leg = self._new_leg(to=to, from_=number, status="ringing")
        leg.parent_status = PUBLIC_URL + STATUS_PATH
        params = {
            "CallSid": leg.sid,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "From": number,
            "To": to,
        }
        self._ask_twiml(leg, PUBLIC_URL + INBOUND_PATH, params)
        return leg.sid

    def answer(self, sid: str) -> None:
        """A rung party (the customer's phone, an agent's browser, a transfer target) answers."""
        leg = self.legs[sid]
        assert leg.status in ("queued", "initiated", "ringing"), (sid, leg.status)
        self._status(leg, "in-progress")
        leg.answered_at = self._clock
        if leg.room and not self.rooms[leg.room].ended:
            self._join(leg)
        elif leg.room:  # answered after its room ended: Twilio hangs it up
            self._complete(leg, "completed")

    def decline(self, sid: str) -> None:
        self._unreached(self.legs[sid], "busy")

    def no_answer(self, sid: str) -> None:
        self._unreached(self.legs[sid], "no-answer")

    def hang_up(self, sid: str) -> None:
        """A party hangs up (an answered leg ends; a ringing one is canceled by its caller)."""
        leg = self.legs[sid]
        if leg.status in ("queued", "initiated", "ringing"):
            self._unreached(leg, "canceled")
        else:
            self._complete(leg, "completed")

    # Looking things up --------------------------------------------------------------------------------------
    def leg_labelled(self, label: str) -> str:
        found = [leg.sid for leg in self.legs.values() if leg.label == label]
        assert len(found) == 1, (label, found, [(leg.sid, leg.label) for leg in self.legs.values()])
        return found[0]

    def legs_to(self, to: str) -> list[str]:
        return [leg.sid for leg in self.legs.values() if leg.to == to]

    def in_room(self, room: str) -> list[str]:
        return [leg.label or leg.sid for leg in self.legs.values() if leg.room == room and leg.joined]

    # The REST API -------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        """Answer one REST request (already held to the contract by the transport)."""
        with self.lock:
            return self._handle(method, path, {k: v for k, v in params.items()})

    def _handle(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        if self.replaying:
            return self._replay(method, path, params)
        prefix = account_path("")
        assert path.startswith(prefix), path
        tail = path[len(prefix) :]
        if m := re.fullmatch(r"Conferences/([^/]+)/Participants\.json", tail):
            return self._add_participant(m.group(1), params)
        if m := re.fullmatch(r"Conferences/([^/]+)/Participants/([^/]+)\.json", tail):
            return self._participant(method, m.group(1), m.group(2), params)
        if m := re.fullmatch(r"Conferences/([^/]+)\.json", tail):
            return self._update_room(m.group(1), params)
        if m := re.fullmatch(r"Calls/([^/]+)/Recordings\.json", tail):
            return self._record(m.group(1), params)
        if m := re.fullmatch(r"Calls/([^/]+)\.json", tail):
            return self._update_call(m.group(1), params)
        raise AssertionError(f"the simulator does not know {method} {path}")

    def _replay(self, method: str, path: str, p: dict[str, Any]) -> tuple[int, Any]:
        """The answer the first run gave (same legs, same SIDs), changing nothing."""
        tail = path[len(account_path("")) :]
        if m := re.fullmatch(r"Conferences/([^/]+)/Participants\.json", tail):
            room = self._room_named(m.group(1))
            leg = next(o for o in self.legs.values() if o.to == p["To"] and o.label and o.conference_callback
                       and o.room in (room.name, None))  # fmt: skip
            return 201, participant_body(room.sid, leg.sid, label=leg.label, status="ringing")
        if m := re.fullmatch(r"Conferences/([^/]+)/Participants/([^/]+)\.json", tail):
            room = self._room_named(m.group(1))
            return (204, None) if method == "DELETE" else (200, participant_body(room.sid, m.group(2)))
        if m := re.fullmatch(r"Conferences/([^/]+)\.json", tail):
            room = self._room_named(m.group(1))
            return 200, conference_body(room.sid, room.name, status="completed")
        if m := re.fullmatch(r"Calls/([^/]+)/Recordings\.json", tail):
            leg = self.legs[m.group(1)]
            sid = leg.recording["sid"] if leg.recording else self._sid("RE")
            return 201, recording_body(sid, leg.sid, status="in-progress", source="StartCallRecordingAPI")
        if m := re.fullmatch(r"Calls/([^/]+)\.json", tail):
            leg = self.legs[m.group(1)]
            return 200, call_body(leg.sid, status=leg.status, from_=leg.from_, to=leg.to)
        raise AssertionError(f"the simulator does not know {method} {path}")

    def _room_named(self, name_or_sid: str) -> Room:
        for room in self.rooms.values():
            if name_or_sid in (room.name, room.sid):
                return room
        room = self.rooms[name_or_sid] = Room(name_or_sid, self._sid("CF"))
        return room

    def _add_participant(self, conference: str, p: dict[str, Any]) -> tuple[int, Any]:
        room = self._room_named(conference)
        if room.ended:
            return 404, {"code": 20404, "message": "conference not found", "more_info": "", "status": 404}
        leg = self._new_leg(to=p["To"], from_=p["From"], status="queued")
        leg.label, leg.room = p.get("Label"), room.name
        leg.end_on_exit = p.get("EndConferenceOnExit") == "true"
        leg.start_on_enter = p.get("StartConferenceOnEnter", "true") == "true"
        leg.status_callback = p.get("StatusCallback")
        room.callback = room.callback or p.get("ConferenceStatusCallback")
        leg.conference_callback = p.get("ConferenceStatusCallback")
        self._status(leg, "initiated")
        self._status(leg, "ringing")
        return 201, participant_body(room.sid, leg.sid, label=leg.label, status="ringing",
                                     end_conference_on_exit=leg.end_on_exit)  # fmt: skip

    def _participant(self, method: str, conference: str, sid: str, p: dict[str, Any]) -> tuple[int, Any]:
        room, leg = self._room_named(conference), self.legs.get(sid)
        if leg is None or leg.room != room.name or not leg.joined:
            return 404, {"code": 20404, "message": "participant not found", "more_info": "", "status": 404}
        if method == "DELETE":
            self._complete(leg, "completed")
            return 204, None
        if "Hold" in p:
            held = p["Hold"] == "true"
            if held != leg.hold:
                leg.hold = held
                self._room_event(room, "participant-hold" if held else "participant-unhold", leg)
        if "Muted" in p:
            leg.muted = p["Muted"] == "true"
        if "Coaching" in p:
            if p["Coaching"] == "true" and not p.get("CallSidToCoach"):
                return 400, {"code": 21214, "message": "CallSidToCoach is required", "more_info": "",
                             "status": 400}  # fmt: skip
            leg.coach = p.get("CallSidToCoach") if p["Coaching"] == "true" else None
        if p.get("AnnounceUrl"):  # what the participant hears now: kept with the TwiML
            said = self._post(p["AnnounceUrl"], {"AccountSid": ACCOUNT_SID, "ConferenceSid": room.sid,
                                                 "CallSid": leg.sid}, self._cause())  # fmt: skip
            self.twiml.append((leg.sid, said if isinstance(said, str) else getattr(said, "text", "")))
        if "EndConferenceOnExit" in p:
            leg.end_on_exit = p["EndConferenceOnExit"] == "true"
        return 200, participant_body(room.sid, leg.sid, label=leg.label, hold=leg.hold, muted=leg.muted,
                                     end_conference_on_exit=leg.end_on_exit, coaching=leg.coach is not None,
                                     call_sid_to_coach=leg.coach)  # fmt: skip

    def _update_room(self, conference: str, p: dict[str, Any]) -> tuple[int, Any]:
        room = self._room_named(conference)
        if p.get("Status") == "completed" and not room.ended:
            self._end_room(room, "conference-ended-via-api", None)
        return 200, conference_body(room.sid, room.name, status="completed" if room.ended else "in-progress")

    def _update_call(self, sid: str, p: dict[str, Any]) -> tuple[int, Any]:
        leg = self.legs.get(sid)
        if leg is None:
            return 404, {"code": 20404, "message": "call not found", "more_info": "", "status": 404}
        status = p.get("Status")
        if status == "canceled":
            if leg.status not in ("queued", "initiated", "ringing"):
                return 400, {"code": 21220, "message": "Call is not ringing", "more_info": "", "status": 400}
            self._unreached(leg, "canceled")
        elif status == "completed":
            if leg.status in ("queued", "initiated", "ringing"):
                self._unreached(leg, "canceled")
            elif leg.status == "in-progress":
                self._complete(leg, "completed")
        elif p.get("Url"):
            self._leave_room(leg)  # new TwiML: out of its room
            self._ask_twiml(leg, p["Url"], {"CallSid": leg.sid, "CallStatus": leg.status, "From": leg.from_,
                                            "To": leg.to})  # fmt: skip
        return 200, call_body(sid, status=leg.status, from_=leg.from_, to=leg.to)

    def _record(self, sid: str, p: dict[str, Any]) -> tuple[int, Any]:
        leg = self.legs[sid]
        assert leg.recording is None, f"{sid} is recorded twice"
        leg.recording = {"sid": self._sid("RE"), "callback": p.get("RecordingStatusCallback"),
                         "channels": p.get("RecordingChannels"), "started": self._clock}  # fmt: skip
        return 201, recording_body(
            leg.recording["sid"], sid, status="in-progress", source="StartCallRecordingAPI"
        )

    # TwiML ---------------------------------------------------------------------------------------------
    def _ask_twiml(self, leg: Leg, url: str, params: dict[str, str]) -> None:
        answer = self._post(url, {"AccountSid": ACCOUNT_SID, **params}, self._cause())
        text = answer if isinstance(answer, str) else getattr(answer, "text", "")
        self.twiml.append((leg.sid, text))
        doc = ET.fromstring(text)
        conference = doc.find("./Dial/Conference")
        if conference is not None:
            if leg.status == "ringing":
                self._status(leg, "in-progress")  # Twilio answers the leg to run its TwiML
                leg.answered_at = self._clock
            room = self._room_named(conference.text or "")
            room.callback = conference.get("statusCallback")
            leg.room, leg.label = room.name, conference.get("participantLabel")
            leg.start_on_enter = conference.get("startConferenceOnEnter", "true") == "true"
            leg.end_on_exit = conference.get("endConferenceOnExit") == "true"
            leg.muted, leg.coach = conference.get("muted") == "true", conference.get("coach") or None
            leg.conference_callback = room.callback
            self._join(leg)
        elif doc.find("./Record") is not None:
            leg.voicemail = True
        elif doc.find("./Hangup") is not None:
            self._complete(leg, "completed")

    # Rooms -----------------------------------------------------------------------------------------------
    def _new_leg(self, **fields: Any) -> Leg:
        leg = Leg(self._sid("CA"), made_during=self._current, **fields)
        self.legs[leg.sid] = leg
        return leg

    def _status(self, leg: Leg, status: str) -> None:
        """A leg's status changes: a participant we were asked to add reports every step to its own URL; a
        leg that asked for TwiML (the browser's, the customer's) only its end, to the App's / number's."""
        leg.status = status
        if leg.status_callback:
            url = leg.status_callback
        elif status in TERMINAL:
            url = leg.parent_status
        else:
            return
        params = {"CallSid": leg.sid, "CallStatus": status, "From": leg.from_, "To": leg.to,
                  "Direction": "outbound-api" if leg.status_callback else "inbound",
                  "SequenceNumber": str(next(leg.seq)), "Timestamp": self._stamp(),
                  "CallbackSource": "call-progress-events"}  # fmt: skip
        if status == "completed" and leg.answered_at:
            params["CallDuration"] = str(int((self._clock - leg.answered_at).total_seconds()))
        self._send(url, params)

    def _room_event(self, room: Room, what: str, leg: Leg | None, **extra: str) -> None:
        params = {"ConferenceSid": room.sid, "FriendlyName": room.name, "StatusCallbackEvent": what,
                  "SequenceNumber": str(next(room.seq)), "Timestamp": self._stamp(), **extra}  # fmt: skip
        if leg is not None:
            params |= {"CallSid": leg.sid, "Hold": str(leg.hold).lower(), "Muted": str(leg.muted).lower(),
                       "Coaching": str(leg.coach is not None).lower(),
                       "EndConferenceOnExit": str(leg.end_on_exit).lower(),
                       "StartConferenceOnEnter": str(leg.start_on_enter).lower()}  # fmt: skip
            if leg.coach:
                params["CallSidToCoach"] = leg.coach
            if self.send_labels and leg.label:
                params["ParticipantLabel"] = leg.label
        self._send(room.callback, params)

    def _join(self, leg: Leg) -> None:
        room = self.rooms[leg.room or ""]
        leg.joined = True
        if not room.started and leg.start_on_enter:
            room.started = True
            self._room_event(room, "conference-start", None)
        self._room_event(room, "participant-join", leg)

    def _leave_room(self, leg: Leg, *, call_status: str | None = None) -> None:
        if not leg.joined or leg.room is None:
            return
        room = self.rooms[leg.room]
        leg.joined = False
        extra = {"ParticipantCallStatus": call_status} if call_status else {}
        self._room_event(room, "participant-leave", leg, **extra)
        leg.room = None
        if leg.end_on_exit and not room.ended:
            self._end_room(room, "participant-with-end-conference-on-exit-left", leg.sid)
        elif (
            not room.ended
            and room.started
            and not any(o.joined and o.room == room.name for o in self.legs.values())
        ):
            self._end_room(room, "last-participant-left", leg.sid)

    def _end_room(self, room: Room, reason: str, ending: str | None) -> None:
        room.ended = True
        for other in [o for o in self.legs.values() if o.room == room.name]:
            if other.joined:
                other.joined = False
                self._room_event(room, "participant-leave", other)
                other.room = None
                self._complete(other, "completed")  # after <Dial> there is nothing: the leg hangs up
            elif other.status in ("queued", "ringing"):
                pass  # still ringing: it rings on (and is hung up when it answers)
        extra = {"ReasonConferenceEnded": reason}
        if ending:
            extra["CallSidEndingConference"] = ending
        self._room_event(room, "conference-end", None, **extra)

    def _complete(self, leg: Leg, status: str) -> None:
        if leg.status in TERMINAL:
            return
        self._leave_room(leg)  # may end the room, which hangs up the others (not this one again)
        self._status(leg, status)
        self._recording_done(leg)

    def _unreached(self, leg: Leg, status: str) -> None:
        assert leg.status in ("queued", "ringing", "initiated"), (leg.sid, leg.status)
        self._status(leg, status)
        if leg.room and leg.room in self.rooms:
            self._room_event(self.rooms[leg.room], "participant-leave", leg, ParticipantCallStatus=status)
        leg.room = None

    def _recording_done(self, leg: Leg) -> None:
        if leg.recording is None:
            return
        rec = leg.recording
        duration = int((self._clock - rec["started"]).total_seconds())
        self._send(rec["callback"], {
            "CallSid": leg.sid, "RecordingSid": rec["sid"], "RecordingStatus": "completed",
            "RecordingUrl": f"{API}{account_path('Recordings/' + rec['sid'])}",
            "RecordingDuration": str(duration),
            "RecordingChannels": "2" if rec["channels"] == "dual" else "1",
            "RecordingSource": "StartCallRecordingAPI",
            "RecordingStartTime": rec["started"].strftime("%a, %d %b %Y %H:%M:%S +0000"),
        })  # fmt: skip


# Transports -----------------------------------------------------------------------------------------------
def signed_delivery(post: Callable[[str, str, dict[str, str]], Any]) -> Deliver:
    """A `Deliver` for a public URL: signs it as Twilio does and hands (path?query, signature, form) on."""

    def deliver(url: str, params: dict[str, str]) -> Any:
        assert url.startswith(PUBLIC_URL), url
        signature = sign(url[len(PUBLIC_URL) :], params)
        return post(url[len(PUBLIC_URL) :], signature, params)

    return deliver


class SimServer:
    """The simulator's REST API over HTTP on 127.0.0.1 (TWILIO_API_URL of an app in another process), every
    request held to Twilio's contract; a violation answers 400 and is kept in `violations`."""

    def __init__(self, sim: TwilioSim) -> None:
        self.sim = sim
        self.violations: list[str] = []
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                params: dict[str, Any] = {}
                for key, value in [*parse_qsl(parts.query), *parse_qsl(body, keep_blank_values=True)]:
                    params[key] = [*_as_list(params[key]), value] if key in params else value
                outer.requests.append((self.command, parts.path, params))
                try:
                    contract().check_request(self.command, f"https://api.twilio.com{parts.path}", params)
                    status, answer = outer.sim.handle(self.command, parts.path, params)
                except AssertionError as exc:
                    outer.violations.append(f"{self.command} {parts.path} {params}: {exc}")
                    status, answer = (
                        400,
                        {"code": 0, "message": str(exc)[:500], "more_info": "", "status": 400},
                    )
                data = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve  # noqa: N815

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
