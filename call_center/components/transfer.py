"""The transfer controls of the call in progress: the panel to start one, and a started one's status."""

from __future__ import annotations

from typing import Any

import reflex as rx

from call_center.components.ui import T, alert, button
from call_center.state.softphone import SoftphoneState
from call_center.state.transfer import TransferPanelState

S = SoftphoneState
P = TransferPanelState


def transfer_button() -> rx.Component:
    return rx.cond(
        S.transfer_supported,
        rx.el.button(
            rx.icon("phone-forwarded", size=18),
            rx.el.span(T["call.transfer"]),
            on_click=P.toggle_panel,
            aria_pressed=P.panel_open,
            aria_controls="transfer-panel",
            disabled=(S.call_state != "in-progress") | (S.transfer_state != "") | (S.transfer_role == "to"),
            class_name=rx.cond(P.panel_open, "btn ctl active", "btn ctl"),
            type="button",
            data_testid="call-transfer",
        ),
    )


def _mode_buttons(on_cold: Any, on_warm: Any, testid: str) -> rx.Component:
    return rx.el.div(
        button(
            rx.icon("phone-forwarded", size=14),
            T["transfer.cold"],
            on_click=on_cold,
            type="button",
            class_name="btn-sm",
            data_testid=f"{testid}-cold",
        ),
        button(
            rx.icon("messages-square", size=14),
            T["transfer.warm"],
            variant="ghost",
            on_click=on_warm,
            type="button",
            class_name="btn-sm",
            data_testid=f"{testid}-warm",
        ),
        class_name="transfer-modes",
    )


def _target(agent: Any) -> rx.Component:
    return rx.el.li(
        rx.el.span(
            rx.el.span(class_name="status-dot status-available", aria_hidden="true"),
            agent["name"],
            class_name="transfer-name",
        ),
        _mode_buttons(P.to_agent(agent["id"], "cold"), P.to_agent(agent["id"], "warm"), "transfer-agent"),
        class_name="transfer-target",
        data_testid="transfer-target",
        data_agent_id=agent["id"],
        data_agent_name=agent["name"],
    )


def _error() -> rx.Component:
    """Why the transfer could not start or move on (an i18n key from the service)."""
    return rx.cond(
        P.error != "",
        rx.el.p(T[P.error], class_name="feedback feedback-error", role="alert", data_testid="transfer-error"),
    )


def _panel() -> rx.Component:
    return rx.cond(
        P.panel_open & (S.transfer_state == ""),
        rx.el.section(
            rx.el.div(
                rx.el.h3(T["transfer.title"], class_name="section-title"),
                button(
                    rx.icon("refresh-cw", size=14),
                    T["transfer.refresh"],
                    variant="ghost",
                    on_click=P.refresh_targets,
                    type="button",
                    class_name="btn-sm",
                    data_testid="transfer-refresh",
                ),
                class_name="transfer-head",
            ),
            rx.el.span(T["transfer.agents"], class_name="field-label"),
            rx.cond(
                P.targets.length() > 0,  # type: ignore[attr-defined]
                rx.el.ul(rx.foreach(P.targets, _target), class_name="transfer-targets"),
                rx.el.p(T["transfer.no_agents"], class_name="muted small", data_testid="transfer-no-agents"),
            ),
            rx.el.label(T["transfer.number"], html_for="transfer-number", class_name="field-label"),
            rx.el.input(
                id="transfer-number",
                value=P.target_number,
                on_change=P.set_target_number,
                type="tel",
                dir="ltr",
                auto_complete="off",
                class_name="input",
                data_testid="transfer-number",
            ),
            rx.cond(
                P.target_number_display != "",
                rx.el.p(P.target_number_display, class_name="feedback feedback-ok num"),
            ),
            _mode_buttons(P.to_number("cold"), P.to_number("warm"), "transfer-number"),
            _error(),
            id="transfer-panel",
            class_name="transfer-panel",
            aria_label=T["transfer.title"],
            data_testid="transfer-panel",
        ),
    )


def _status() -> rx.Component:
    """A transfer I started: where it stands, and what I can do now."""
    return rx.cond(
        (S.transfer_state != "") & (S.transfer_role == "from"),
        rx.el.section(
            rx.el.p(
                rx.el.strong(T["transfer.state." + S.transfer_state]),
                " ",
                rx.el.span(S.transfer_target, data_testid="transfer-target-name"),
                rx.cond(S.transfer_state == "ringing", "…", ""),
                role="status",
                aria_live="polite",
            ),
            rx.cond(
                S.transfer_state != "conference",
                rx.el.p(rx.icon("pause", size=14), T["transfer.customer_held"], class_name="muted small"),
            ),
            rx.el.div(
                rx.cond(
                    S.transfer_state != "ringing",
                    button(
                        rx.icon("check", size=14),
                        T["transfer.complete"],
                        variant="success",
                        on_click=P.complete,
                        type="button",
                        data_testid="transfer-complete",
                    ),
                ),
                rx.cond(
                    S.transfer_state == "consulting",
                    button(
                        rx.icon("users", size=14),
                        T["transfer.talk_to_all"],
                        variant="ghost",
                        on_click=P.talk_to_all,
                        type="button",
                        data_testid="transfer-talk-all",
                    ),
                ),
                button(
                    rx.icon("undo-2", size=14),
                    T["transfer.cancel"],
                    variant="ghost",
                    on_click=P.cancel,
                    type="button",
                    data_testid="transfer-cancel",
                ),
                class_name="transfer-actions",
            ),
            _error(),
            class_name="transfer-status",
            data_testid="transfer-status",
            data_state=S.transfer_state,
            data_mode=S.transfer_mode,
        ),
    )


def transfer_section() -> rx.Component:
    return rx.el.div(
        _panel(),
        _status(),
        rx.cond(
            (S.transfer_state != "") & (S.transfer_role == "to"),
            rx.el.p(
                T["transfer.to_me"],
                " ",
                S.transfer_target,
                class_name="muted small",
                data_testid="transfer-to-me",
            ),
        ),
        rx.cond(
            S.transfer_notice != "",
            alert(
                T[S.transfer_notice],
                kind="warn",
                data_testid="transfer-notice",
                data_reason=S.transfer_notice,
            ),
        ),
    )
