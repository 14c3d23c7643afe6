"""Monitoring a live call: the wallboard's listen / whisper / barge buttons on an agent's row, the bar a
monitoring supervisor sees on every page (mode switch, stop), and the notice on the agent's softphone."""

from __future__ import annotations

from typing import Any

import reflex as rx

from call_center.components.ui import T
from call_center.services.monitoring import MODES
from call_center.state.monitor import MonitorState
from call_center.state.softphone import SoftphoneState

S = SoftphoneState
ICONS = {"listen": "headphones", "whisper": "message-circle", "barge": "users"}


def monitor_buttons(row: Any) -> rx.Component:
    """Listen, whisper, barge for a wallboard row whose agent is on a call (never one's own call)."""
    return rx.cond(
        row["on_call"].to(bool)
        & (row["call_id"].to(int) > 0)
        & (row["id"].to(int) != S.agent_id)
        & (row["monitoring"] == ""),  # (a supervisor monitoring: listen to the agent's own row)
        rx.el.div(
            *(
                rx.el.button(
                    rx.icon(ICONS[mode], size=15),
                    rx.el.span(T[f"monitor.{mode}"]),
                    on_click=MonitorState.start(row["call_id"].to(int), mode),
                    disabled=(S.monitor_sid != "") | ~S.registered,  # the page's phone carries the leg
                    class_name="btn btn-ghost btn-sm",
                    type="button",
                    title=T[f"monitor.{mode}.hint"],
                    data_testid=f"wb-{mode}",
                )
                for mode in MODES
            ),
            class_name="wb-monitor",
            role="group",
            aria_label=T["monitor.actions"],
        ),
    )


def monitor_bar() -> rx.Component:
    """While a supervisor monitors a call: whose call, the mode (switchable), stop. Or why it stopped."""
    mode_buttons = [
        rx.el.button(
            rx.icon(ICONS[mode], size=15),
            rx.el.span(T[f"monitor.{mode}"]),
            on_click=MonitorState.switch_mode(mode),
            aria_pressed=S.monitor_mode == mode,
            disabled=S.monitor_state != "live",
            class_name=rx.cond(S.monitor_mode == mode, "btn btn-sm ctl active", "btn btn-sm ctl"),
            type="button",
            data_testid=f"monitor-mode-{mode}",
        )
        for mode in MODES
    ]
    return rx.fragment(
        rx.cond(
            S.monitor_sid != "",
            rx.el.div(
                rx.el.div(rx.icon(ICONS["listen"], size=20), class_name="ring-icon"),
                rx.el.div(
                    rx.el.strong(
                        rx.cond(S.monitor_state == "live", T["monitor.bar.live"], T["monitor.bar.connecting"])
                    ),
                    rx.el.div(
                        S.monitor_agent,
                        rx.cond(S.monitor_customer != "", rx.el.span(" · ", rx.el.span(S.monitor_customer,
                                                                                           class_name="num"))),
                        class_name="small",
                        data_testid="monitor-who",
                    ),
                    rx.el.div(T["monitor.mode." + S.monitor_mode + ".explain"],
                              class_name="muted small", data_testid="monitor-explain"),
                ),
                rx.el.div(
                    *mode_buttons,
                    rx.el.button(
                        rx.icon("phone-off", size=15),
                        rx.el.span(T["monitor.stop"]),
                        on_click=MonitorState.stop,
                        class_name="btn btn-sm btn-danger",
                        type="button",
                        data_testid="monitor-stop",
                    ),
                    class_name="banner-actions",
                ),
                role="status",
                aria_live="polite",
                class_name="incoming-banner monitor-bar",
                data_testid="monitor-bar",
                data_state=S.monitor_state,
                data_mode=S.monitor_mode,
            ),
        ),
        rx.cond(
            S.monitor_error != "",
            rx.el.div(
                rx.el.span(T[S.monitor_error]),
                rx.el.button(rx.icon("x", size=14), on_click=MonitorState.dismiss_error, type="button",
                             aria_label=T["monitor.dismiss"], class_name="btn btn-ghost btn-sm"),
                role="alert",
                class_name="alert alert-error monitor-error",
                data_testid="monitor-error",
                data_code=S.monitor_error,
            ),
        ),
    )  # fmt: skip


def monitored_notice() -> rx.Component:
    """On the agent's softphone: who monitors this call, and how (the agent always knows)."""
    return rx.cond(
        S.monitors.length() > 0,  # type: ignore[attr-defined]
        rx.el.div(
            rx.icon("headphones", size=16),
            rx.foreach(
                S.monitors,
                lambda m: rx.el.span(
                    T["monitor.by." + m["mode"].to(str)],
                    " ",
                    rx.el.strong(m["name"]),
                    class_name="monitored-by",
                    data_mode=m["mode"],
                ),
            ),
            role="status",
            aria_live="polite",
            class_name="alert alert-info monitored",
            data_testid="call-monitored",
        ),
    )
