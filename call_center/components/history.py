"""The call history table (its page) and the compact panel of latest calls (call-center page)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from call_center.components.ui import T, alert, button, card, empty_state, localized
from call_center.components.wrapup import about_fields
from call_center.models import CallStatus, RecordingStatus
from call_center.state.history import HistoryState
from call_center.state.softphone import SoftphoneState
from call_center.state.wrapup import option_label

H = HistoryState


def _select(label_key: str, name: str, value: Any, options: list[tuple[str, Any]]) -> rx.Component:
    id_ = f"filter-{name}"
    return rx.el.div(
        rx.el.label(T[label_key], html_for=id_, class_name="field-label"),
        rx.el.select(
            rx.el.option(T["history.all"], value=""),
            *[rx.el.option(label, value=val) for val, label in options],
            id=id_,
            value=value,
            on_change=lambda v: H.set_filter(name, v),
            class_name="select",
            data_testid=f"history-{id_}",
        ),
        class_name="field",
    )


def _date(label_key: str, name: str, value: Any) -> rx.Component:
    id_ = f"filter-{name}"
    return rx.el.div(
        rx.el.label(T[label_key], html_for=id_, class_name="field-label"),
        rx.el.input(
            id=id_,
            type="date",
            value=value,
            on_change=lambda v: H.set_filter(name, v),
            class_name="input",
            dir="ltr",
            data_testid=f"history-{id_}",
        ),
        class_name="field",
    )


def _filters() -> rx.Component:
    statuses = [(s, T["status." + s]) for s in CallStatus.ALL if s != CallStatus.QUEUED]
    return card(
        rx.el.form(
            rx.el.div(
                rx.el.label(T["history.search"], html_for="filter-query", class_name="field-label"),
                rx.el.div(
                    rx.el.input(
                        id="filter-query",
                        name="q",
                        default_value=H.f_query,
                        type="search",
                        class_name="input",
                        data_testid="history-search",
                    ),
                    button(
                        rx.icon("search", size=16),
                        T["history.search_button"],
                        type="submit",
                        data_testid="history-search-button",
                    ),
                    class_name="dial-row",
                ),
                class_name="field filter-search",
            ),
            rx.el.div(
                rx.el.label(T["history.tag"], html_for="filter-tag", class_name="field-label"),
                rx.el.input(
                    id="filter-tag",
                    name="tag",
                    default_value=H.f_tag,
                    type="search",
                    class_name="input",
                    data_testid="history-filter-tag",
                ),  # fmt: skip
                class_name="field filter-tag",
            ),
            on_submit=H.search,
            class_name="filters-search",
        ),
        rx.el.div(
            _date("history.from", "f_from", H.f_from),
            _date("history.to", "f_to", H.f_to),
            _select(
                "history.direction",
                "f_direction",
                H.f_direction,
                [
                    ("inbound", T["direction.inbound"]),
                    ("outbound", T["direction.outbound"]),
                ],
            ),
            _select("history.status", "f_status", H.f_status, statuses),
            rx.el.div(
                rx.el.label(
                    T["history.disposition"], html_for="filter-f_disposition", class_name="field-label"
                ),
                rx.el.select(
                    rx.el.option(T["history.all"], value=""),
                    rx.foreach(
                        H.disposition_options,
                        lambda d: rx.el.option(option_label(d, H.lang), value=d["code"]),
                    ),
                    id="filter-f_disposition",
                    value=H.f_disposition,
                    on_change=lambda v: H.set_filter("f_disposition", v),
                    class_name="select",
                    data_testid="history-filter-f_disposition",
                ),
                class_name="field",
            ),
            rx.cond(
                SoftphoneState.sees_every_call,
                rx.el.div(
                    rx.el.label(T["history.agent"], html_for="filter-f_agent", class_name="field-label"),
                    rx.el.select(
                        rx.el.option(T["history.all"], value=""),
                        rx.foreach(H.agent_options, lambda a: rx.el.option(a["name"], value=a["id"])),
                        id="filter-f_agent",
                        value=H.f_agent,
                        on_change=lambda v: H.set_filter("f_agent", v),
                        class_name="select",
                        data_testid="history-filter-f_agent",
                    ),
                    class_name="field",
                ),
            ),
            _select(
                "history.recording",
                "f_recording",
                H.f_recording,
                [
                    ("yes", T["history.with_recording"]),
                    ("no", T["history.without_recording"]),
                ],
            ),
            class_name="filters-grid",
        ),
        rx.cond(
            H.has_filters,
            button(
                rx.icon("x", size=14),
                T["history.clear"],
                variant="ghost",
                on_click=H.clear_filters,
                type="button",
                data_testid="history-clear",
            ),
        ),
        class_name="filters",
    )


def _customer(row: Any) -> rx.Component:
    return rx.el.div(
        rx.cond(row["customer"] != "", rx.el.div(row["customer"], class_name="cell-title")),
        rx.el.div(row["number_display"], class_name="num muted"),
    )


def _recording(row: Any) -> rx.Component:
    return rx.match(
        row["recording_status"],
        (
            "ready",
            rx.el.div(
                rx.el.audio(
                    src=row["recording_url"],
                    controls=True,
                    preload="none",
                    class_name="player",
                    aria_label=T["history.play"],
                    data_testid="call-recording",
                ),
                rx.el.a(
                    rx.icon("download", size=16),
                    href=row["download_url"],
                    download=True,
                    reload_document=True,  # a file download, not a page: keep React Router out of it
                    class_name="btn btn-ghost icon-btn",
                    aria_label=T["history.download"],
                    title=T["history.download"],
                    data_testid="call-download",
                ),
                class_name="recording-cell",
            ),
        ),
        (
            "processing",
            rx.el.span(
                T["recording.processing"], class_name="badge badge-info", data_testid="call-recording-status"
            ),
        ),
        (
            "failed",
            rx.el.span(
                T["recording.failed"], class_name="badge badge-danger", data_testid="call-recording-status"
            ),
        ),
        *(
            (
                gone,  # expired (retention), deleted (an admin): the history says so where the player was
                rx.el.span(
                    T["recording." + gone],
                    class_name="badge badge-muted",
                    data_testid="call-recording-status",
                    data_status=gone,
                ),
            )
            for gone in RecordingStatus.GONE
        ),  # fmt: skip
        rx.el.span("—", class_name="muted"),
    )


def _wrapup_meta(row: Any) -> rx.Component:
    """What the call was about: its disposition, tags and the start of the agent's notes."""
    return rx.el.div(
        rx.cond(
            row["disposition"] != "",
            rx.el.span(
                H.disposition_labels[row["disposition"].to(str)],
                class_name="badge badge-muted",
                data_testid="call-disposition",
                data_disposition=row["disposition"],
            ),
        ),
        rx.cond(row["tags"] != "", rx.el.span(row["tags"], class_name="tag", data_testid="call-tags")),
        rx.cond(
            row["notes"] != "",
            rx.el.span(
                row["notes"],
                class_name="muted small call-notes",
                title=row["notes"],
                data_testid="call-notes",
            ),
        ),
        class_name="call-meta",
    )


def _status(row: Any) -> rx.Component:
    return rx.el.div(
        rx.el.span(
            T["status." + row["status"].to(str)],
            class_name="badge " + row["status_class"].to(str),
            data_testid="call-status",
            data_status=row["status"],
        ),
        rx.cond(
            row["reason_key"] != "",
            rx.el.div(T[row["reason_key"].to(str)], class_name="muted small", data_testid="call-reason"),
        ),
        rx.cond(
            row["reason_text"] != "",
            rx.el.div(row["reason_text"], class_name="muted small", data_testid="call-reason"),
        ),
        rx.cond(
            row["queue_outcome"] != "",
            rx.el.div(
                rx.icon("list-ordered", size=12),
                rx.el.span(localized(row, "queue"), class_name="queue-name", data_testid="call-queue-name"),
                " · ",
                T["queue.outcome." + row["queue_outcome"].to(str)],
                rx.cond(
                    row["queue_outcome"] != "closed",
                    rx.el.span(" ", rx.el.span(localized(row, "wait"), class_name="num")),
                ),
                class_name="muted small queue-outcome",
                data_testid="call-queue",
                data_outcome=row["queue_outcome"],
                data_queue=row["queue"],
            ),
        ),
        _wrapup_meta(row),
        rx.cond(
            row["chain"] != "",
            rx.el.div(
                rx.icon("phone-forwarded", size=12),
                rx.el.span(T["history.chain"], class_name="sr-only"),
                rx.el.span(row["chain"], class_name="num"),
                class_name="muted small chain",
                data_testid="call-chain",
            ),
        ),
    )


def _direction(row: Any) -> rx.Component:
    return rx.el.span(
        rx.cond(
            row["direction"] == "inbound",
            rx.icon("phone-incoming", size=16),
            rx.icon("phone-outgoing", size=16),
        ),
        rx.el.span(T["direction." + row["direction"].to(str)]),
        class_name="direction " + row["direction"].to(str),
    )


def _step(step: Any) -> rx.Component:
    return rx.el.li(
        rx.el.span(localized(step, "at"), class_name="num muted"),
        rx.el.span(T[step["label"].to(str)]),
        rx.cond(step["who"] != "", rx.el.span(step["who"], class_name="cell-title")),
        rx.cond(
            step["reason_key"] != "", rx.el.span("(", T[step["reason_key"].to(str)], ")", class_name="muted")
        ),
        class_name="timeline-step",
        data_testid="detail-step",
        data_what=step["what"],
    )


def _previous(row: Any) -> rx.Component:
    return rx.el.li(
        _direction(row),
        rx.el.span(localized(row, "started"), class_name="num"),
        rx.el.span(T["status." + row["status"].to(str)], class_name="badge " + row["status_class"].to(str)),
        rx.el.span(localized(row, "duration"), class_name="num muted"),
        _wrapup_meta(row),
        class_name="panel-item",
        data_testid="detail-previous-call",
        data_call_id=row["id"],
    )


def detail_panel() -> rx.Component:
    """One call: what happened (timeline), its recording, what it was about, the customer's other calls."""
    d = H.detail
    form = rx.el.div(
        rx.el.h3(T["detail.what"], class_name="section-title"),
        about_fields(
            "detail", H.disposition_options, H.lang, (H.detail_disposition, H.detail_notes, H.detail_tags),
            (lambda v: H.set_detail_field("detail_disposition", v),
             lambda v: H.set_detail_field("detail_notes", v), lambda v: H.set_detail_field("detail_tags", v)),
        ),
        rx.cond(
            H.detail_message != "", alert(T[H.detail_message], kind="info", data_testid="detail-message")
        ),
        button(T["wrapup.save"], on_click=H.save_detail, type="button", data_testid="detail-save"),
    )  # fmt: skip
    return rx.cond(
        H.detail_open,
        rx.el.div(
            rx.el.section(
                rx.el.div(
                    rx.el.h2(T["detail.title"], class_name="card-title", id="detail-title"),
                    button(rx.icon("x", size=16), T["detail.close"], variant="ghost", on_click=H.close_detail,
                           type="button", data_testid="detail-close"),
                    class_name="card-head",
                ),
                rx.el.div(
                    _direction(d),
                    _customer(d),
                    rx.cond(
                        ~d["known_contact"].to(bool),
                        rx.el.a(rx.icon("user-plus", size=14), T["detail.add_contact"],
                                href="/contacts?add=" + d["number"].to(str), class_name="link-btn",
                                data_testid="detail-add-contact"),
                    ),
                    class_name="detail-head",
                ),
                _status(d),
                rx.el.div(
                    rx.el.span(localized(d, "started"), class_name="num"), " · ",
                    rx.el.span(localized(d, "duration"), class_name="num"), " · ",
                    rx.el.span(d["agent"]),
                    class_name="muted",
                ),
                _recording(d),
                rx.cond(
                    H.is_admin & (d["recording_status"] == "ready"),
                    rx.el.div(
                        rx.el.label(T["recording.delete_reason"], html_for="detail-delete-reason"),
                        rx.el.input(id="detail-delete-reason", value=H.delete_reason, max_length=300,
                                    on_change=H.set_delete_reason, class_name="input",
                                    data_testid="detail-delete-reason"),
                        button(rx.icon("trash-2", size=14), T["recording.delete"], variant="danger",
                               on_click=H.delete_recording, type="button",
                               data_testid="detail-delete-recording"),
                        class_name="delete-recording",
                    ),
                ),
                rx.el.h3(T["history.timeline"], class_name="section-title"),
                rx.el.ol(
                    rx.foreach(H.detail_steps, _step), class_name="timeline", data_testid="detail-timeline"
                ),
                form,
                rx.el.h3(T["detail.previous"], class_name="section-title"),
                rx.cond(
                    H.detail_previous.length() > 0,  # type: ignore[attr-defined]
                    rx.el.ul(rx.foreach(H.detail_previous, _previous), class_name="panel-list"),
                    rx.el.p(T["detail.no_previous"], class_name="muted"),
                ),
                class_name="card detail-panel",
                role="dialog",
                aria_labelledby="detail-title",
                data_testid="call-detail",
                data_call_id=d["id"],
            ),
            class_name="detail-backdrop",
        ),
    )  # fmt: skip


def _row(row: Any) -> rx.Component:
    return rx.el.tr(
        rx.el.td(_direction(row)),
        rx.el.td(_customer(row)),
        rx.cond(SoftphoneState.sees_every_call, rx.el.td(row["agent"])),
        rx.el.td(_status(row)),
        rx.el.td(localized(row, "started"), class_name="num"),
        rx.el.td(localized(row, "duration"), class_name="num"),
        rx.el.td(_recording(row)),
        rx.el.td(
            rx.el.button(
                rx.icon("file-text", size=16),
                on_click=H.open_detail(row["id"]),
                type="button",
                class_name="btn btn-ghost icon-btn",
                aria_label=T["detail.open"],
                title=T["detail.open"],
                data_testid="call-details",
            ),
            rx.el.button(
                rx.icon("phone-forwarded", size=16),
                on_click=SoftphoneState.call_number(row["number"]),
                disabled=SoftphoneState.in_call,
                type="button",
                class_name="btn btn-ghost icon-btn",
                aria_label=T["history.call_back"] + " " + row["number_display"].to(str),
                title=T["history.call_back"],
                data_testid="call-back",
            ),
        ),
        data_call_id=row["id"],
        data_testid="history-row",
        data_status=row["status"],
        key=row["id"],  # React keeps each call's DOM (and its player) when a new row arrives on top
    )


def _pager() -> rx.Component:
    return rx.el.div(
        rx.el.span(
            rx.el.span(H.total_label, class_name="muted", data_testid="history-total"),
            rx.el.a(
                T["export.csv"],
                href="/api/calls/export?format=csv&" + H.export_query,
                download=True,
                reload_document=True,  # a file download, not a page: keep React Router out of it
                class_name="btn btn-ghost btn-sm",
                data_testid="history-export-csv",
            ),
            rx.el.a(
                T["export.xlsx"],
                href="/api/calls/export?format=xlsx&" + H.export_query,
                download=True,
                reload_document=True,  # a file download, not a page: keep React Router out of it
                class_name="btn btn-ghost btn-sm",
                data_testid="history-export-xlsx",
            ),
            class_name="history-exports",
        ),  # fmt: skip
        rx.el.div(
            button(
                T["history.previous"],
                variant="ghost",
                on_click=H.go_page(H.page - 1),
                disabled=H.page <= 1,
                type="button",
                data_testid="history-previous",
            ),
            rx.el.span(
                T["history.page"],
                " ",
                rx.el.span(H.page, class_name="num"),
                " ",
                T["history.of"],
                " ",
                rx.el.span(H.total_pages, class_name="num"),
            ),
            button(
                T["history.next"],
                variant="ghost",
                on_click=H.go_page(H.page + 1),
                disabled=H.page >= H.total_pages,
                type="button",
                data_testid="history-next",
            ),
            class_name="pager-buttons",
        ),
        class_name="pager",
    )


def history_table() -> rx.Component:
    headers = [
        rx.el.th(T["history.direction"]),
        rx.el.th(T["history.customer"]),
        rx.cond(SoftphoneState.sees_every_call, rx.el.th(T["history.agent"])),
        rx.el.th(T["history.status"]),
        rx.el.th(T["history.started"]),
        rx.el.th(T["history.duration"]),
        rx.el.th(T["history.recording"]),
        rx.el.th(rx.el.span(T["history.call_back"], class_name="sr-only")),
    ]
    return card(
        rx.cond(
            H.rows.length() > 0,  # type: ignore[attr-defined]
            rx.el.table(
                rx.el.thead(rx.el.tr(*headers)),
                rx.el.tbody(rx.foreach(H.rows, _row)),
                class_name="table",
                aria_label=T["nav.history"],
                data_testid="history-table",
            ),
            empty_state(rx.cond(H.has_filters, T["history.empty_filtered"], T["history.empty"])),
        ),
        _pager(),
        class_name="table-card",
    )


def history_body() -> rx.Component:
    return rx.el.div(
        _filters(),
        rx.el.div(
            rx.el.span(class_name="live-dot", aria_hidden="true"),
            T["history.live"],
            class_name="live muted small",
            data_testid="history-live",
        ),
        history_table(),
        detail_panel(),
        class_name="history",
    )


def _panel_item(row: Any) -> rx.Component:
    return rx.el.li(
        _direction(row),
        _customer(row),
        rx.el.span(
            T["status." + row["status"].to(str)],
            class_name="badge " + row["status_class"].to(str),
            data_testid="call-status",
            data_status=row["status"],
        ),
        rx.el.span(localized(row, "duration"), class_name="num muted"),
        _recording(row),
        data_call_id=row["id"],
        data_testid="recent-call",
        data_status=row["status"],
        key=row["id"],  # React keeps each call's DOM (and its player) when a new row arrives on top
        class_name="panel-item",
    )


def history_panel() -> rx.Component:
    return card(
        rx.el.div(
            rx.el.h2(T["history.recent"], class_name="card-title"),
            rx.el.a(T["history.see_all"], href="/history", class_name="link-btn"),
            class_name="card-head",
        ),
        rx.cond(
            H.recent_rows.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(
                rx.foreach(H.recent_rows, _panel_item),
                class_name="panel-list",
                aria_label=T["history.recent"],
                data_testid="recent-calls",
            ),
            empty_state(T["history.empty"]),
        ),
        class_name="history-panel",
    )
