"""The live wallboard (/wallboard): a tile per queue (waiting, longest wait, agents by state, today's
service level, abandonment and average wait) and a row per agent (state and for how long, current call,
calls today). A large-type mode suits a TV on the wall (`/wallboard?large=1`)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from call_center.components.monitor import monitor_buttons
from call_center.components.ui import T, button, card, empty_state
from call_center.components.voice_device import elapsed
from call_center.state.wallboard import WallboardState

W = WallboardState


def _figure(key: str, value: Any, testid: str, extra: str = "") -> rx.Component:
    return rx.el.div(
        rx.el.div(T[key], class_name="kpi-label"),
        rx.el.div(value, class_name="kpi-value " + extra),
        class_name="wb-figure",
        data_testid=testid,
    )


def _queue(q: Any) -> rx.Component:
    return rx.el.section(
        rx.el.div(
            rx.el.h2(q["name"], class_name="card-title"),
            rx.cond(
                q["alert"].to(bool),
                rx.el.span(rx.icon("triangle-alert", size=16), T["wallboard.no_one"],
                           class_name="badge badge-danger", role="status", data_testid="wb-alert"),
            ),
            class_name="card-head",
        ),
        rx.el.div(
            _figure("wallboard.waiting", q["waiting_text"], "wb-waiting",
                    rx.cond(q["waiting"].to(int) > 0, "wb-hot", "")),
            rx.el.div(
                rx.el.div(T["wallboard.longest"], class_name="kpi-label"),
                rx.el.div(
                    rx.cond(
                        q["waiting"].to(int) > 0,
                        elapsed(seconds=q["longest_wait"].to(int), stamp=W.version, digits=W.shown_digits),
                        rx.el.span("—", class_name="num"),
                    ),
                    class_name="kpi-value",
                ),
                class_name="wb-figure",
                data_testid="wb-longest",
            ),
            class_name="wb-main",
        ),
        rx.el.div(
            _figure("wallboard.available", q["available"], "wb-available", "wb-ok"),
            _figure("wallboard.on_call", q["on_call"], "wb-on-call"),
            _figure("wallboard.wrap_up", q["wrap_up"], "wb-wrap-up"),
            _figure("wallboard.away", q["away"], "wb-away", "wb-warn"),
            class_name="wb-row",
        ),
        rx.el.div(
            _figure("wallboard.offered", q["offered"], "wb-offered"),
            _figure("wallboard.sl", q["service_level"], "wb-sl"),
            _figure("wallboard.abandonment", q["abandonment"], "wb-abandonment"),
            _figure("wallboard.average_wait", q["average_wait"], "wb-average-wait"),
            class_name="wb-row",
        ),
        class_name="card wb-queue",
        data_testid="wb-queue",
        data_queue=q["code"],
        data_waiting=q["waiting"],
    )  # fmt: skip


def _state(a: Any) -> rx.Component:
    return rx.el.span(
        rx.el.span(class_name="status-dot wb-dot-" + a["state"].to(str), aria_hidden="true"),
        T["agent_state." + a["state"].to(str)],
        rx.cond(a["reason"] != "", rx.el.span(" · ", T["availability.away." + a["reason"].to(str)],
                                              class_name="muted")),
        class_name="wb-state",
    )  # fmt: skip


def _agent(a: Any) -> rx.Component:
    return rx.el.tr(
        rx.el.td(a["name"], class_name="cell-title"),
        rx.el.td(_state(a)),
        rx.el.td(
            rx.cond(a["state"] != "offline",
                    elapsed(seconds=a["in_state"].to(int), stamp=W.version, digits=W.shown_digits)),
            data_testid="wb-agent-for",
        ),
        rx.el.td(
            rx.cond(
                a["monitoring"] != "",
                rx.el.span(rx.icon("headphones", size=14), T["wallboard.monitoring"], " ",
                           rx.el.strong(a["monitoring"]), class_name="badge wb-monitoring",
                           data_testid="wb-agent-monitoring"),
            ),
            rx.cond(
                a["customer"] != "",
                rx.el.span(
                    rx.el.span(a["customer"], class_name="num"),
                    rx.cond(a["on_call"].to(bool), rx.el.span(" · ", elapsed(
                        seconds=a["call_seconds"].to(int), stamp=W.version, digits=W.shown_digits))),
                    class_name="wb-call",
                ),
            ),
            monitor_buttons(a),
            data_testid="wb-agent-call",
        ),
        rx.el.td(a["calls_today"], class_name="num", data_testid="wb-agent-today"),
        data_testid="wb-agent",
        data_agent_name=a["name"],
        data_state=a["state"],
        data_today=a["today"],
    )  # fmt: skip


def _agents() -> rx.Component:
    head = rx.el.thead(
        rx.el.tr(
            *(
                rx.el.th(T[f"wallboard.col.{c}"], scope="col")
                for c in ("agent", "state", "for", "call", "today")
            )
        )
    )
    return card(
        rx.el.h2(T["wallboard.agents"], class_name="card-title"),
        rx.cond(
            W.agent_rows.length() > 0,
            rx.el.div(
                rx.el.table(
                    head, rx.el.tbody(rx.foreach(W.agent_rows, _agent)), class_name="table wb-agents"
                ),
                class_name="table-wrap",
            ),
            empty_state(T["wallboard.no_agents"]),
        ),
        data_testid="wb-agents",
    )


def wallboard_body() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.span(
                rx.el.span(class_name="status-dot status-available", aria_hidden="true"),
                T["wallboard.live"],
                class_name="muted small wb-live",
            ),
            rx.el.span(T["wallboard.waiting_total"], ": ", rx.el.span(W.waiting_total, class_name="num"),
                       class_name="wb-total", data_testid="wb-waiting-total"),
            button(
                rx.icon(rx.cond(W.large, "minimize-2", "maximize-2"), size=16),
                rx.cond(W.large, T["wallboard.normal"], T["wallboard.large"]),
                variant="ghost", type="button", on_click=W.toggle_large, data_testid="wb-large",
            ),
            class_name="wb-toolbar",
        ),
        rx.el.div(rx.foreach(W.queue_tiles, _queue), class_name="wb-queues"),
        _agents(),
        class_name=rx.cond(W.large, "wallboard wb-large", "wallboard"),
        data_testid="wallboard",
        data_large=W.large,
        data_version=W.version,
    )  # fmt: skip
