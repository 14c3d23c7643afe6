"""The call-center page: the softphone, audio devices, the latest calls (live) and help."""

from __future__ import annotations

import reflex as rx

from call_center.components.callbacks import callbacks_card
from call_center.components.history import history_panel
from call_center.components.softphone import devices_card, help_card, softphone_card
from call_center.components.wrapup import wrapup_card


def call_center_body() -> rx.Component:
    return rx.el.div(
        rx.el.div(wrapup_card(), softphone_card(), devices_card(), class_name="col-main"),
        rx.el.div(callbacks_card(), history_panel(), help_card(), class_name="col-side"),
        class_name="two-cols",
    )
