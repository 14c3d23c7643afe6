"""Settings > Queues: the list of queues and the form an admin sets one up with."""

from __future__ import annotations

from typing import Any

import reflex as rx

from call_center.components.ui import T, alert, button, card, field, text_input
from call_center.services.routing import STRATEGIES
from call_center.state.queues_admin import QueuesAdminState
from call_center.state.session import SessionState

Q = QueuesAdminState


def _name(row: Any) -> rx.Var:
    return rx.cond(SessionState.dir == "rtl", row["name_ar"], row["name_en"])


def _row(row: Any) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.el.strong(_name(row)), rx.el.div(row["code"], class_name="muted small num", dir="ltr")),
        rx.el.td(T["queues.strategy." + row["strategy"].to(str)], class_name="small"),
        rx.el.td(
            rx.el.span(row["ring_seconds"], class_name="num"),
            " / ",
            rx.el.span(row["max_wait_seconds"], class_name="num"),
            " / ",
            rx.el.span(row["wrapup_seconds"], class_name="num"),
            class_name="small",
        ),
        rx.el.td(rx.cond(row["members"] != "", row["members"], T["queues.members_all"]), class_name="small"),
        rx.el.td(row["numbers"], class_name="num small", dir="ltr"),
        rx.el.td(
            rx.cond(
                row["always_open"],
                rx.el.span(T["queues.always_open"], class_name="badge badge-ok"),
                rx.cond(
                    row["open_now"],
                    rx.el.span(T["queues.open_now"], class_name="badge badge-ok"),
                    rx.el.span(T["queues.closed_now"], class_name="badge badge-muted"),
                ),
            ),
            data_testid="queue-open",
            data_open=rx.cond(row["open_now"], "true", "false"),
        ),
        rx.el.td(rx.el.span(row["waiting"], class_name="num")),
        rx.el.td(
            rx.el.div(
                button(
                    rx.icon("pencil", size=14),
                    T["queues.edit"],
                    variant="ghost",
                    type="button",
                    on_click=Q.open_edit(row["code"]),
                    data_testid="queue-edit",
                ),
                rx.cond(
                    row["removable"],
                    button(
                        rx.icon("trash-2", size=14),
                        T["queues.remove"],
                        variant="ghost",
                        type="button",
                        on_click=Q.remove(row["code"]),
                        data_testid="queue-remove",
                    ),
                ),
                class_name="row-actions",
            )
        ),
        data_testid="queue-row",
        data_code=row["code"],
    )


def _input(name: str, *, numeric: bool = False, **props: Any) -> rx.Component:
    hint = props.pop("hint", None)
    return field(
        T["queues." + name],
        text_input(
            f"queue-{name}",
            value=Q.form[name],
            on_change=lambda value: Q.set_form(name, value),
            inputmode="numeric" if numeric else None,
            placeholder=T["queues.default_value"] if numeric else None,
            data_testid=f"queue-form-{name.replace('_', '-')}",
            **props,
        ),
        html_for=f"queue-{name}",
        hint=hint,
    )


def _member(agent: Any) -> rx.Component:
    return rx.el.label(
        rx.el.input(
            type="checkbox",
            checked=Q.form_members.contains(agent["id"]),  # type: ignore[attr-defined]
            on_change=lambda on: Q.toggle_member(agent["id"], on),
            data_testid="queue-form-member",
            data_agent_id=agent["id"],
        ),
        " ",
        agent["name"],
        class_name="check",
    )


def _hour(day: Any, index: Any) -> rx.Component:
    return rx.el.div(
        rx.el.label(T["queues.day." + index.to(str)], html_for=f"queue-hours-{index}", class_name="small"),
        rx.el.input(
            id=f"queue-hours-{index}",
            value=day,
            on_change=lambda value: Q.set_hour(index, value),
            placeholder="09:00-17:00",
            class_name="input num",
            dir="ltr",
            data_testid="queue-form-hours",
            data_day=index,
        ),
        class_name="hours-day",
    )


def _form() -> rx.Component:
    return card(
        rx.el.h2(rx.cond(Q.editing == "", T["queues.add"], T["queues.edit"]), class_name="card-title"),
        rx.cond(Q.form_error != "", alert(T[Q.form_error], data_testid="queue-error")),
        rx.el.div(
            _input("name_ar", dir="rtl"),
            _input("name_en", dir="ltr"),
            field(
                T["queues.strategy"],
                rx.el.select(
                    rx.el.option(T["queues.strategy.default"], value=""),
                    *[rx.el.option(T[f"queues.strategy.{s}"], value=s) for s in STRATEGIES],
                    id="queue-strategy",
                    value=Q.form["strategy"],
                    on_change=lambda value: Q.set_form("strategy", value),
                    class_name="select",
                    data_testid="queue-form-strategy",
                ),
                html_for="queue-strategy",
            ),
            _input("ring_seconds", numeric=True, dir="ltr"),
            _input("max_wait_seconds", numeric=True, dir="ltr"),
            _input("announce_seconds", numeric=True, dir="ltr"),
            _input("wrapup_seconds", numeric=True, dir="ltr"),
            _input("numbers", dir="ltr", hint=T["queues.numbers_hint"]),
            class_name="form-grid",
        ),
        rx.el.fieldset(
            rx.el.legend(T["queues.members"], class_name="field-label"),
            rx.el.small(T["queues.members_hint"], class_name="field-hint"),
            rx.el.div(rx.foreach(Q.agent_options, _member), class_name="checks"),
            class_name="fieldset",
        ),
        rx.el.fieldset(
            rx.el.legend(T["queues.hours"], class_name="field-label"),
            rx.el.small(T["queues.hours_hint"], class_name="field-hint"),
            rx.el.div(rx.foreach(Q.form_hours, _hour), class_name="hours-grid"),
            class_name="fieldset",
        ),
        rx.el.div(
            _input("closed_message_ar", dir="rtl"),
            _input("closed_message_en", dir="ltr"),
            class_name="form-grid",
        ),
        rx.el.small(T["queues.closed_message_hint"], class_name="field-hint"),
        rx.el.div(
            button(T["queues.save"], type="button", on_click=Q.save, data_testid="queue-save"),
            button(
                T["queues.cancel"],
                variant="ghost",
                type="button",
                on_click=Q.close_form,
                data_testid="queue-cancel",
            ),  # fmt: skip
            class_name="form-actions",
        ),
        class_name="queue-form",
        data_testid="queue-form",
    )


def queues_section() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.h2(T["queues.title"], class_name="section-title"),
            button(
                rx.icon("plus", size=16),
                T["queues.add"],
                on_click=Q.open_new,
                type="button",
                data_testid="queue-add",
            ),  # fmt: skip
            class_name="section-header",
        ),
        rx.el.p(T["queues.intro"], class_name="muted small"),
        rx.cond(Q.notice != "", alert(T[Q.notice], kind="info", data_testid="queue-notice")),
        rx.cond((Q.form_error != "") & ~Q.form_open, alert(T[Q.form_error])),
        rx.cond(Q.form_open, _form()),
        card(
            rx.el.table(
                rx.el.thead(
                    rx.el.tr(
                        rx.el.th(T["queues.name"]),
                        rx.el.th(T["queues.strategy"]),
                        rx.el.th(T["queues.timings"]),
                        rx.el.th(T["queues.members"]),
                        rx.el.th(T["queues.numbers"]),
                        rx.el.th(T["queues.hours"]),
                        rx.el.th(T["queues.waiting"]),
                        rx.el.th(T["agents.actions"]),
                    )
                ),
                rx.el.tbody(rx.foreach(Q.rows, _row)),
                class_name="table",
                aria_label=T["queues.title"],
            ),
            class_name="table-card",
        ),
        class_name="settings-section",
        data_testid="queues-section",
    )
