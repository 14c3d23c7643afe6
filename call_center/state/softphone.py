"""The agent's softphone: the dialer, the call in progress, incoming calls, audio devices.

The browser engine (assets/voice_device.jsx) does the telephony; this state validates numbers, drives the
engine through `window.almasarPhone`, and turns the engine's events into what the page shows.
"""

from __future__ import annotations

import json
import time
from typing import Any

import reflex as rx
from reflex.event import EventSpec
from sqlmodel import col, select

from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.core.i18n import key_or_text
from call_center.models import Call, Contact, Direction
from call_center.services import agents, call_control, contacts, numbers, transfers
from call_center.services.errors import DomainError
from call_center.state.session import SessionState
from call_center.telephony import get_provider
from call_center.telephony.base import Capability

KEYS = "123456789*0#"
# Why a ring stopped, as the agent is told (other reasons: the call ended, nothing to say)
CANCEL_NOTICES = {"answered-elsewhere": "call.notice.answered_elsewhere", "missed": "call.notice.missed"}
DEVICE_ERRORS = {
    "mic-denied",
    "mic-missing",
    "mic-busy",
    "mic-error",
    "signaling-lost",
    "session-expired",
    "busy",
    "twilio-token-invalid",
    "twilio-token-expired",
    "twilio-connection-error",
    "twilio-signaling",
    "twilio-unavailable",
    "twilio-busy",
    "twilio-media-failed",
    "twilio-user-aborted",
    "twilio-error",
}


def _phone_call(method: str, *args: Any) -> EventSpec:
    """Call a method of the browser phone (arguments are JSON-encoded, never interpolated raw)."""
    encoded = ", ".join(json.dumps(a) for a in args)
    return rx.call_script(f"window.almasarPhone && window.almasarPhone.{method}({encoded})")


class SoftphoneState(SessionState):
    registered: bool = False
    device_error: str = ""  # an i18n key
    device_error_detail: str = ""
    mic_problem: str = ""  # "mic-denied" / "mic-missing": shows the troubleshooting help
    provider_code: str = ""  # e.g. Twilio's error code, shown next to the explanation
    warning: str = ""  # an i18n key: poor call quality, reconnecting...
    audio_blocked: bool = False

    number: str = ""
    number_display: str = ""
    number_error: str = ""
    number_e164: str = ""

    call_sid: str = ""
    call_state: str = "idle"  # idle, connecting, ringing, in-progress, ended
    call_remote: str = ""
    call_remote_name: str = ""
    call_direction: str = ""
    call_started_ms: int = 0
    call_outcome: str = ""
    call_reason: str = ""  # free text from the provider, shown as is
    call_reason_key: str = ""  # or an i18n key, shown in the current language (it follows a switch)
    muted: bool = False
    on_hold: bool = False
    digits_sent: str = ""
    digits_received: str = ""
    keypad_open: bool = False

    incoming_sid: str = ""
    incoming_from: str = ""
    incoming_name: str = ""
    incoming_transfer_from: str = ""  # the agent transferring this call to me ("" for a new call)
    last_rung_sid: str = ""  # the last call that rang here and stopped (its reason may come afterwards)
    call_notice: str = ""  # an i18n key: why the call left this phone (answered by another agent...)

    # a transfer of the call in progress, as the server tells it (services.transfers)
    transfer_id: int = 0
    transfer_state: str = ""  # "", ringing, consulting, conference
    transfer_mode: str = ""
    transfer_target: str = ""  # the other agent (or number): whom I transfer to, or who transfers to me
    transfer_role: str = ""  # "from" (I transfer the call) or "to" (it is being transferred to me)
    transfer_notice: str = ""  # an i18n key: how the latest transfer ended, when it did not complete

    # supervisors monitoring my call (services.monitoring tells the agent: they always know)
    monitors: list[dict[str, str]] = []  # name, mode (listen / whisper / barge)
    # my own monitoring leg, as a supervisor (MonitorState starts it from the wallboard)
    monitor_sid: str = ""
    monitor_call_id: int = 0
    monitor_state: str = ""  # "", connecting, live
    monitor_mode: str = ""
    monitor_agent: str = ""  # whose call it is
    monitor_customer: str = ""
    monitor_error: str = ""  # an i18n key: why monitoring did not start or stopped

    inputs: list[dict[str, str]] = []
    outputs: list[dict[str, str]] = []
    input_id: str = ""
    output_id: str = ""

    recent: list[dict[str, str]] = []
    contact_query: str = ""
    contact_results: list[dict[str, str]] = []

    @rx.var
    def in_call(self) -> bool:
        return self.call_state in ("connecting", "ringing", "in-progress")

    @rx.var
    def can_dial(self) -> bool:
        # A number refused by policy (country, number type) can still be "called": the attempt is then
        # kept in the history as a failed call with its reason. A number that does not parse cannot.
        return self.registered and not self.in_call and (self.number_e164 != "" or self.number_refused)

    @rx.var
    def number_refused(self) -> bool:
        return self.number_error.startswith("dial.error.") and self.number_error != "dial.error.invalid"

    @rx.var
    def echo_number(self) -> str:
        return get_settings().ECHO_NUMBER if get_provider().can(Capability.ECHO) else ""

    @rx.var
    def hold_supported(self) -> bool:
        return get_provider().can(Capability.HOLD)

    @rx.var
    def transfer_supported(self) -> bool:
        return get_provider().can(Capability.TRANSFER)

    # Loading ------------------------------------------------------------------------------------------
    @rx.event
    def load(self):
        self._load_recent()

    def _load_recent(self) -> None:
        if not self.agent_id:
            return
        region = get_settings().DEFAULT_REGION
        with session_scope() as db:
            rows = db.exec(
                select(Call.customer_number, Contact.name)
                .outerjoin(Contact, col(Call.contact_id) == Contact.id)
                .where(Call.agent_id == self.agent_id)
                .order_by(col(Call.created_at).desc())
                .limit(40)
            ).all()
        seen: dict[str, dict[str, str]] = {}
        for number, name in rows:
            if number not in seen and len(seen) < 8:
                seen[number] = {
                    "number": number,
                    "display": numbers.display(number, region),
                    "name": name or "",
                }
        self.recent = list(seen.values())

    # The dialer ---------------------------------------------------------------------------------------
    def _validate(self) -> None:
        self.number_error = self.number_display = self.number_e164 = ""
        if not self.number.strip():
            return
        try:
            dest = numbers.destination(self.number, get_settings())
        except DomainError as exc:
            self.number_error = exc.code
            return
        self.number_e164, self.number_display = dest.e164, dest.display

    @rx.event
    def set_number(self, value: str):
        self.number = value[:40]
        self._validate()

    @rx.event
    def pick_number(self, value: str):
        self.number = value
        self._validate()

    @rx.event
    def search_contacts(self, value: str):
        self.contact_query = value[:60]
        if len(self.contact_query.strip()) < 2:
            self.contact_results = []
            return
        region = get_settings().DEFAULT_REGION
        with session_scope() as db:
            found, _ = contacts.search(db, self.contact_query, limit=6)
        self.contact_results = [
            {"name": c.name, "phone": c.phone, "display": numbers.display(c.phone, region)} for c in found
        ]

    @rx.event
    def choose_contact(self, phone: str):
        self.contact_query, self.contact_results = "", []
        self.number = phone
        self._validate()

    @rx.event
    def call_number(self, value: str):
        """Click-to-call (history, contacts, callbacks): dial at once, and show the call on the call-center
        page (no navigation when the click was there: reloading the page mid-call raced its live lists)."""
        self.number = value
        spec = self.dial()
        if (self.router.url.path or "").rstrip("/") == "/call-center":
            return spec
        if spec is None:
            return rx.redirect("/call-center")
        return [spec, rx.redirect("/call-center")]

    @rx.event
    def press_key(self, key: str):
        if key not in KEYS:
            return None
        if self.call_state == "in-progress":
            self.digits_sent += key
            return _phone_call("sendDigits", key)
        self.number += key
        self._validate()
        return None

    @rx.event
    def backspace(self):
        self.number = self.number[:-1]
        self._validate()

    @rx.event
    def dial(self):
        """Validate on the server (toll-fraud guard, rate), then let the browser engine place the call.

        A refusal of policy is shown in the dialer and kept in the history as a failed call."""
        if self.in_call:
            self.device_error = "device.error.busy"
            return None
        settings = get_settings()
        with session_scope() as db:
            agent = agents.get_agent(db, self.agent_id)
            db.expunge(agent)
        try:
            with session_scope() as db:
                dest = call_control.check_outbound(db, agent, self.number, settings)
        except DomainError as exc:
            self.number_error = exc.code
            self.number_display = self.number_e164 = ""
            provider = settings.TELEPHONY_PROVIDER
            with session_scope() as db:
                call_control.record_refused(
                    db, provider=provider, agent=agent, raw=self.number, error=exc, settings=settings
                )
            return None
        self.number_e164, self.number_display, self.number_error = dest.e164, dest.display, ""
        self._reset_call()
        self.call_state = "connecting"
        self.call_direction = Direction.OUTBOUND
        self.call_remote = self.number_display
        self.call_remote_name = self._contact_name(self.number_e164)
        return _phone_call("connect", self.number_e164)

    def _contact_name(self, number: str) -> str:
        with session_scope() as db:
            contact = db.exec(select(Contact).where(Contact.phone == number)).first()
            return contact.name if contact else ""

    def _reset_call(self) -> None:
        self.call_sid = self.call_outcome = self.call_reason = self.call_reason_key = ""
        self.digits_sent = self.digits_received = self.call_notice = ""
        self.muted = self.on_hold = self.keypad_open = False
        self.monitors = []
        self.call_started_ms = 0
        self.device_error = self.device_error_detail = ""
        self._reset_transfer()
        self.transfer_notice = ""

    def _reset_transfer(self) -> None:
        self.transfer_id, self.transfer_state, self.transfer_mode = 0, "", ""
        self.transfer_target = self.transfer_role = ""

    # In-call controls ----------------------------------------------------------------------------------
    @rx.event
    def hangup(self):
        """Hang up. During a consultation the first agent hanging up completes the transfer (as a desk
        phone does): the server takes their leg out and the phone hears the call end as transferred."""
        if self.transfer_role == "from" and self.transfer_state in ("consulting", "conference"):
            try:
                with session_scope() as db:
                    transfers.complete(db, self.call_sid, agents.get_agent(db, self.agent_id))
                return None
            except DomainError:
                pass  # the transfer moved on meanwhile: an ordinary hang-up
        return _phone_call("hangup")

    @rx.event
    def toggle_mute(self):
        return _phone_call("mute", not self.muted)

    @rx.event
    def toggle_hold(self):
        """Hold or resume the customer: the server asks the provider (both providers, one path)."""
        want = not self.on_hold
        try:
            with session_scope() as db:
                agent = agents.get_agent(db, self.agent_id)
                transfers.set_hold(db, self.call_sid, agent, want)
        except DomainError as exc:
            self.device_error = exc.code
            return
        self.on_hold = want

    @rx.event
    def toggle_keypad(self):
        self.keypad_open = not self.keypad_open

    @rx.event
    def accept(self):
        if not self.incoming_sid:
            # Nothing rings any more: its cancel (another agent answered, the caller hung up) was handled
            # just before this click reached us, and told the page why. Answering nothing would leave the
            # phone "connecting" for ever (seen in the answer race under load).
            return None
        self._reset_call()
        self.call_state = "connecting"
        self.call_direction = Direction.INBOUND
        self.call_sid = self.incoming_sid
        self.call_remote, self.call_remote_name = self.incoming_from, self.incoming_name
        self.incoming_sid = self.incoming_transfer_from = ""
        return [_phone_call("accept"), rx.redirect("/call-center")]

    @rx.event
    def reject(self):
        self.incoming_sid = self.incoming_transfer_from = ""
        return _phone_call("reject")

    @rx.event
    def select_input(self, device_id: str):
        self.input_id = device_id
        return _phone_call("setInputDevice", device_id)

    @rx.event
    def select_output(self, device_id: str):
        self.output_id = device_id
        return _phone_call("setOutputDevice", device_id)

    @rx.event
    def unlock_audio(self):
        self.audio_blocked = False
        return _phone_call("unlockAudio")

    # Events from the browser engine ---------------------------------------------------------------------
    @rx.event
    def on_device_event(self, event: dict[str, Any]):
        kind = str(event.get("type", ""))
        handler = getattr(self, "_on_" + kind.replace("-", "_"), None)
        if handler is not None:
            return handler(event)
        return None

    def _on_registered(self, _event: dict[str, Any]) -> None:
        self.registered = True
        self.warning = ""
        if self.device_error in ("device.error.signaling-lost", "device.error.generic"):
            self.device_error = self.device_error_detail = ""

    def _on_unregistered(self, _event: dict[str, Any]) -> None:
        self.registered = False

    def _on_connecting(self, _event: dict[str, Any]) -> None:
        self.call_state = "connecting"

    def _on_ringing(self, event: dict[str, Any]) -> None:
        self.call_state = "ringing"
        self.call_sid = str(event.get("call_sid") or self.call_sid)

    def _on_accepted(self, event: dict[str, Any]) -> None:
        self.call_state = "in-progress"
        self.call_sid = str(event.get("call_sid") or self.call_sid)
        # the browser's own clock, so the timer it shows starts at 00:00 whatever the server's clock says
        self.call_started_ms = int(event.get("at") or time.time() * 1000)
        self.mic_problem = ""

    def _on_disconnected(self, event: dict[str, Any]) -> None:
        self.call_state = "ended"
        self.call_outcome = str(event.get("status") or "completed")
        self.call_reason_key, self.call_reason = key_or_text(str(event.get("reason") or ""))
        self.muted = self.on_hold = False
        self.monitors = []
        self._reset_transfer()
        self._load_recent()

    def _on_incoming(self, event: dict[str, Any]) -> None:
        self.incoming_sid = str(event.get("call_sid", ""))
        number = str(event.get("from", ""))
        self.incoming_from = numbers.display(number, get_settings().DEFAULT_REGION)
        self.incoming_name = str(event.get("caller_name") or "") or self._contact_name(number)
        self.incoming_transfer_from = str(event.get("transfer_from") or "")
        self.call_notice = ""

    def _on_cancel(self, event: dict[str, Any]) -> None:
        """A ring stopped, or a call this phone was answering went to someone else."""
        sid = event.get("call_sid")
        notice = CANCEL_NOTICES.get(str(event.get("reason") or ""), "")
        if sid == self.incoming_sid:
            self.incoming_sid = self.incoming_transfer_from = ""
            self.last_rung_sid = str(sid or "")
            self.call_notice = notice
        elif sid == self.call_sid and self.call_state in ("connecting", "ringing"):
            self._reset_call()
            self.call_state, self.call_notice = "idle", notice
        elif notice and sid and sid == self.last_rung_sid and not self.incoming_sid:
            self.call_notice = notice  # the ring had stopped already (Twilio's cancel came first)
        elif (
            notice
            and sid
            and sid == self.call_sid
            and (self.call_state, self.call_outcome)
            == (
                "ended",
                "canceled",
            )
        ):
            self._reset_call()  # it was answering when Twilio hung up its leg: it never had the call
            self.call_state, self.call_notice = "idle", notice

    def _on_transfer(self, event: dict[str, Any]) -> None:
        mine = int(event.get("from_agent_id") or 0) == self.agent_id
        state = str(event.get("state", ""))
        if state in ("ringing", "consulting", "conference"):
            self.transfer_id = int(event.get("transfer_id") or 0)
            self.transfer_state, self.transfer_mode = state, str(event.get("mode", ""))
            self.transfer_role = "from" if mine else "to"
            # who the call goes to (for the agent who transfers), or who it comes from (for the target)
            self.transfer_target = str(event.get("target" if mine else "from", ""))
            self.transfer_notice = ""
            return
        self._reset_transfer()
        if mine and state in ("failed", "canceled"):
            self.transfer_notice = str(event.get("reason") or "transfer.reason.failed")

    def _on_monitor(self, event: dict[str, Any]) -> None:
        """Who monitors my call now (the server says so whenever a supervisor joins, switches or leaves)."""
        if event.get("call_sid") != self.call_sid:
            return
        self.monitors = [
            {"name": str(m.get("name") or ""), "mode": str(m.get("mode") or "listen")}
            for m in event.get("monitors") or []
        ]

    def _on_monitor_started(self, event: dict[str, Any]) -> None:
        if event.get("call_sid") == self.monitor_sid:
            self.monitor_state = "live"

    def _on_monitor_ended(self, event: dict[str, Any]) -> None:
        if event.get("call_sid") != self.monitor_sid:
            return
        reason = str(event.get("reason") or "")
        self.monitor_sid, self.monitor_state, self.monitor_mode = "", "", ""
        self.monitor_agent = self.monitor_customer = ""
        self.monitor_call_id = 0
        self.monitor_error = reason if reason.startswith(("monitor.", "call.", "device.", "error.")) else ""

    def _on_warning(self, event: dict[str, Any]) -> None:
        code = str(event.get("code", ""))
        self.warning = (
            "device.warning.reconnecting" if code.startswith("signaling") else "device.warning.quality"
        )

    def _on_warning_cleared(self, _event: dict[str, Any]) -> None:
        self.warning = ""

    def _on_mute(self, event: dict[str, Any]) -> None:
        self.muted = bool(event.get("on"))

    def _on_hold(self, event: dict[str, Any]) -> None:
        self.on_hold = bool(event.get("on"))

    def _on_dtmf(self, event: dict[str, Any]) -> None:
        self.digits_received += str(event.get("digits", ""))

    def _on_devices(self, event: dict[str, Any]) -> None:
        self.inputs = [
            {"id": str(d.get("id", "")), "label": str(d.get("label", ""))} for d in event.get("inputs", [])
        ]
        self.outputs = [
            {"id": str(d.get("id", "")), "label": str(d.get("label", ""))} for d in event.get("outputs", [])
        ]

    def _on_audio_blocked(self, _event: dict[str, Any]) -> None:
        self.audio_blocked = True

    def _on_audio_unlocked(self, _event: dict[str, Any]) -> None:
        self.audio_blocked = False

    def _on_error(self, event: dict[str, Any]) -> None:
        code = str(event.get("code", ""))
        self.device_error_detail = str(event.get("message", ""))[:300]
        self.provider_code = str(event.get("twilio_code") or "")
        if code.startswith(("dial.error.", "call.error.")):
            self.device_error = code
        else:
            self.device_error = "device.error." + (code if code in DEVICE_ERRORS else "generic")
        if code in ("mic-denied", "mic-missing"):
            self.mic_problem = code
        if code == "signaling-lost":
            self.registered = False
        if self.call_state == "connecting":
            self.call_state = "ended"
            self.call_outcome = "failed"
