"""/phone: a simulated customer handset for the local provider (a second tab or browser)."""

from __future__ import annotations

import reflex as rx

from call_center.components.softphone import answer_buttons, hangup_button, keypad
from call_center.components.ui import T, alert, button, card, field
from call_center.components.voice_device import call_timer, voice_device
from call_center.state.phone import PhoneState

P = PhoneState


def _number_form() -> rx.Component:
    return rx.el.form(
        field(
            T["sim.number"],
            rx.el.div(
                rx.el.input(
                    id="sim-number",
                    value=P.number_input,
                    on_change=P.set_number_input,
                    dir="ltr",
                    class_name="input",
                    type="tel",
                    data_testid="phone-number",
                ),
                button(T["sim.use_number"], variant="ghost", type="submit", data_testid="phone-use-number"),
                class_name="dial-row",
            ),
            html_for="sim-number",
        ),
        rx.cond(P.number_error != "", alert(T[P.number_error])),
        on_submit=P.use_number,
        class_name="form",
    )


def _screen() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.span(
                class_name=rx.cond(P.registered, "status-dot status-available", "status-dot"),
                aria_hidden="true",
            ),
            T["sim.registered_as"],
            " ",
            rx.el.span(
                P.number_display,
                class_name="num",
                id="sim-registered-number",
                data_testid="phone-registered-number",
            ),
            class_name="registration",
            data_testid="phone-registration",
            data_registered=rx.cond(P.registered, "true", "false"),
            data_number=P.number,
        ),
        rx.match(
            P.state,
            (
                "incoming",
                rx.el.div(
                    rx.el.div(T["sim.ringing_from"]),
                    rx.el.div(P.remote_name, class_name="remote-name", data_testid="phone-caller-name"),
                    rx.el.div(P.remote, class_name="num", dir="ltr", data_testid="phone-caller"),
                    class_name="screen-call ringing",
                ),
            ),
            (
                "in-progress",
                rx.el.div(
                    rx.el.div(P.remote, class_name="num", dir="ltr"),
                    call_timer(since=P.started_ms),
                    class_name="screen-call",
                ),
            ),
            ("connecting", rx.el.div(T["call.state.connecting"], class_name="screen-call")),
            (
                "ringing",
                rx.el.div(
                    rx.cond(
                        P.closed,
                        T["sim.closed_title"],
                        rx.cond(P.voicemail, T["callbacks.voicemail"], T["call.state.ringing"]),
                    ),
                    rx.el.div(P.remote, class_name="num", dir="ltr"),
                    rx.cond(
                        P.voicemail,
                        rx.el.div(
                            rx.icon("voicemail", size=16),
                            " ",
                            T["sim.voicemail"],
                            class_name="queue-line",
                            role="status",
                            data_testid="phone-voicemail",
                        ),
                    ),  # fmt: skip
                    rx.cond(
                        P.closed,
                        rx.el.div(
                            rx.icon("clock", size=16),
                            " ",
                            rx.cond(P.closed_message != "", P.closed_message, T["queue.say.closed"]),
                            class_name="queue-line",
                            role="status",
                            data_testid="phone-closed",
                        ),
                    ),
                    rx.cond(
                        P.queue_position > 0,
                        rx.el.div(
                            T["sim.queue_position"],
                            " ",
                            rx.el.span(P.queue_position, class_name="num queue-position"),
                            class_name="queue-line",
                            data_testid="phone-queue-position",
                            data_position=P.queue_position,
                        ),
                    ),
                    class_name="screen-call",
                ),
            ),
            ("ended", rx.el.div(T["call.outcome." + P.outcome], class_name="screen-call")),
            rx.el.div(T["sim.idle"], class_name="screen-call muted"),
        ),
        class_name="sim-screen",
        data_testid="phone-screen",
        data_state=P.state,
        data_outcome=P.outcome,
    )


def _actions() -> rx.Component:
    return rx.match(
        P.state,
        ("incoming", answer_buttons(P.answer, P.reject, class_name="sim-actions", size=18, testid="phone")),
        ("in-progress", rx.el.div(hangup_button(P.hangup, testid="phone-hangup"), class_name="sim-actions")),
        ("ringing", rx.el.div(hangup_button(P.hangup, testid="phone-hangup"), class_name="sim-actions")),
        rx.el.div(
            button(
                rx.icon("building-2", size=18),
                T["sim.call_company"],
                on_click=P.call_company,
                disabled=~P.registered,
                type="button",
                data_testid="phone-call-company",
            ),
            rx.cond(
                P.company_numbers.length() > 1,  # type: ignore[attr-defined]
                rx.el.label(
                    T["sim.company_number"],
                    " ",
                    rx.el.select(
                        rx.foreach(
                            P.company_numbers,
                            lambda n: rx.el.option(n["label"], value=n["value"]),
                        ),
                        value=P.company_choice,
                        on_change=P.set_company_choice,
                        class_name="input num",
                        dir="ltr",
                        data_testid="phone-company-number",
                    ),
                    class_name="muted small",
                ),
                rx.el.span(
                    T["sim.company_number"],
                    ": ",
                    rx.el.span(P.company_number, class_name="num"),
                    class_name="muted small",
                ),
            ),
            class_name="sim-actions",
        ),
    )


def phone_body() -> rx.Component:
    return rx.el.div(
        voice_device(mode="phone", device_token=P.device_token, on_event=P.on_device_event),
        card(
            rx.el.h2(T["sim.title"], class_name="card-title"),
            rx.el.p(T["sim.intro"], class_name="muted"),
            _number_form(),
            class_name="sim-setup",
        ),
        card(
            _screen(),
            rx.cond(P.error != "", alert(T[P.error], id="sim-error", data_testid="phone-error")),
            _actions(),
            rx.cond(P.state == "in-progress", keypad(P.press_key, "call.keypad", "phone-key")),
            rx.el.p(
                T["call.received_digits"],
                ": ",
                rx.el.span(
                    P.digits_received,
                    class_name="num",
                    id="sim-digits-received",
                    data_testid="phone-digits-received",
                ),
                class_name="muted small",
            ),
            class_name="handset",
        ),
        class_name="sim-page",
    )
