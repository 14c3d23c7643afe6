"""The durable webhook inbox (services.inbox) on a real database: a callback is answered once stored and
applied after; one that cannot be stored is not acknowledged; a failing handler is tried again, or given up
on and counted; what a killed process stored is adopted by a live one and applied, once."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from call_center.models import Call, CallEvent, CallStatus, WebhookInbox
from call_center.services import inbox, metrics
from tests.integration.test_twilio_webhooks import STATUS, call, child, twilio_client  # noqa: F401
from tests.support.fake_twilio import sign, signed_post, twilio_settings  # noqa: F401


def _post(client, params: dict[str, str]):  # type: ignore[no-untyped-def]
    """A signed callback, answered; not waiting for it to be applied (signed_post does)."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": sign(STATUS, params),
    }
    return client.post(STATUS, content=urlencode(params), headers=headers)


def _rows(db) -> list[WebhookInbox]:  # type: ignore[no-untyped-def]
    db.commit()
    query = select(WebhookInbox).order_by(col(WebhookInbox.id)).execution_options(populate_existing=True)
    return list(db.exec(query))


def _status(db, call_id: int) -> str:  # type: ignore[no-untyped-def]
    db.commit()
    found = db.get(Call, call_id, populate_existing=True)
    assert found is not None
    return found.status


def _answered_and_completed(call: Call) -> list[dict[str, str]]:  # noqa: F811
    return [child(call, "in-progress", 5, 2), child(call, "completed", 65, 3, CallDuration="60")]


def test_a_callback_is_answered_once_stored_and_applied_just_after(twilio_client, call, db):  # noqa: F811
    for params in _answered_and_completed(call):
        assert signed_post(twilio_client, STATUS, params).status_code == 204
    rows = _rows(db)
    assert [r.kind for r in rows] == ["status", "status"]
    assert all(r.applied_at is not None and r.error is None and r.attempts == 1 for r in rows)
    assert all(r.received_at <= r.applied_at for r in rows if r.applied_at)
    assert _status(db, call.id) == CallStatus.COMPLETED
    figures = inbox.stats(db)
    assert (figures.pending, figures.lag_seconds, figures.failed) == (0, 0.0, 0)


def test_a_callback_that_cannot_be_stored_is_not_acknowledged(twilio_client, call, db, monkeypatch):  # noqa: F811
    def broken(_rows: list[dict[str, object]]) -> None:
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    params = _answered_and_completed(call)[0]
    with monkeypatch.context() as patch:
        patch.setattr(inbox, "_insert", broken)
        response = _post(twilio_client, params)
    assert response.status_code == 503  # not acknowledged: Twilio sends it again
    assert response.json()["detail"]["code"] == "twilio.error.inbox"
    assert _rows(db) == []
    assert signed_post(twilio_client, STATUS, params).status_code == 204  # Twilio's retry
    assert _status(db, call.id) == CallStatus.IN_PROGRESS


def test_a_failing_handler_is_tried_again_and_a_refused_callback_is_given_up(
    twilio_client,  # noqa: F811
    call,  # noqa: F811
    db,
    monkeypatch,
):
    real = inbox.HANDLERS["status"]
    failures = {"left": 1}

    def flaky(session, row):  # type: ignore[no-untyped-def]
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("UPDATE", {}, Exception("database is locked"))
        real(session, row)

    monkeypatch.setitem(inbox.HANDLERS, "status", flaky)
    monkeypatch.setattr(inbox, "retry_after", lambda attempts: timedelta(0))
    answered, completed = _answered_and_completed(call)
    assert signed_post(twilio_client, STATUS, answered).status_code == 204
    (row,) = _rows(db)
    assert row.applied_at is not None and row.attempts == 2 and row.error is None  # applied on its 2nd try
    assert _status(db, call.id) == CallStatus.IN_PROGRESS

    def refuses(session, row):  # type: ignore[no-untyped-def]
        raise ValueError("unknown participant label 'x'")

    monkeypatch.setitem(inbox.HANDLERS, "status", refuses)
    assert signed_post(twilio_client, STATUS, completed).status_code == 204
    given_up = _rows(db)[-1]
    assert given_up.applied_at is not None and given_up.attempts == 1  # never tried again
    assert given_up.error == "ValueError: unknown participant label 'x'"
    assert inbox.stats(db).failed == 1
    assert b"almasar_webhook_inbox_failed 1.0" in metrics.exposition(db, None)
    assert _status(db, call.id) == CallStatus.IN_PROGRESS


def test_what_a_killed_process_stored_is_adopted_and_applied_once(twilio_client, call, db, monkeypatch):  # noqa: F811
    # The process that answers these dies before it applies them: its applier never runs.
    monkeypatch.setattr(inbox, "_owner", (os.getpid(), "killed-worker"))
    with monkeypatch.context() as patch:
        patch.setattr(inbox.applier, "wake", lambda: None)
        for params in _answered_and_completed(call):
            assert _post(twilio_client, params).status_code == 204
    rows = _rows(db)
    assert [(r.owner, r.applied_at) for r in rows] == [("killed-worker", None)] * 2
    assert _status(db, call.id) == CallStatus.INITIATED
    figures = inbox.stats(db)
    assert figures.pending == 2 and figures.lag_seconds > 0
    assert b"almasar_webhook_inbox_pending 2.0" in metrics.exposition(db, None)

    # Another process (here: this one under a new name) takes nothing while the dead one's lease runs...
    monkeypatch.setattr(inbox, "_owner", None)
    assert inbox.adopt() == 0
    # ...and everything once it is over.
    monkeypatch.setattr(inbox, "LEASE", timedelta(0))
    inbox.recover()
    inbox.drain()
    rows = _rows(db)
    assert {r.owner for r in rows} == {inbox.owner()}
    assert all(r.applied_at is not None for r in rows)
    assert _status(db, call.id) == CallStatus.COMPLETED

    # Applied again (a crash between a handler and its mark): nothing changes, nothing is stored twice.
    events = db.exec(select(CallEvent.dedupe_key).where(CallEvent.call_id == call.id)).all()
    for r in rows:
        assert inbox.apply_row(
            inbox.Row(r.id or 0, r.kind, r.call_id, r.leg, json.loads(r.params), r.attempts)
        )
    db.commit()
    assert sorted(db.exec(select(CallEvent.dedupe_key).where(CallEvent.call_id == call.id)).all()) == sorted(
        events
    )
    assert _status(db, call.id) == CallStatus.COMPLETED


@pytest.fixture(autouse=True)
def _stopped_applier():  # type: ignore[no-untyped-def]
    """Each test starts and ends without this process's applier thread (it starts on demand)."""
    inbox.applier.stop()
    yield
    inbox.applier.stop()


def test_a_try_that_failed_after_storing_its_event_runs_the_follow_ups_when_tried_again(
    twilio_client,  # noqa: F811
    call,  # noqa: F811
    db,
    monkeypatch,
):
    from call_center.services import call_control

    real = call_control.after_status
    seen: list[str] = []

    def fails_once(session, the_call):  # type: ignore[no-untyped-def]
        seen.append(the_call.status)
        if len(seen) == 1:
            raise OperationalError("UPDATE", {}, Exception("disk I/O error"))  # after the event was stored
        real(session, the_call)

    monkeypatch.setattr(call_control, "after_status", fails_once)
    monkeypatch.setattr(inbox, "retry_after", lambda attempts: timedelta(0))
    answered, completed = _answered_and_completed(call)
    assert signed_post(twilio_client, STATUS, answered).status_code == 204
    assert signed_post(twilio_client, STATUS, completed).status_code == 204
    rows = _rows(db)
    assert [(r.attempts, r.error) for r in rows] == [(2, None), (1, None)]
    assert seen == [CallStatus.IN_PROGRESS, CallStatus.IN_PROGRESS, CallStatus.COMPLETED]  # run again
    assert _status(db, call.id) == CallStatus.COMPLETED
