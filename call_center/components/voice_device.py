"""The browser phone (assets/voice_device.jsx) as Reflex components."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import no_args_event_spec, passthrough_event_spec

JSX = rx.asset("voice_device.jsx").importable_path
TWILIO_SDK = "@twilio/voice-sdk@2.18.5"


class VoiceDevice(rx.Component):
    """Registers the page's phone (agent softphone or simulated phone) and reports its events."""

    library = JSX
    tag = "VoiceDevice"
    lib_dependencies: list[str] = [TWILIO_SDK]

    mode: rx.Var[str]
    device_token: rx.Var[str]  # a simulated phone's registration, signed by the server
    reconnecting_text: rx.Var[str]  # shown by the page itself while the server cannot be reached
    on_event: rx.EventHandler[passthrough_event_spec(dict[str, Any])]  # type: ignore[type-arg,valid-type,unused-ignore]


class CallTimer(rx.Component):
    """mm:ss since `since` (browser milliseconds), ticking in the browser."""

    library = JSX
    tag = "CallTimer"

    since: rx.Var[int]


class Elapsed(rx.Component):
    """mm:ss from `seconds` on, ticking in the browser; restarts from `seconds` when `stamp` changes."""

    library = JSX
    tag = "Elapsed"

    seconds: rx.Var[int]
    stamp: rx.Var[int]
    digits: rx.Var[str]


class Countdown(rx.Component):
    """mm:ss left until `until` (browser milliseconds), ticking in the browser; `on_done` at zero."""

    library = JSX
    tag = "Countdown"

    until: rx.Var[int]
    on_done: rx.EventHandler[no_args_event_spec]  # type: ignore[type-arg,valid-type,unused-ignore]


def voice_device(**props: Any) -> rx.Component:
    from call_center.components.ui import T

    return VoiceDevice.create(reconnecting_text=T["device.warning.reconnecting"], **props)


call_timer = CallTimer.create
countdown = Countdown.create
elapsed = Elapsed.create
