"""My account: the signed-in agent's own password."""

from __future__ import annotations

import reflex as rx

from call_center.components.ui import T, alert, button, card, field, text_input
from call_center.state.account import AccountState

A = AccountState


def _password_input(id_: str, name: str, autocomplete: str) -> rx.Component:
    return text_input(
        id_, name=name, type="password", auto_complete=autocomplete, required=True, dir="ltr", data_testid=id_
    )


def _display_card() -> rx.Component:
    return card(
        rx.el.h2(T["account.display_title"], class_name="card-title"),
        rx.cond(A.display_error != "", alert(T[A.display_error], data_testid="account-display-error")),
        rx.cond(
            A.display_notice != "",
            alert(T[A.display_notice], kind="info", data_testid="account-display-notice"),
        ),
        field(
            T["account.digits"],
            rx.el.select(
                rx.el.option(T["account.digits.latn"], value="latn"),
                rx.el.option(T["account.digits.arab"], value="arab"),
                id="account-digits",
                value=A.digits,
                on_change=A.set_digits,
                class_name="select",
                data_testid="account-digits",
            ),
            html_for="account-digits",
        ),
        class_name="account-card",
    )


def account_body() -> rx.Component:
    return rx.el.div(
        _display_card(),
        card(
            rx.el.h2(T["account.password_title"], class_name="card-title"),
            rx.el.p(T["account.password_intro"], class_name="muted small"),
            rx.cond(A.password_error != "", alert(T[A.password_error], data_testid="account-error")),
            rx.cond(
                A.password_notice != "",
                alert(T[A.password_notice], kind="info", data_testid="account-notice"),
            ),
            rx.el.form(
                field(
                    T["account.old_password"],
                    _password_input("old-password", "old_password", "current-password"),
                    html_for="old-password",
                ),
                field(
                    T["account.new_password"],
                    _password_input("new-password", "new_password", "new-password"),
                    html_for="new-password",
                    hint=T["account.password_hint"],
                ),
                field(
                    T["account.new_password_again"],
                    _password_input("new-password-again", "new_password_again", "new-password"),
                    html_for="new-password-again",
                ),
                rx.el.div(
                    button(T["account.change_password"], type="submit", data_testid="change-password"),
                    class_name="form-actions",
                ),
                on_submit=A.change_password,
                reset_on_submit=True,
                class_name="form",
                data_testid="change-password-form",
            ),
            class_name="account-card",
        ),
        class_name="account",
    )
