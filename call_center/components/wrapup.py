"""The wrap-up panel (call-center page): after a call, its disposition, notes and tags, with a countdown."""

from __future__ import annotations

from typing import Any

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


def about_fields(prefix: str, options: Any, lang: Any, values: tuple, on_change: tuple) -> rx.Component:
    """What a call was about: disposition, notes, tags (the wrap-up panel, the call's detail view). Test ids
    and element ids are `<prefix>-disposition`, `<prefix>-notes`, `<prefix>-tags`."""
    disposition, notes, tags = values
    set_disposition, set_notes, set_tags = on_change

    def field(name: str, label: str, control: rx.Component) -> rx.Component:
        return rx.el.div(
            rx.el.label(T[label], html_for=f"{prefix}-{name}", class_name="field-label"),
            control,
            class_name="field",
        )

    return rx.el.div(
        field("disposition", "wrapup.disposition", rx.el.select(
            rx.el.option(T["wrapup.disposition.none"], value=""),
            rx.foreach(options, lambda o: rx.el.option(option_label(o, lang), value=o["code"])),
            id=f"{prefix}-disposition", value=disposition, on_change=set_disposition, class_name="select",
            data_testid=f"{prefix}-disposition",
        )),
        field("notes", "wrapup.notes", rx.el.textarea(
            id=f"{prefix}-notes", value=notes, on_change=set_notes, rows=3, max_length=4000,
            class_name="input", data_testid=f"{prefix}-notes",
        )),
        field("tags", "wrapup.tags", rx.el.input(
            id=f"{prefix}-tags", value=tags, on_change=set_tags, class_name="input",
            data_testid=f"{prefix}-tags",
        )),
        class_name="wrapup-form",
    )  # fmt: skip


def wrapup_card() -> rx.Component:
    form = about_fields(
        "wrapup", W.options, W.lang, (W.disposition, W.notes, W.tags),
        (W.set_disposition, W.set_notes.debounce(300), W.set_tags.debounce(300)),  # type: ignore[attr-defined]
    )  # fmt: skip
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
