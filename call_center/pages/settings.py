"""Settings: agents (admins only)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from call_center.components.queues_admin import queues_section
from call_center.components.ui import T, alert, button, card, field, text_input
from call_center.models import Role
from call_center.state.agents_admin import AgentsAdminState
from call_center.state.api_keys_admin import ApiKeysState
from call_center.state.dispositions_admin import DispositionsAdminState
from call_center.state.session import SessionState


def _agent_row(row: Any) -> rx.Component:
    is_me = row["id"] == SessionState.agent_id
    return rx.el.tr(
        rx.el.td(row["name"], rx.cond(is_me, rx.el.span(" ", T["agents.you"], class_name="muted"))),
        rx.el.td(row["email"], dir="ltr", class_name="cell-start"),
        rx.el.td(rx.el.span(T["role." + row["role"].to(str)], class_name="badge")),
        rx.el.td(
            rx.cond(
                row["is_active"],
                rx.el.span(T["agents.active"], class_name="badge badge-ok"),
                rx.el.span(T["agents.disabled"], class_name="badge badge-muted"),
            )
        ),
        rx.el.td(
            rx.el.div(
                button(
                    T["agents.edit"],
                    variant="ghost",
                    on_click=AgentsAdminState.open_edit(row["id"]),
                    aria_label=T["agents.edit"] + " " + row["name"].to(str),
                    type="button",
                    data_testid="agent-edit",
                ),
                rx.cond(
                    row["is_active"],
                    button(
                        T["agents.disable"],
                        variant="danger-ghost",
                        on_click=AgentsAdminState.set_active(row["id"], False),
                        aria_label=T["agents.disable"] + " " + row["name"].to(str),
                        disabled=is_me,
                        type="button",
                        data_testid="agent-disable",
                    ),
                    button(
                        T["agents.enable"],
                        variant="ghost",
                        on_click=AgentsAdminState.set_active(row["id"], True),
                        aria_label=T["agents.enable"] + " " + row["name"].to(str),
                        type="button",
                        data_testid="agent-enable",
                    ),
                ),
                class_name="row-actions",
            )
        ),
        data_testid="agent-row",
        data_agent_id=row["id"],
    )


def _agent_form() -> rx.Component:
    return card(
        rx.el.h2(
            rx.cond(AgentsAdminState.editing_id == 0, T["agents.add"], T["agents.edit"]),
            class_name="card-title",
        ),
        rx.cond(AgentsAdminState.form_error != "", alert(T[AgentsAdminState.form_error])),
        rx.el.form(
            rx.el.div(
                field(
                    T["agents.name"],
                    text_input(
                        "agent-name",
                        name="name",
                        default_value=AgentsAdminState.form_name,
                        required=True,
                        data_testid="agent-form-name",
                    ),
                    html_for="agent-name",
                ),
                field(
                    T["agents.email"],
                    text_input(
                        "agent-email",
                        name="email",
                        type="email",
                        default_value=AgentsAdminState.form_email,
                        required=True,
                        dir="ltr",
                        data_testid="agent-form-email",
                    ),
                    html_for="agent-email",
                ),
                field(
                    T["agents.role"],
                    rx.el.select(
                        rx.el.option(T["role.agent"], value=Role.AGENT),
                        rx.el.option(T["role.supervisor"], value=Role.SUPERVISOR),
                        rx.el.option(T["role.admin"], value=Role.ADMIN),
                        id="agent-role",
                        name="role",
                        default_value=AgentsAdminState.form_role,
                        class_name="select",
                        data_testid="agent-form-role",
                    ),
                    html_for="agent-role",
                ),
                field(
                    T["agents.password"],
                    text_input(
                        "agent-password",
                        name="password",
                        type="password",
                        auto_complete="new-password",
                        dir="ltr",
                        data_testid="agent-form-password",
                    ),
                    html_for="agent-password",
                    hint=T["agents.password_hint"],
                ),
                class_name="form-grid",
            ),
            rx.el.div(
                button(T["agents.save"], type="submit", data_testid="agent-save"),
                button(
                    T["agents.cancel"],
                    variant="ghost",
                    type="button",
                    on_click=AgentsAdminState.close_form,
                    data_testid="agent-cancel",
                ),
                class_name="form-actions",
            ),
            on_submit=AgentsAdminState.save,
            key=AgentsAdminState.editing_id,
            class_name="form",
        ),
        class_name="agent-form",
    )


def _agents_section() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.h2(T["agents.title"], class_name="section-title"),
            button(
                rx.icon("user-plus", size=16),
                T["agents.add"],
                on_click=AgentsAdminState.open_new,
                type="button",
                data_testid="agent-add",
            ),
            class_name="section-header",
        ),
        rx.cond(AgentsAdminState.notice != "", alert(T[AgentsAdminState.notice], kind="info")),
        rx.cond(AgentsAdminState.list_error != "", alert(T[AgentsAdminState.list_error])),
        rx.cond(AgentsAdminState.form_open, _agent_form()),
        card(
            rx.el.table(
                rx.el.thead(
                    rx.el.tr(
                        rx.el.th(T["agents.name"]),
                        rx.el.th(T["agents.email"]),
                        rx.el.th(T["agents.role"]),
                        rx.el.th(T["agents.status"]),
                        rx.el.th(T["agents.actions"]),
                    )
                ),
                rx.el.tbody(rx.foreach(AgentsAdminState.rows, _agent_row)),
                class_name="table",
                aria_label=T["agents.title"],
            ),
            class_name="table-card",
        ),
    )


def _key_row(row: Any) -> rx.Component:
    return rx.el.tr(
        rx.el.td(row["name"]),
        rx.el.td(rx.el.code(row["prefix"], "…"), dir="ltr", class_name="cell-start"),
        rx.el.td(row["created"], class_name="num"),
        rx.el.td(rx.cond(row["last_used"] != "", row["last_used"], T["apikeys.never"]), class_name="num"),
        rx.el.td(
            rx.cond(
                row["revoked"],
                rx.el.span(T["apikeys.revoked"], class_name="badge badge-muted"),
                button(
                    T["apikeys.revoke"],
                    variant="danger-ghost",
                    on_click=ApiKeysState.revoke(row["id"]),
                    aria_label=T["apikeys.revoke"] + " " + row["name"].to(str),
                    type="button",
                    data_testid="api-key-revoke",
                ),
            )
        ),
    )


def _api_keys_section() -> rx.Component:
    return rx.el.div(
        rx.el.h2(T["apikeys.title"], class_name="section-title"),
        rx.el.p(T["apikeys.intro"], class_name="muted small"),
        rx.cond(ApiKeysState.error != "", alert(T[ApiKeysState.error])),
        rx.cond(
            ApiKeysState.new_key != "",
            alert(
                T["apikeys.shown_once"],
                " ",
                rx.el.code(ApiKeysState.new_key, id="new-api-key", dir="ltr", data_testid="new-api-key"),
                kind="warn",
            ),
        ),
        rx.el.form(
            rx.el.label(T["apikeys.name"], html_for="api-key-name", class_name="sr-only"),
            rx.el.input(
                id="api-key-name",
                name="name",
                placeholder=T["apikeys.name"],
                class_name="input",
                required=True,
                data_testid="api-key-name",
            ),
            button(
                rx.icon("key-round", size=16),
                T["apikeys.create"],
                type="submit",
                data_testid="api-key-create",
            ),
            on_submit=ApiKeysState.create,
            reset_on_submit=True,
            class_name="dial-row search-form",
        ),
        card(
            rx.cond(
                ApiKeysState.keys.length() > 0,  # type: ignore[attr-defined]
                rx.el.table(
                    rx.el.thead(
                        rx.el.tr(
                            rx.el.th(T["apikeys.name"]),
                            rx.el.th("ID"),
                            rx.el.th(T["apikeys.created"]),
                            rx.el.th(T["apikeys.last_used"]),
                            rx.el.th(T["agents.actions"]),
                        )
                    ),
                    rx.el.tbody(rx.foreach(ApiKeysState.keys, _key_row)),
                    class_name="table",
                    aria_label=T["apikeys.title"],
                ),
                rx.el.p(T["apikeys.empty"], class_name="muted empty"),
            ),
            class_name="table-card",
        ),
        class_name="settings-section",
    )


def _disposition_row(row: Any) -> rx.Component:
    D = DispositionsAdminState
    return rx.el.tr(
        rx.el.td(row["name_ar"], dir="rtl"),
        rx.el.td(row["name_en"], dir="ltr", class_name="cell-start"),
        rx.el.td(
            rx.cond(
                row["is_active"],
                rx.el.span(T["dispositions.active"], class_name="badge badge-ok"),
                rx.el.span(T["dispositions.inactive"], class_name="badge badge-muted"),
            )
        ),
        rx.el.td(
            rx.cond(
                row["is_active"],
                button(
                    T["dispositions.deactivate"],
                    variant="ghost",
                    on_click=D.set_active(row["code"], False),
                    type="button",
                    data_testid="disposition-deactivate",
                ),
                button(
                    T["dispositions.activate"],
                    variant="ghost",
                    on_click=D.set_active(row["code"], True),
                    type="button",
                    data_testid="disposition-activate",
                ),
            )
        ),  # fmt: skip
        data_testid="disposition-row",
        data_code=row["code"],
    )


def _dispositions_section() -> rx.Component:
    D = DispositionsAdminState
    return rx.el.div(
        rx.el.h2(T["dispositions.title"], class_name="section-title"),
        rx.el.p(T["dispositions.intro"], class_name="muted small"),
        rx.cond(D.error != "", alert(T[D.error], data_testid="disposition-error")),
        rx.cond(D.notice != "", alert(T[D.notice], kind="info")),
        rx.el.form(
            rx.el.input(
                name="name_ar",
                placeholder=T["dispositions.name_ar"],
                aria_label=T["dispositions.name_ar"],
                class_name="input",
                dir="rtl",
                required=True,
                data_testid="disposition-name-ar",
            ),
            rx.el.input(
                name="name_en",
                placeholder=T["dispositions.name_en"],
                aria_label=T["dispositions.name_en"],
                class_name="input",
                dir="ltr",
                required=True,
                data_testid="disposition-name-en",
            ),
            button(
                rx.icon("plus", size=16), T["dispositions.add"], type="submit", data_testid="disposition-add"
            ),
            on_submit=D.add,
            reset_on_submit=True,
            class_name="dial-row search-form",
        ),  # fmt: skip
        card(
            rx.el.table(
                rx.el.thead(
                    rx.el.tr(
                        rx.el.th(T["dispositions.name_ar"]),
                        rx.el.th(T["dispositions.name_en"]),
                        rx.el.th(T["dispositions.status"]),
                        rx.el.th(T["agents.actions"]),
                    )
                ),
                rx.el.tbody(rx.foreach(D.rows, _disposition_row)),
                class_name="table",
                aria_label=T["dispositions.title"],
            ),
            class_name="table-card",
        ),
        class_name="settings-section",
    )


def settings_body() -> rx.Component:
    return rx.cond(
        SessionState.is_admin,
        rx.el.div(
            _agents_section(),
            queues_section(),
            _dispositions_section(),
            _api_keys_section(),
            class_name="settings",
        ),
        alert(T["page.forbidden"], kind="info"),
    )
