"""Pages later features fill. They show an honest empty state, never sample data."""

from __future__ import annotations

import reflex as rx

from call_center.components.ui import T, card, empty_state


def empty_body() -> rx.Component:
    return card(empty_state(T["page.empty"]))
