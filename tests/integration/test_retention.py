"""Deleting recordings: RECORDING_RETENTION_DAYS (the housekeeping job), an admin by hand with a reason,
each audited; the history says "deleted" where the player was; a removal that fails midway is finished by
the next round."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from call_center.core.config import reset_settings
from call_center.core.db import session_scope
from call_center.models import Call, Recording, RecordingAudit, RecordingStatus
from call_center.services import recordings, retention
from call_center.services.errors import Forbidden, InvalidInput
from tests.conftest import make_agent
from tests.integration.conftest import login
from tests.integration.test_recordings_api import _call_with_recording


def _fresh(db, model, id_):
    db.expire_all()
    return db.get(model, id_)


def test_retention_deletes_what_is_older_than_the_setting_audited_and_the_history_says_so(
    client, db, monkeypatch
):
    admin = make_agent(db, email="boss@example.com", name="Boss", role="admin")
    old_call, old = _call_with_recording(admin.id)
    new_call, new = _call_with_recording(admin.id)
    store = recordings.get_store()
    assert store.exists(old.storage_key) and old.ready_at < new.ready_at
    now = (
        new.ready_at + timedelta(days=30) - timedelta(microseconds=1)
    )  # the first is 30 days old, not the other
    assert retention.apply(db, now=now) == 0  # kept forever unless set
    monkeypatch.setenv("RECORDING_RETENTION_DAYS", "30")
    reset_settings()
    assert retention.apply(db, now=now) == 1
    gone, kept = _fresh(db, Recording, old.id), _fresh(db, Recording, new.id)
    assert (gone.status, gone.storage_key, kept.status) == ("expired", None, "ready")
    assert not store.exists(old.storage_key) and store.exists(new.storage_key)
    (audit,) = db.exec(select(RecordingAudit)).all()
    assert (audit.recording_id, audit.call_id, audit.action, audit.reason, audit.agent_id) == (
        old.id, old_call.id, "expired", "retention", None,
    )  # fmt: skip
    assert audit.storage_key == old.storage_key and audit.size_bytes == old.size_bytes
    assert _fresh(db, Call, old_call.id).recording_status == "expired"  # the history's row
    login(client, "boss@example.com")
    refused = client.get(f"/api/recordings/{old.id}.mp3")
    assert refused.status_code == 404 and refused.json()["detail"]["code"] == "recording.not_ready"
    assert client.get(f"/api/recordings/{new.id}.mp3").status_code == 200
    assert retention.apply(db, now=now) == 0  # once


def test_a_removal_that_fails_midway_is_finished_by_the_next_round(db, monkeypatch):
    agent = make_agent(db, email="a@example.com", name="Agent A")
    _, rec = _call_with_recording(agent.id)
    monkeypatch.setenv("RECORDING_RETENTION_DAYS", "1")
    reset_settings()
    store_type = type(recordings.get_store())
    real = store_type.delete

    def broken(self, key):  # the store fails (a full disk, a lost mount) after the deletion is recorded
        raise OSError("the store is unreachable")

    monkeypatch.setattr(store_type, "delete", broken)
    later = rec.ready_at + timedelta(days=2)
    assert retention.apply(db, now=later) == 1
    marked = _fresh(db, Recording, rec.id)
    assert marked.status == "expired" and marked.storage_key == rec.storage_key  # nobody can play it
    monkeypatch.setattr(store_type, "delete", real)
    assert retention.apply(db, now=later) == 0
    assert _fresh(db, Recording, rec.id).storage_key is None
    assert not recordings.get_store().exists(rec.storage_key)
    assert len(db.exec(select(RecordingAudit)).all()) == 1


def test_an_admin_deletes_one_recording_with_a_reason_and_nobody_else_can(db):
    agent = make_agent(db, email="a@example.com", name="Agent A")
    admin = make_agent(db, email="boss@example.com", name="Boss", role="admin")
    call, rec = _call_with_recording(agent.id)
    with pytest.raises(Forbidden):
        retention.delete_by_admin(db, agent, rec.id, "the customer asked")
    with pytest.raises(InvalidInput) as short:
        retention.delete_by_admin(db, admin, rec.id, "  x ")
    assert short.value.code == "recording.error.reason"
    assert _fresh(db, Recording, rec.id).status == RecordingStatus.READY
    retention.delete_by_admin(db, admin, rec.id, "The customer asked   under the data protection law")
    deleted = _fresh(db, Recording, rec.id)
    assert (deleted.status, deleted.storage_key) == ("deleted", None)
    with session_scope() as other:
        (audit,) = other.exec(select(RecordingAudit)).all()
        assert (audit.action, audit.agent_id, audit.reason) == (
            "deleted", admin.id, "The customer asked under the data protection law",
        )  # fmt: skip
    assert _fresh(db, Call, call.id).recording_status == "deleted"
