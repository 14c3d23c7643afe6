"""The app frame: navigation, the agent, availability, language switch and logout around every page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from call_center.components.monitor import monitor_bar
from call_center.components.softphone import incoming_banner
from call_center.components.ui import T, native_form
from call_center.components.voice_device import voice_device
from call_center.core.config import get_settings
from call_center.state.session import SessionState
from call_center.state.softphone import SoftphoneState

NAV = (
    ("/call-center", "nav.call_center", "phone"),
    ("/history", "nav.history", "history"),
    ("/contacts", "nav.contacts", "contact"),
    ("/account", "nav.account", "user-round"),
)
# Pages only admins (or supervisors) may use: absent from everyone else's navigation (and refused by the
# page guard).
ADMIN_NAV = (("/settings", "nav.settings", "settings"),)
SUPERVISOR_NAV = (("/wallboard", "nav.wallboard", "monitor"), ("/reports", "nav.reports", "chart-column"))


def _nav_link(href: str, key: str, icon: str) -> rx.Component:
    current = SessionState.router.url.path == href
    return rx.el.a(
        rx.icon(icon, size=18),
        rx.el.span(T[key]),
        href=href,
        class_name=rx.cond(current, "nav-link active", "nav-link"),
        aria_current=rx.cond(current, "page", "false"),
        data_testid="nav-" + href.strip("/"),
    )


def _sidebar() -> rx.Component:
    links = [_nav_link(*item) for item in NAV]
    links += [rx.cond(SessionState.sees_every_call, _nav_link(*item)) for item in SUPERVISOR_NAV]
    links += [rx.cond(SessionState.is_admin, _nav_link(*item)) for item in ADMIN_NAV]
    if get_settings().TELEPHONY_PROVIDER == "local":
        links.append(_nav_link("/phone", "nav.phone", "smartphone"))
    return rx.el.aside(
        rx.el.div(rx.icon("headset", size=22), rx.el.span(T["app.short"]), class_name="brand"),
        rx.el.nav(*links, aria_label=T["nav.main"], class_name="nav"),
        class_name="sidebar",
    )


def _availability() -> rx.Component:
    return rx.el.div(
        rx.el.label(T["frame.availability"], html_for="availability", class_name="sr-only"),
        rx.el.span(class_name="status-dot status-" + SessionState.availability_kind, aria_hidden="true"),
        rx.el.select(
            rx.el.option(T["availability.available"], value="available"),
            rx.el.option(T["availability.away.break"], value="away:break"),
            rx.el.option(T["availability.away.meeting"], value="away:meeting"),
            rx.el.option(T["availability.away.training"], value="away:training"),
            rx.el.option(T["availability.away.missed"], value="away:missed", disabled=True, hidden=True),
            rx.el.option(T["availability.offline"], value="offline"),
            id="availability",
            value=SessionState.availability,
            on_change=SessionState.set_availability,
            class_name="select select-compact",
            data_testid="availability",
        ),
        class_name="availability",
    )


def _away_notice() -> rx.Component:
    """Set to away by the queue after missed calls: say so on every page until the agent is back."""
    return rx.cond(
        SessionState.availability == "away:missed",
        rx.el.div(
            T["queue.away_missed"], role="alert", class_name="alert alert-warn", data_testid="away-notice"
        ),
    )


def _topbar(title_key: str) -> rx.Component:
    return rx.el.header(
        rx.el.h1(T[title_key], class_name="topbar-title", data_testid="page-title"),
        rx.el.div(
            _availability(),
            rx.el.div(
                rx.el.span(SessionState.agent_name, class_name="agent-name", data_testid="agent-name"),
                rx.el.span(
                    T["role." + SessionState.role],
                    class_name="badge",
                    data_testid="agent-role",
                    data_role=SessionState.role,
                ),
                class_name="agent",
            ),
            rx.el.button(
                rx.icon("languages", size=16),
                rx.el.span(T["frame.switch_language"]),
                on_click=SessionState.toggle_language,
                aria_label=T["frame.switch_language_label"],
                class_name="btn btn-ghost",
                type="button",
                data_testid="language-switch",
            ),
            native_form(
                rx.el.button(
                    rx.icon("log-out", size=16),
                    rx.el.span(T["frame.logout"]),
                    class_name="btn btn-ghost",
                    type="submit",
                    data_testid="logout",
                ),
                action="/api/auth/logout",
            ),
            class_name="topbar-tools",
        ),
        class_name="topbar",
    )


def app_frame(
    title_key: str, body: Callable[[], rx.Component], *, softphone: bool = True
) -> Callable[[], rx.Component]:
    """Wrap a page body in the frame; nothing but a spinner shows until the session is confirmed.

    With `softphone` (every agent page), the agent's phone stays registered on the page and incoming calls
    ring wherever the agent is.
    """

    def page() -> rx.Component:
        phone = (
            [
                voice_device(mode="agent", on_event=SoftphoneState.on_device_event),
                incoming_banner(),
                monitor_bar(),
            ]
            if softphone
            else []
        )
        return rx.el.div(
            rx.cond(
                SessionState.is_authenticated,
                rx.el.div(
                    _sidebar(),
                    rx.el.div(
                        _topbar(title_key),
                        rx.el.main(*phone, _away_notice(), body(), class_name="content"),
                        class_name="main",
                    ),
                    class_name="shell",
                ),
                rx.el.div(
                    rx.el.div(class_name="spinner"), rx.el.span(T["frame.loading"]), class_name="loading"
                ),
            ),
            dir=SessionState.dir,
            lang=SessionState.lang,
            class_name="app",
            data_testid="app",
            data_lang=SessionState.lang,
        )

    return page


def public_frame(*children: Any) -> rx.Component:
    return rx.el.div(
        *children,
        dir=SessionState.dir,
        lang=SessionState.lang,
        class_name="app public",
        data_testid="app",
        data_lang=SessionState.lang,
    )
