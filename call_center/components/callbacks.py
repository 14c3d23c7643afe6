"""The callback list card (call-center page): customers to call back, newest first, live."""

from __future__ import annotations

from typing import Any

import reflex as rx

from call_center.components.ui import T, alert, button, card, empty_state, localized
from call_center.state.callbacks import CallbacksState as C
from call_center.state.softphone import SoftphoneState


def _item(row: Any) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.cond(row["contact"] != "", rx.el.div(row["contact"], class_name="cell-title")),
            rx.el.div(row["number_display"], class_name="num", dir="ltr"),
            rx.el.div(
                rx.el.span(T["callbacks.reason." + row["reason"].to(str)], class_name="badge badge-warn"),
                rx.cond(
                    row["attempts"].to(int) > 1,
                    rx.el.span("×", row["attempts"], class_name="badge badge-muted num",
                               title=T["callbacks.attempts"], data_testid="callback-attempts"),
                ),
                rx.el.span(localized(row, "last"), class_name="num muted small", data_testid="callback-last"),
                rx.cond(
                    row["status"] == "claimed",
                    rx.el.span(
                        rx.icon("user-check", size=12), " ", row["claimed_by"], class_name="muted small",
                        data_testid="callback-claimed-by",
                    ),
                ),
                class_name="call-meta",
            ),
            rx.cond(
                row["voicemail_url"] != "",
                rx.el.div(
                    rx.el.audio(src=row["voicemail_url"], controls=True, preload="none",
                                aria_label=T["callbacks.voicemail"], data_testid="callback-voicemail"),
                    rx.el.a(rx.icon("download", size=14), " ", T["callbacks.voicemail_download"],
                            href=row["voicemail_download"], class_name="link small",
                            data_testid="callback-voicemail-download"),
                    class_name="voicemail",
                ),
            ),
        ),
        rx.el.div(
            rx.cond(
                row["status"] == "open",
                button(T["callbacks.claim"], variant="ghost", on_click=C.claim(row["id"]), type="button",
                       data_testid="callback-claim"),
            ),
            rx.cond(
                row["mine"],
                button(T["callbacks.release"], variant="ghost", on_click=C.release(row["id"]), type="button",
                       data_testid="callback-release"),
            ),
            rx.cond(
                (row["status"] == "open") | row["mine"].to(bool),
                button(
                    rx.icon("phone-outgoing", size=16), T["callbacks.call"], on_click=C.call_back(row["id"]),
                    disabled=SoftphoneState.in_call, type="button", data_testid="callback-call",
                    aria_label=T["callbacks.call"] + " " + row["number_display"].to(str),
                ),
            ),
            class_name="actions",
        ),
        class_name="panel-item callback-item",
        data_testid="callback-item",
        data_id=row["id"],
        data_number=row["number"],
        data_status=row["status"],
        data_attempts=row["attempts"],
        data_reason=row["reason"],
        key=row["id"],
    )  # fmt: skip


def callbacks_card() -> rx.Component:
    return card(
        rx.el.div(
            rx.el.h2(
                T["callbacks.title"],
                " ",
                rx.el.span(C.rows.length(), class_name="badge num"),  # type: ignore[attr-defined]
                class_name="card-title",
            ),
            class_name="card-head",
        ),  # fmt: skip
        rx.cond(C.error != "", alert(T[C.error], data_testid="callback-error")),
        rx.cond(
            C.rows.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(
                rx.foreach(C.rows, _item),
                class_name="panel-list",
                aria_label=T["callbacks.title"],
                data_testid="callbacks",
            ),
            empty_state(T["callbacks.empty"]),
        ),  # fmt: skip
        class_name="callbacks-panel",
        data_testid="callbacks-panel",
    )
