"""Small UI building blocks shared by the pages (native elements styled by assets/styles.css)."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_components_core.el.elements.base import BaseHTML

from call_center.state.session import SessionState

T = SessionState.t


def localized(row: Any, name: str) -> rx.Var:
    """A row's text in the page's language: rows carry `<name>_ar` and `<name>_en` (core.locale)."""
    return rx.cond(SessionState.lang == "en", row[f"{name}_en"], row[f"{name}_ar"])


class NativeForm(BaseHTML):
    """A plain HTML form that really posts (rx.el.form always prevents the browser's submit)."""

    tag = "form"
    action: rx.Var[str]
    method: rx.Var[str]


def native_form(*children: Any, action: str, **props: Any) -> rx.Component:
    return NativeForm.create(*children, action=action, method="post", **props)


def field(label: rx.Var | str, control: rx.Component, *, html_for: str, hint: Any = None) -> rx.Component:
    """A labelled form control (the label is tied to the control by id, so it has an accessible name)."""
    return rx.el.div(
        rx.el.label(label, html_for=html_for, class_name="field-label"),
        control,
        rx.el.small(hint, class_name="field-hint") if hint is not None else rx.fragment(),
        class_name="field",
    )


def text_input(id_: str, **props: Any) -> rx.Component:
    return rx.el.input(id=id_, class_name="input", **props)


def button(*children: Any, variant: str = "primary", **props: Any) -> rx.Component:
    extra = props.pop("class_name", "")
    return rx.el.button(*children, class_name=f"btn btn-{variant} {extra}".strip(), **props)


def page_header(title: rx.Var | str, *actions: rx.Component) -> rx.Component:
    return rx.el.div(
        rx.el.h1(title, class_name="page-title"),
        rx.el.div(*actions, class_name="page-actions"),
        class_name="page-header",
    )


def card(*children: Any, **props: Any) -> rx.Component:
    class_name = "card " + props.pop("class_name", "")
    return rx.el.section(*children, class_name=class_name.strip(), **props)


def empty_state(message: rx.Var | str) -> rx.Component:
    return rx.el.div(rx.icon("inbox", size=28), rx.el.p(message), class_name="empty")


def alert(*children: Any, kind: str = "error", **props: Any) -> rx.Component:
    role = "alert" if kind == "error" else "status"
    return rx.el.div(*children, role=role, class_name=f"alert alert-{kind}", **props)
