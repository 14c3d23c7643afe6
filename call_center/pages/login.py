"""The login page: a plain form posting to /api/auth/login, which sets the HttpOnly session cookie."""

from __future__ import annotations

import reflex as rx

from call_center.components.frame import public_frame
from call_center.components.ui import T, alert, button, field, native_form, text_input
from call_center.state.guard import public
from call_center.state.session import SessionState

ERRORS = ("invalid", "disabled", "rate_limited", "expired", "missing", "forbidden")


class LoginState(SessionState):
    """What the login page shows: an error from the last attempt, the e-mail typed, where to go next."""

    error: str = ""
    notice: str = ""
    email: str = ""
    next_path: str = "/call-center"

    @rx.event
    @public
    def load(self):
        params = self.router.url.query_parameters
        error = params.get("error", "")
        self.error = f"login.error.{error}" if error in ERRORS else ""
        self.notice = "login.logged_out" if params.get("msg") == "logged_out" else ""
        self.email = params.get("email", "")[:254]
        self.next_path = params.get("next", "/call-center")
        return SessionState.init_public_page


def login_page() -> rx.Component:
    return public_frame(
        rx.el.main(
            rx.el.div(
                rx.el.div(rx.icon("headset", size=30), rx.el.span(T["app.name"]), class_name="login-brand"),
                rx.el.h1(T["login.title"], class_name="login-title"),
                rx.el.p(T["login.subtitle"], class_name="muted"),
                rx.cond(
                    LoginState.error != "",
                    alert(T[LoginState.error], kind="error", data_testid="login-error"),
                ),
                rx.cond(
                    LoginState.notice != "",
                    alert(T[LoginState.notice], kind="info", data_testid="login-notice"),
                ),
                native_form(
                    field(
                        T["login.email"],
                        text_input(
                            "email",
                            name="email",
                            type="email",
                            auto_complete="username",
                            required=True,
                            default_value=LoginState.email,
                            dir="ltr",
                            data_testid="login-email",
                        ),
                        html_for="email",
                    ),
                    field(
                        T["login.password"],
                        text_input(
                            "password",
                            name="password",
                            type="password",
                            auto_complete="current-password",
                            required=True,
                            data_testid="login-password",
                        ),
                        html_for="password",
                    ),
                    rx.el.input(type="hidden", name="next", value=LoginState.next_path),
                    button(
                        T["login.submit"], type="submit", class_name="btn-block", data_testid="login-submit"
                    ),
                    action="/api/auth/login",
                    class_name="form",
                ),
                rx.el.button(
                    rx.icon("languages", size=16),
                    rx.el.span(T["frame.switch_language"]),
                    on_click=SessionState.toggle_language,
                    aria_label=T["frame.switch_language_label"],
                    class_name="btn btn-ghost lang-switch",
                    type="button",
                    data_testid="language-switch",
                ),
                class_name="login-card",
            ),
            class_name="login",
        )
    )
