"""The softphone UI: dialer, call in progress, incoming-call banner, audio devices and help."""

from __future__ import annotations

from typing import Any

import reflex as rx

from call_center.components.monitor import monitored_notice
from call_center.components.transfer import transfer_button, transfer_section
from call_center.components.ui import T, alert, button, card, field
from call_center.components.voice_device import call_timer
from call_center.state.softphone import KEYS, SoftphoneState

S = SoftphoneState


KEY_IDS = {**{k: k for k in "0123456789"}, "*": "star", "#": "hash"}


def keypad(on_press: Any, label_key: str, testid: str = "key") -> rx.Component:
    """Twelve keys; `on_press(key)` is the event each sends (dial digit or DTMF)."""
    return rx.el.div(
        *[
            rx.el.button(
                key,
                on_click=on_press(key),
                class_name="key",
                type="button",
                aria_label=key,
                data_testid=f"{testid}-{KEY_IDS[key]}",
            )
            for key in KEYS
        ],
        role="group",
        aria_label=T[label_key],
        class_name="keypad",
        dir="ltr",
        data_testid=testid + "pad",
    )


def answer_buttons(
    on_accept: Any, on_reject: Any, *, class_name: str, size: int = 16, testid: str = "incoming"
) -> rx.Component:
    """Answer / Decline for a ringing call."""
    return rx.el.div(
        button(
            rx.icon("phone", size=size),
            T["call.accept"],
            variant="success",
            on_click=on_accept,
            type="button",
            data_testid=f"{testid}-accept",
        ),
        button(
            rx.icon("phone-off", size=size),
            T["call.reject"],
            variant="danger",
            on_click=on_reject,
            type="button",
            data_testid=f"{testid}-reject",
        ),
        class_name=class_name,
    )


def hangup_button(
    on_click: Any, *, size: int = 18, class_name: str = "", testid: str = "call-hangup"
) -> rx.Component:
    return button(
        rx.icon("phone-off", size=size),
        T["call.hangup"],
        variant="danger",
        on_click=on_click,
        type="button",
        class_name=class_name,
        data_testid=testid,
    )


def _registration() -> rx.Component:
    return rx.el.div(
        rx.el.span(
            class_name=rx.cond(S.registered, "status-dot status-available", "status-dot"), aria_hidden="true"
        ),
        rx.el.span(rx.cond(S.registered, T["device.registered"], T["device.connecting"])),
        class_name="registration",
        role="status",
        data_testid="phone-status",
        data_registered=rx.cond(S.registered, "true", "false"),
    )


def _number_feedback() -> rx.Component:
    return rx.cond(
        S.number_error != "",
        rx.el.p(
            T[S.number_error],
            class_name="feedback feedback-error",
            role="alert",
            id="number-feedback",
            data_testid="number-feedback",
        ),
        rx.cond(
            S.number_display != "",
            rx.el.p(
                rx.icon("circle-check", size=14),
                rx.el.span(S.number_display, class_name="num"),
                class_name="feedback feedback-ok",
                id="number-feedback",
                data_testid="number-feedback",
            ),
            rx.el.p("\u00a0", class_name="feedback", id="number-feedback", data_testid="number-feedback"),
        ),
    )


def _contact_search() -> rx.Component:
    return rx.el.div(
        rx.el.label(T["dial.contacts"], html_for="dial-contact-search", class_name="field-label"),
        rx.el.input(
            id="dial-contact-search",
            value=S.contact_query,
            on_change=S.search_contacts,
            type="search",
            auto_complete="off",
            class_name="input",
            data_testid="dial-contact-search",
        ),
        rx.cond(
            S.contact_results.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(
                rx.foreach(
                    S.contact_results,
                    lambda c: rx.el.li(
                        rx.el.button(
                            rx.el.span(c["name"], class_name="cell-title"),
                            rx.el.span(c["display"], class_name="num muted"),
                            on_click=S.choose_contact(c["phone"]),
                            class_name="suggestion",
                            type="button",
                            data_testid="dial-contact-suggestion",
                        )
                    ),
                ),
                class_name="suggestions",
                aria_label=T["dial.contacts"],
            ),
        ),
        class_name="field",
    )


def _recent() -> rx.Component:
    return rx.cond(
        S.recent.length() > 0,  # type: ignore[attr-defined]
        rx.el.div(
            rx.el.span(T["dial.recent"], class_name="field-label"),
            rx.el.div(
                rx.foreach(
                    S.recent,
                    lambda r: rx.el.button(
                        rx.cond(r["name"] != "", r["name"], r["display"]),
                        on_click=S.pick_number(r["number"]),
                        title=r["display"],
                        class_name="chip",
                        type="button",
                        data_testid="dial-recent",
                    ),
                ),
                class_name="chips",
            ),
            class_name="field",
        ),
    )


def _dialer() -> rx.Component:
    return rx.el.div(
        field(
            T["dial.number"],
            rx.el.div(
                rx.el.input(
                    id="dial-number",
                    value=S.number,
                    on_change=S.set_number,
                    placeholder=T["dial.placeholder"],
                    type="tel",
                    auto_complete="off",
                    dir="ltr",
                    class_name="input dial-input",
                    aria_describedby="number-feedback",
                    data_testid="dial-number",
                ),
                rx.el.button(
                    rx.icon("delete", size=18),
                    on_click=S.backspace,
                    aria_label=T["dial.backspace"],
                    class_name="btn btn-ghost icon-btn",
                    type="button",
                    data_testid="dial-backspace",
                ),
                class_name="dial-row",
            ),
            html_for="dial-number",
        ),
        _number_feedback(),
        keypad(S.press_key, "dial.keypad", "dial-key"),
        button(
            rx.icon("phone", size=18),
            T["dial.call"],
            on_click=S.dial,
            disabled=~S.can_dial,
            class_name="btn-call",
            type="button",
            data_testid="dial-call",
        ),
        rx.cond(
            S.echo_number != "",
            rx.el.p(
                T["dial.echo_hint"],
                " ",
                rx.el.button(
                    S.echo_number,
                    on_click=S.pick_number(S.echo_number),
                    class_name="link-btn num",
                    type="button",
                    data_testid="dial-echo",
                ),
                class_name="muted small",
            ),
        ),
        _contact_search(),
        _recent(),
        class_name="dialer",
    )


def _call_panel() -> rx.Component:
    state_label = rx.cond(
        S.on_hold,
        T["call.state.on-hold"],
        T["call.state." + S.call_state],
    )
    return rx.el.div(
        rx.el.div(
            rx.el.div(rx.icon("user-round", size=34), class_name="avatar"),
            rx.el.div(
                rx.cond(
                    S.call_remote_name != "",
                    rx.el.div(S.call_remote_name, class_name="remote-name", data_testid="call-remote-name"),
                ),
                rx.el.div(S.call_remote, class_name="remote-number num", data_testid="call-remote"),
                rx.el.div(
                    state_label,
                    class_name="call-state",
                    role="status",
                    aria_live="polite",
                    id="call-state",
                    data_testid="call-state",
                    data_state=rx.cond(S.on_hold, "on-hold", S.call_state),
                ),
                rx.cond(S.call_state == "in-progress", call_timer(since=S.call_started_ms)),
            ),
            class_name="call-head",
        ),
        rx.el.div(
            rx.el.button(
                rx.cond(S.muted, rx.icon("mic-off", size=18), rx.icon("mic", size=18)),
                rx.el.span(rx.cond(S.muted, T["call.unmute"], T["call.mute"])),
                on_click=S.toggle_mute,
                aria_pressed=S.muted,
                disabled=S.call_state != "in-progress",
                class_name=rx.cond(S.muted, "btn ctl active", "btn ctl"),
                type="button",
                data_testid="call-mute",
            ),
            rx.cond(
                S.hold_supported,
                rx.el.button(
                    rx.icon("pause", size=18),
                    rx.el.span(rx.cond(S.on_hold, T["call.resume"], T["call.hold"])),
                    on_click=S.toggle_hold,
                    aria_pressed=S.on_hold,
                    # during a transfer the customer's hold belongs to it (the service refuses it too)
                    disabled=(S.call_state != "in-progress") | (S.transfer_state != ""),
                    class_name=rx.cond(S.on_hold, "btn ctl active", "btn ctl"),
                    type="button",
                    data_testid="call-hold",
                ),
            ),
            rx.el.button(
                rx.icon("grid-3x3", size=18),
                rx.el.span(T["call.keypad"]),
                on_click=S.toggle_keypad,
                aria_pressed=S.keypad_open,
                disabled=S.call_state != "in-progress",
                class_name=rx.cond(S.keypad_open, "btn ctl active", "btn ctl"),
                type="button",
                data_testid="call-keypad",
            ),
            transfer_button(),
            class_name="call-controls",
        ),
        monitored_notice(),
        transfer_section(),
        rx.cond(S.keypad_open, keypad(S.press_key, "call.keypad", "call-key")),
        rx.cond(
            S.digits_sent != "",
            rx.el.p(
                T["call.sent_digits"],
                ": ",
                rx.el.span(S.digits_sent, class_name="num", id="digits-sent", data_testid="call-digits-sent"),
                class_name="muted small",
            ),
        ),
        rx.cond(
            S.digits_received != "",
            rx.el.p(
                T["call.received_digits"],
                ": ",
                rx.el.span(S.digits_received, class_name="num", data_testid="call-digits-received"),
                class_name="muted small",
            ),
        ),
        hangup_button(S.hangup, class_name="btn-call"),
        class_name="call-panel",
    )


def _ended() -> rx.Component:
    return rx.cond(
        S.call_state == "ended",
        alert(
            rx.el.span(T["call.outcome." + S.call_outcome]),
            rx.cond(
                S.call_reason_key != "",
                rx.el.span(" (", T[S.call_reason_key], ")", class_name="muted"),
                rx.cond(S.call_reason != "", rx.el.span(" (", S.call_reason, ")", class_name="muted")),
            ),
            kind="info",
            id="call-outcome",
            data_testid="call-outcome",
            data_outcome=S.call_outcome,
        ),
    )


def softphone_card() -> rx.Component:
    return card(
        rx.el.div(
            rx.el.h2(T["phone.title"], class_name="card-title"), _registration(), class_name="card-head"
        ),
        rx.cond(
            S.device_error != "",
            alert(
                T[S.device_error],
                rx.cond(
                    S.provider_code != "", rx.el.span(" (Twilio ", S.provider_code, ")", class_name="num")
                ),
                id="device-error",
                data_testid="device-error",
                data_code=S.device_error,
            ),
        ),
        rx.cond(
            S.warning != "",
            alert(T[S.warning], kind="warn", id="device-warning", data_testid="device-warning"),
        ),
        rx.cond(
            S.audio_blocked,
            alert(
                T["device.audio_blocked"],
                " ",
                button(
                    T["device.enable_audio"],
                    variant="ghost",
                    on_click=S.unlock_audio,
                    type="button",
                    data_testid="enable-audio",
                ),
                kind="warn",
            ),
        ),
        rx.cond(
            S.call_notice != "",
            alert(T[S.call_notice], kind="info", data_testid="call-notice", data_notice=S.call_notice),
        ),
        rx.cond(S.in_call, _call_panel(), rx.el.div(_ended(), _dialer())),
        class_name="softphone",
        data_testid="softphone",
    )


def incoming_banner() -> rx.Component:
    return rx.cond(
        S.incoming_sid != "",
        rx.el.div(
            rx.el.div(rx.icon("phone-incoming", size=22), class_name="ring-icon"),
            rx.el.div(
                rx.el.strong(T["call.incoming"]),
                rx.cond(
                    S.incoming_transfer_from != "",
                    rx.el.div(
                        T["transfer.incoming"],
                        " ",
                        S.incoming_transfer_from,
                        class_name="small",
                        data_testid="incoming-transfer-from",
                    ),
                ),
                rx.el.div(
                    rx.cond(S.incoming_name != "", S.incoming_name, T["call.unknown_caller"]),
                    class_name="caller",
                    data_testid="incoming-caller",
                ),
                rx.el.div(S.incoming_from, class_name="num muted", data_testid="incoming-from"),
            ),
            answer_buttons(S.accept, S.reject, class_name="banner-actions"),
            role="alertdialog",
            aria_label=T["call.incoming"],
            class_name="incoming-banner",
            data_testid="incoming-call",
        ),
    )


def _device_select(label_key: str, id_: str, options: Any, value: Any, on_change: Any) -> rx.Component:
    return field(
        T[label_key],
        rx.el.select(
            rx.el.option(T["device.default"], value=""),
            rx.foreach(options, lambda d: rx.el.option(d["label"], value=d["id"])),
            id=id_,
            value=value,
            on_change=on_change,
            class_name="select",
            data_testid=id_,
        ),
        html_for=id_,
    )


def devices_card() -> rx.Component:
    return card(
        rx.el.h2(T["device.title"], class_name="card-title"),
        _device_select("device.microphone", "mic-select", S.inputs, S.input_id, S.select_input),
        _device_select("device.speaker", "speaker-select", S.outputs, S.output_id, S.select_output),
        rx.el.div(
            rx.el.span(T["device.level"], class_name="field-label"),
            rx.el.div(
                rx.el.div(id="mic-level-bar", class_name="meter-bar"),
                class_name="meter",
                role="progressbar",
                aria_label=T["device.level"],
            ),
            class_name="field",
        ),
    )


def help_card() -> rx.Component:
    def item(key: str, highlight: rx.Var | bool = False) -> rx.Component:
        return rx.el.li(T[key], class_name=rx.cond(highlight, "help-item highlight", "help-item"))

    return card(
        rx.el.h2(rx.icon("life-buoy", size=18), T["help.title"], class_name="card-title"),
        rx.el.ul(
            item("help.mic_denied", S.mic_problem == "mic-denied"),
            item("help.mic_missing", S.mic_problem == "mic-missing"),
            item("help.https"),
            item("help.not_connecting"),
            item("help.recordings"),
            class_name="help-list",
        ),
        rx.cond(
            S.device_error_detail != "", rx.el.p(S.device_error_detail, class_name="muted small", dir="ltr")
        ),
        id="help",
        class_name=rx.cond(S.mic_problem != "", "help-card attention", "help-card"),
    )
