"""Recording delivery (Range, download, authorisation, signed links) and the JSON integration API."""

from __future__ import annotations

import re
import uuid

import pytest

from call_center.core.db import session_scope
from call_center.models import RecordingStatus
from call_center.services import api_keys, calls, recordings
from tests.conftest import make_agent
from tests.integration.conftest import login

MP3 = b"ID3" + bytes(range(256)) * 40  # 10 KiB of distinct bytes: ranges are checkable


def _call_with_recording(
    agent_id: int | None, *, status: str = RecordingStatus.READY, key: str | None = None
):
    with session_scope() as db:
        call = calls.create_call(
            db,
            provider="local",
            call_sid="LC" + uuid.uuid4().hex,
            direction="outbound",
            from_number="+20221234567",
            to_number="+201001234567",
            customer_number="+201001234567",
            agent_id=agent_id,
        )
        recording = recordings.start_recording(db, call)
        if status == RecordingStatus.READY:
            key = key or recordings.recording_key(call, call.provider_call_sid or "x")
            if ".." not in key:
                recordings.get_store().put_bytes(key, MP3)
            recordings.mark_ready(db, recording, key=key, size=len(MP3), duration=12.5, channels=2)
        return call, recording


@pytest.fixture
def people(db):
    return {
        "a": make_agent(db, email="a@example.com", name="Agent A"),
        "b": make_agent(db, email="b@example.com", name="Agent B"),
        "admin": make_agent(db, email="boss@example.com", name="Boss", role="admin"),
    }


def test_the_owner_streams_seeks_and_downloads(client, people):
    call, rec = _call_with_recording(people["a"].id)
    login(client, "a@example.com")
    full = client.get(f"/api/recordings/{rec.id}.mp3")
    assert full.status_code == 200 and full.content == MP3
    assert full.headers["content-type"] == "audio/mpeg" and full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-disposition"].startswith("inline")

    part = client.get(f"/api/recordings/{rec.id}.mp3", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == MP3[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(MP3)}"

    download = client.get(f"/api/recordings/{rec.id}.mp3", params={"download": 1})
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment")
    assert re.search(r"call-\d{4}-\d{2}-\d{2}-\d{4}-(%2B|\+)201001234567\.mp3", disposition), disposition
    assert download.content == MP3


def test_other_agents_anonymous_and_unknown_are_refused(client, people):
    _, rec = _call_with_recording(people["a"].id)
    assert client.get(f"/api/recordings/{rec.id}.mp3").status_code == 401
    login(client, "b@example.com")
    assert client.get(f"/api/recordings/{rec.id}.mp3").status_code == 403
    assert client.get("/api/recordings/999999.mp3").status_code == 404
    assert client.get("/api/recordings/..%2F..%2Fetc%2Fpasswd.mp3").status_code == 404
    login(client, "boss@example.com")
    assert client.get(f"/api/recordings/{rec.id}.mp3").status_code == 200  # admins hear every call


def test_recordings_not_ready_or_with_a_bad_key_are_404(client, people):
    _, processing = _call_with_recording(people["a"].id, status=RecordingStatus.PROCESSING)
    _, escaping = _call_with_recording(people["a"].id, key="../../secret.mp3")
    login(client, "a@example.com")
    assert (
        client.get(f"/api/recordings/{processing.id}.mp3").json()["detail"]["code"] == "recording.not_ready"
    )
    assert client.get(f"/api/recordings/{escaping.id}.mp3").status_code == 404


def test_signed_links_work_without_a_session_until_they_expire(client, people):
    _, rec = _call_with_recording(people["a"].id)
    path = recordings.signed_path(rec.id)
    assert client.get(path).content == MP3
    forged = re.sub(r"sig=[^&]+", "sig=AAAAAAAAAAAAAAAAAAAAAAAAAAA", path)
    assert client.get(forged).status_code == 401
    other = path.replace(f"/{rec.id}.mp3", f"/{rec.id + 1}.mp3")
    assert client.get(other).status_code in (401, 404)
    expired = recordings.signed_path(rec.id, ttl=-10)
    assert client.get(expired).status_code == 401


def test_json_api_with_a_session_scopes_to_the_agent(client, people):
    mine, _ = _call_with_recording(people["a"].id)
    _call_with_recording(people["b"].id)
    login(client, "a@example.com")
    body = client.get("/api/calls").json()
    assert body["count"] == 1 and body["data"][0]["call_sid"] == mine.provider_call_sid
    assert body["data"][0]["recording_status"] == "ready"
    recs = client.get("/api/calls/recordings", params={"limit": 10}).json()
    assert recs["count"] == 1 and recs["data"][0]["url"].startswith("http://127.0.0.1:3000/api/recordings/")
    one = client.get(f"/api/calls/recordings/{mine.provider_call_sid}").json()
    assert one["count"] == 1 and one["data"][0]["call_sid"] == mine.provider_call_sid
    assert client.get("/api/calls", params={"status": "exploded"}).status_code == 422
    assert client.get("/api/calls", params={"since": "2026-01-01T00:00:00"}).status_code == 422


def test_api_keys_read_everything_until_revoked(client, people):
    _call_with_recording(people["a"].id)
    _call_with_recording(people["b"].id)
    with session_scope() as db:
        key, secret = api_keys.create_key(db, people["admin"], "CRM")
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/calls", headers=headers).json()["count"] == 2
    recs = client.get("/api/calls/recordings", headers=headers).json()
    assert recs["count"] == 2
    signed = recs["data"][0]["url"].removeprefix("http://127.0.0.1:3000")
    assert client.get(signed).content == MP3  # the CRM fetches the signed link without the key
    assert client.get("/api/calls/token", headers=headers).status_code == 401  # keys cannot phone
    assert client.get("/api/calls", headers={"Authorization": "Bearer ak_wrong"}).status_code == 401
    with session_scope() as db:
        api_keys.revoke_key(db, key.id)
    assert client.get("/api/calls", headers=headers).status_code == 401


def test_only_admins_create_api_keys(db, people):
    from call_center.services.errors import Forbidden

    with pytest.raises(Forbidden):
        api_keys.create_key(db, people["a"], "nope")
