"""Contacts: search, add, edit, delete, click-to-call."""

from __future__ import annotations

from typing import Any

import reflex as rx

from call_center.components.ui import T, alert, button, card, empty_state, field, localized, text_input
from call_center.state.contacts import ContactsState
from call_center.state.session import SessionState
from call_center.state.softphone import SoftphoneState

C = ContactsState


def _form() -> rx.Component:
    return card(
        rx.el.h2(
            rx.cond(C.editing_id == 0, T["contacts.add"], T["contacts.edit_title"]), class_name="card-title"
        ),
        rx.cond(C.form_error != "", alert(T[C.form_error])),
        rx.el.form(
            rx.el.div(
                field(
                    T["contacts.name"],
                    text_input(
                        "contact-name",
                        name="name",
                        default_value=C.form_name,
                        required=True,
                        data_testid="contact-name",
                    ),
                    html_for="contact-name",
                ),
                field(
                    T["contacts.phone"],
                    text_input(
                        "contact-phone",
                        name="phone",
                        default_value=C.form_phone,
                        required=True,
                        type="tel",
                        dir="ltr",
                        data_testid="contact-phone",
                    ),
                    html_for="contact-phone",
                ),
                class_name="form-grid",
            ),
            field(
                T["contacts.notes"],
                rx.el.textarea(
                    id="contact-notes",
                    name="notes",
                    default_value=C.form_notes,
                    rows=3,
                    class_name="input",
                    data_testid="contact-notes",
                ),
                html_for="contact-notes",
            ),
            rx.el.div(
                button(T["agents.save"], type="submit", data_testid="contact-save"),
                button(
                    T["agents.cancel"],
                    variant="ghost",
                    type="button",
                    on_click=C.close_form,
                    data_testid="contact-cancel",
                ),
                class_name="form-actions",
            ),
            on_submit=C.save,
            key=C.editing_id,
            class_name="form",
        ),
    )


def _call(row: Any) -> rx.Component:
    return rx.el.li(
        rx.el.span(
            rx.icon(rx.cond(row["direction"] == "inbound", "phone-incoming", "phone-outgoing"), size=14),
            T["direction." + row["direction"].to(str)],
            class_name="small call-dir",
        ),
        rx.el.span(localized(row, "started"), class_name="num"),
        rx.el.span(T["status." + row["status"].to(str)], class_name="badge " + row["status_class"].to(str)),
        rx.el.span(localized(row, "duration"), class_name="num muted"),
        rx.el.span(row["agent"], class_name="small"),
        rx.cond(
            row["disposition"] != "",
            rx.el.span(
                rx.cond(SessionState.dir == "rtl", row["disposition_ar"], row["disposition_en"]),
                class_name="badge badge-muted",
                data_testid="contact-call-disposition",
            ),
        ),
        rx.cond(row["tags"] != "", rx.el.span(row["tags"], class_name="tag")),
        rx.cond(
            row["notes"] != "",
            rx.el.span(row["notes"], class_name="muted small call-notes", data_testid="contact-call-notes"),
        ),
        class_name="contact-call",
        data_testid="contact-call-item",
        data_call_id=row["id"],
    )


def _calls_panel() -> rx.Component:
    return card(
        rx.el.div(
            rx.el.h2(T["contacts.calls_with"], " ", C.calls_name, class_name="card-title"),
            button(T["contacts.hide_calls"], variant="ghost", on_click=C.hide_calls, type="button"),
            class_name="section-header",
        ),
        rx.cond(
            C.contact_calls.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(rx.foreach(C.contact_calls, _call), class_name="panel-list"),
            rx.el.p(T["contacts.no_calls"], class_name="muted"),
        ),
        data_testid="contact-calls-panel",
        data_contact_id=C.calls_for,
    )


def _row(row: Any) -> rx.Component:
    name = row["name"].to(str)
    return rx.el.tr(
        rx.el.td(rx.el.span(row["name"], class_name="cell-title")),
        rx.el.td(row["display"], class_name="num"),
        rx.el.td(rx.el.span(row["notes"], class_name="notes muted")),
        rx.el.td(
            rx.cond(
                C.confirm_delete == row["id"],
                rx.el.div(
                    rx.el.span(T["contacts.confirm_delete"], class_name="small"),
                    button(
                        T["contacts.delete"],
                        variant="danger",
                        on_click=C.delete,
                        type="button",
                        data_testid="contact-delete-confirm",
                    ),
                    button(
                        T["agents.cancel"],
                        variant="ghost",
                        on_click=C.cancel_delete,
                        type="button",
                        data_testid="contact-delete-cancel",
                    ),
                    class_name="row-actions",
                ),
                rx.el.div(
                    button(
                        rx.icon("phone", size=14),
                        T["contacts.call"],
                        variant="success",
                        on_click=SoftphoneState.call_number(row["phone"]),
                        disabled=SoftphoneState.in_call,
                        aria_label=T["contacts.call"] + " " + name,
                        type="button",
                        data_testid="contact-call",
                    ),
                    button(
                        rx.icon("history", size=14),
                        T["contacts.calls"],
                        variant="ghost",
                        on_click=C.show_calls(row["id"]),
                        aria_label=T["contacts.calls"] + " " + name,
                        aria_expanded=rx.cond(C.calls_for == row["id"], "true", "false"),
                        type="button",
                        data_testid="contact-calls",
                    ),
                    button(
                        T["contacts.edit"],
                        variant="ghost",
                        on_click=C.open_edit(row["id"]),
                        aria_label=T["contacts.edit"] + " " + name,
                        type="button",
                        data_testid="contact-edit",
                    ),
                    button(
                        T["contacts.delete"],
                        variant="danger-ghost",
                        on_click=C.ask_delete(row["id"]),
                        aria_label=T["contacts.delete"] + " " + name,
                        type="button",
                        data_testid="contact-delete",
                    ),
                    class_name="row-actions",
                ),
            )
        ),
        data_testid="contact-row",
        data_contact_id=row["id"],
    )


def contacts_body() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.form(
                rx.el.label(T["contacts.search"], html_for="contacts-q", class_name="sr-only"),
                rx.el.input(
                    id="contacts-q",
                    name="q",
                    type="search",
                    default_value=C.query,
                    placeholder=T["contacts.search"],
                    class_name="input",
                    data_testid="contacts-search",
                ),
                button(
                    rx.icon("search", size=16),
                    T["history.search_button"],
                    variant="ghost",
                    type="submit",
                    data_testid="contacts-search-button",
                ),
                on_submit=C.search,
                class_name="dial-row search-form",
            ),
            button(
                rx.icon("user-plus", size=16),
                T["contacts.add"],
                on_click=C.open_new,
                type="button",
                data_testid="contact-add",
            ),
            class_name="section-header",
        ),
        rx.cond(C.notice != "", alert(T[C.notice], kind="info")),
        rx.cond(C.form_open, _form()),
        rx.cond(C.calls_for > 0, _calls_panel()),
        card(
            rx.cond(
                C.rows.length() > 0,  # type: ignore[attr-defined]
                rx.el.table(
                    rx.el.thead(
                        rx.el.tr(
                            rx.el.th(T["contacts.name"]),
                            rx.el.th(T["contacts.phone"]),
                            rx.el.th(T["contacts.notes"]),
                            rx.el.th(T["agents.actions"]),
                        )
                    ),
                    rx.el.tbody(rx.foreach(C.rows, _row)),
                    class_name="table",
                    aria_label=T["nav.contacts"],
                    data_testid="contacts-table",
                ),
                empty_state(T["contacts.empty"]),
            ),
            rx.el.div(
                rx.el.span(C.total_label, class_name="muted", data_testid="contacts-total"),
                class_name="pager",
            ),
            class_name="table-card",
        ),
        class_name="history",
    )
