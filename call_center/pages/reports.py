"""The KPI dashboard (/reports): headline figures, charts (volume, service level, calls by hour,
dispositions), the per-agent table, and what each figure means."""

from __future__ import annotations

from typing import Any

import reflex as rx

from call_center.components.ui import T, alert, button, card, empty_state
from call_center.state.reports import ReportsState
from call_center.state.session import SessionState

R = ReportsState
COLOURS = {"answered": "#0f766e", "abandoned": "#dc2626", "missed": "#d97706", "outbound": "#2563eb"}


def _filters() -> rx.Component:
    def day(key: str, name: str, value: Any) -> rx.Component:
        return rx.el.div(
            rx.el.label(T[key], html_for=f"reports-{name}", class_name="field-label"),
            rx.el.input(
                id=f"reports-{name}",
                type="date",
                value=value,
                class_name="input",
                dir="ltr",
                on_change=lambda v: R.set_filter(name, v),
                data_testid=f"reports-{name}",
            ),  # fmt: skip
            class_name="field",
        )

    def choice(key: str, name: str, id_: str, value: Any, all_key: str, options: Any) -> rx.Component:
        return rx.el.div(
            rx.el.label(T[key], html_for=f"reports-{id_}", class_name="field-label"),
            rx.el.select(
                rx.el.option(T[all_key], value=""),
                options,
                id=f"reports-{id_}",
                value=value,
                class_name="select",
                on_change=lambda v: R.set_filter(name, v),
                data_testid=f"reports-{id_}",
            ),  # fmt: skip
            class_name="field",
        )

    return rx.el.div(
        day("reports.from", "f_from", R.f_from),
        day("reports.to", "f_to", R.f_to),
        choice(
            "reports.queue",
            "f_queue",
            "queue",
            R.f_queue,
            "reports.all_queues",
            rx.foreach(
                R.queue_options,
                lambda q: rx.el.option(
                    rx.cond(SessionState.lang == "en", q["name_en"], q["name_ar"]), value=q["code"]
                ),
            ),
        ),  # fmt: skip
        choice(
            "reports.agent",
            "f_agent",
            "agent",
            R.f_agent,
            "reports.all_agents",
            rx.foreach(R.agent_options, lambda a: rx.el.option(a["name"], value=a["id"])),
        ),  # fmt: skip
        rx.el.div(
            *[
                button(
                    T[f"reports.preset.{days}"],
                    variant="ghost",
                    type="button",
                    on_click=R.preset(days),
                    data_testid=f"reports-preset-{days}",
                )  # fmt: skip
                for days in (0, 1, 7, 30)
            ],
            class_name="reports-presets",
        ),
        class_name="reports-filters",
    )


def _exports() -> rx.Component:
    """The dashboard as files: every table in one workbook, or one table as CSV."""

    def link(label: Any, query: str, testid: str) -> rx.Component:
        return rx.el.a(
            label,
            href="/api/reports/export?" + query + "&" + R.export_query,
            download=True,
            reload_document=True,  # a file download, not a page: keep React Router out of it
            class_name="btn btn-ghost btn-sm",
            data_testid=testid,
        )

    tables = (
        ("summary", "export.sheet.summary"), ("days", "export.sheet.days"), ("agents", "reports.per_agent"),
        ("dispositions", "reports.dispositions"), ("hours", "export.sheet.hours"),
    )  # fmt: skip
    return rx.el.div(
        rx.el.span(rx.icon("download", size=14), T["export.reports"], class_name="muted small"),
        link(T["export.reports.xlsx"], "format=xlsx", "reports-export-xlsx"),
        *(link(rx.el.span("CSV: ", T[key]), f"format=csv&table={table}", f"reports-export-csv-{table}")
          for table, key in tables),
        class_name="reports-exports",
        data_testid="reports-exports",
    )  # fmt: skip


def _cards() -> rx.Component:
    return rx.el.div(
        rx.foreach(
            R.cards,
            lambda c: rx.el.div(
                rx.el.div(T["reports.kpi." + c["key"]], class_name="kpi-label"),
                rx.el.div(c["value"], class_name="kpi-value num", data_testid="kpi-value"),
                class_name="kpi",
                data_testid="kpi",
                data_kpi=c["key"],
            ),
        ),
        class_name="kpi-grid",
    )


def _chart_card(title_key: str, chart: rx.Component, testid: str) -> rx.Component:
    return card(
        rx.el.h2(T[title_key], class_name="card-title"),
        rx.el.div(chart, class_name="chart", dir="ltr"),
        class_name="chart-card",
        data_testid=testid,
    )


def _volume() -> rx.Component:
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
        rx.recharts.x_axis(data_key="label", reversed=SessionState.dir == "rtl"),
        rx.recharts.y_axis(
            allow_decimals=False, orientation=rx.cond(SessionState.dir == "rtl", "right", "left")
        ),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(),
        *[
            rx.recharts.bar(
                data_key=key,
                stack_id="inbound" if key != "outbound" else "out",
                fill=colour,
                name=T["reports.series." + key],
                is_animation_active=False,
            )  # fmt: skip
            for key, colour in COLOURS.items()
        ],
        data=R.day_rows,
        width="100%",
        height=280,
    )


def _service_level() -> rx.Component:
    return rx.recharts.line_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
        rx.recharts.x_axis(data_key="label", reversed=SessionState.dir == "rtl"),
        rx.recharts.y_axis(
            domain=[0, 100], unit="%", orientation=rx.cond(SessionState.dir == "rtl", "right", "left")
        ),
        rx.recharts.graphing_tooltip(),
        rx.recharts.line(
            data_key="sl",
            stroke="#0f766e",
            stroke_width=2,
            connect_nulls=True,
            name=T["reports.kpi.service_level"],
            is_animation_active=False,
        ),  # fmt: skip
        data=R.day_rows,
        width="100%",
        height=280,
    )


def _dispositions() -> rx.Component:
    return rx.cond(
        R.disposition_rows.length() > 0,
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
            rx.recharts.x_axis(type_="number", allow_decimals=False),
            rx.recharts.y_axis(data_key="name", type_="category", width=130),
            rx.recharts.graphing_tooltip(),
            rx.recharts.bar(
                data_key="count", fill="#7c3aed", name=T["reports.series.calls"], is_animation_active=False
            ),
            data=R.disposition_rows,
            layout="vertical",
            width="100%",
            height=280,
        ),
        rx.el.p(T["reports.no_dispositions"], class_name="muted"),
    )


def _heat_map() -> rx.Component:
    return card(
        rx.el.h2(T["reports.by_hour"], class_name="card-title"),
        rx.el.div(
            rx.el.table(
                rx.el.thead(
                    rx.el.tr(
                        rx.el.th(""),
                        rx.foreach(R.hour_labels, lambda h: rx.el.th(h, class_name="num", scope="col")),
                    )
                ),
                rx.el.tbody(
                    rx.foreach(
                        R.heat,
                        lambda row: rx.el.tr(
                            rx.el.th(row["day"], scope="row"),
                            rx.foreach(
                                row["cells"].to(list[dict]),
                                lambda c: rx.el.td(
                                    rx.cond(c["level"].to(int) > 0, c["n"], ""),
                                    class_name="heat-cell heat-" + c["level"].to(str),
                                    title=c["n"].to(str),
                                ),
                            ),
                        ),
                    )
                ),
                class_name="heat-map",
                data_testid="reports-heat-map",
            ),
            class_name="table-wrap",
        ),
        class_name="chart-card chart-wide",
    )


def _agents_table() -> rx.Component:
    columns = (
        "name", "handled", "talk", "aht", "occupancy", "missed",
        "s_available", "s_on-call", "s_wrap-up", "s_away",
    )  # fmt: skip
    return card(
        rx.el.h2(T["reports.per_agent"], class_name="card-title"),
        rx.cond(
            R.agent_rows.length() > 0,
            rx.el.div(
                rx.el.table(
                    rx.el.thead(rx.el.tr(*[rx.el.th(T["reports.col." + c], scope="col") for c in columns])),
                    rx.el.tbody(
                        rx.foreach(
                            R.agent_rows,
                            lambda a: rx.el.tr(
                                *[rx.el.td(a[c], class_name="" if c == "name" else "num") for c in columns],
                                data_testid="reports-agent-row",
                            ),
                        )
                    ),
                    class_name="table",
                ),
                class_name="table-wrap",
            ),
            rx.el.p(T["reports.no_agents"], class_name="muted"),
        ),
    )


def _definitions() -> rx.Component:
    keys = ("offered", "short", "sl", "sl_abandons", "asa", "abandonment", "aht", "occupancy", "day")
    return card(
        rx.el.details(
            rx.el.summary(T["reports.definitions"], class_name="card-title"),
            rx.el.dl(
                *[
                    rx.fragment(rx.el.dt(T[f"reports.def.{k}.term"]), rx.el.dd(T[f"reports.def.{k}"]))
                    for k in keys
                ],
                class_name="definitions",
            ),
            rx.el.p(
                T["reports.threshold_is"],
                " ",
                rx.el.span(R.threshold_note, class_name="num"),
                " ",
                T["reports.seconds"],
                " · ",
                T["reports.short_is"],
                " ",
                rx.el.span(R.short_note, class_name="num"),
                " ",
                T["reports.seconds"],
                class_name="muted small",
                data_testid="reports-thresholds",
            ),  # fmt: skip
            open=True,
        ),
        data_testid="reports-definitions",
    )


def reports_body() -> rx.Component:
    return rx.el.div(
        card(_filters()),
        rx.cond(R.error != "", alert(T[R.error], data_testid="reports-error")),
        rx.cond(
            R.has_calls,
            rx.fragment(
                _exports(),
                _cards(),
                rx.el.p(T["reports.short_excluded"], class_name="muted small"),
                rx.el.div(
                    _chart_card("reports.volume", _volume(), "reports-volume"),
                    _chart_card("reports.sl_over_time", _service_level(), "reports-sl"),
                    class_name="chart-grid",
                ),
                rx.el.div(
                    _heat_map(),
                    _chart_card("reports.dispositions", _dispositions(), "reports-dispositions"),
                    class_name="chart-grid",
                ),
                _agents_table(),
            ),
            card(empty_state(T["reports.empty"])),
        ),
        _definitions(),
        class_name="reports",
        data_testid="reports",
    )
