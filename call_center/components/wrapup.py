"""The wrap-up panel (call-center page): after a call, its disposition, notes and tags, with a countdown."""

from __future__ import annotations

import reflex as rx

from call_center.components.ui import T, alert, button, card
from call_center.components.voice_device import countdown
from call_center.state.wrapup import WrapupState as W
from call_center.state.wrapup import option_label


def _message() -> rx.Component:
    return rx.cond(
        W.message != "",
        rx.cond(
            W.message_kind == "ok",
            alert(T[W.message], kind="info", data_testid="wrapup-message", data_kind="ok"),
            alert(T[W.message], data_testid="wrapup-message", data_kind="error"),
        ),
    )


def wrapup_card() -> rx.Component:
    form = rx.el.div(
        rx.el.div(
            rx.el.label(T["wrapup.disposition"], html_for="wrapup-disposition", class_name="field-label"),
            rx.el.select(
                rx.el.option(T["wrapup.disposition.none"], value=""),
                rx.foreach(W.options, lambda o: rx.el.option(option_label(o, W.lang), value=o["code"])),
                id="wrapup-disposition",
                value=W.disposition,
                on_change=W.set_disposition,
                class_name="select",
                data_testid="wrapup-disposition",
            ),
            class_name="field",
        ),
        rx.el.div(
            rx.el.label(T["wrapup.notes"], html_for="wrapup-notes", class_name="field-label"),
            rx.el.textarea(
                id="wrapup-notes",
                value=W.notes,
                on_change=W.set_notes.debounce(300),  # type: ignore[attr-defined]
                rows=3,
                max_length=4000,
                class_name="input",
                data_testid="wrapup-notes",
            ),
            class_name="field",
        ),
        rx.el.div(
            rx.el.label(T["wrapup.tags"], html_for="wrapup-tags", class_name="field-label"),
            rx.el.input(
                id="wrapup-tags",
                value=W.tags,
                on_change=W.set_tags.debounce(300),  # type: ignore[attr-defined]
                class_name="input",
                data_testid="wrapup-tags",
            ),
            class_name="field",
        ),
        class_name="wrapup-form",
    )
    return rx.cond(
        W.open,
        card(
            rx.el.div(
                rx.el.h2(T["wrapup.title"], class_name="card-title"),
                rx.cond(
                    W.in_wrapup,
                    rx.el.div(
                        rx.el.span(T["wrapup.time_left"], class_name="muted small"),
                        countdown(until=W.until_ms, on_done=W.time_up),
                        class_name="wrapup-timer",
                        data_testid="wrapup-countdown",
                    ),
                ),
                class_name="card-head",
            ),
            rx.el.p(
                T["wrapup.call_with"],
                " ",
                rx.cond(W.customer_name != "", rx.el.span(W.customer_name, " ", class_name="cell-title")),
                rx.el.span(W.customer, class_name="num", dir="ltr"),
                class_name="muted",
                data_testid="wrapup-customer",
            ),
            rx.cond(
                W.in_wrapup,
                rx.el.p(T["wrapup.intro"], class_name="muted small"),
                alert(T["wrapup.over"], kind="warn", data_testid="wrapup-over"),
            ),
            form,
            _message(),
            rx.el.div(
                button(
                    rx.icon("check", size=16),
                    T["wrapup.done"],
                    on_click=W.done,
                    type="button",
                    data_testid="wrapup-done",
                ),  # fmt: skip
                button(
                    T["wrapup.save"],
                    variant="ghost",
                    on_click=W.save,
                    type="button",
                    data_testid="wrapup-save",
                ),
                rx.cond(
                    W.in_wrapup,
                    button(
                        rx.icon("timer", size=16),
                        T["wrapup.extend"],
                        variant="ghost",
                        on_click=W.extend,
                        disabled=W.extended,
                        type="button",
                        data_testid="wrapup-extend",
                    ),  # fmt: skip
                ),
                class_name="actions",
            ),
            class_name="wrapup-card",
            data_testid="wrapup-panel",
            data_call_id=W.call_id,
            data_state=rx.cond(W.in_wrapup, "running", "over"),
        ),
    )
