"""`python -m call_center backup` / `restore`, for real: a backup taken while calls go on (synthetic WebRTC
legs through the app and its media server, whose signed callbacks keep coming), restored into a fresh
install that then serves the same calls, events and recordings (same bytes); PostgreSQL's path with
pg_dump on a snapshot while the app's own command keeps writing."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from call_center.testing.server import ADMIN_EMAIL, ADMIN_PASSWORD, ROOT, DisposableApp, start_app
from tests.conftest import PG_ADMIN_URL
from tests.support import appdb
from tests.support.legs import EventStream, Leg, agent_answers, login, phone_calls_company, phone_token

AGENT_EMAIL, PASSWORD = "backup-agent@almasar.test", "agent-password-123"


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "call_center", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(db: Path, sql: str, *params: Any) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        return list(conn.execute(sql, params))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    # no after-call work: the agent takes the next call at once (the traffic is one call after another)
    running = start_app(tmp_path_factory.mktemp("backup") / "data", settings={"WRAPUP_SECONDS": "0"})
    created = _cli(
        running.env, "create-agent", "--email", AGENT_EMAIL, "--name", "Agent B", "--password", PASSWORD
    )
    assert created.returncode == 0, created.stderr
    yield running
    running.stop()


async def _calls(app: DisposableApp, http, number: str, stop: asyncio.Event, done: list[str]) -> None:
    """Phone -> company -> the agent answers -> they talk a moment -> the agent hangs up; until `stop`."""
    admin_cookies = login(app, ADMIN_EMAIL, ADMIN_PASSWORD)
    phone, agent = http(admin_cookies), http(login(app, AGENT_EMAIL, PASSWORD))
    token = await phone_token(app, admin_cookies, number)
    async with EventStream(agent) as softphone:
        while not stop.is_set():
            legs = [Leg(), Leg((300, 500))]
            try:
                sid = await phone_calls_company(phone, token, legs[0])
                await softphone.wait_for("incoming", call_sid=sid)
                await agent_answers(agent, sid, legs[1])
                await softphone.wait_for("status", call_sid=sid, status="in-progress")
                await asyncio.sleep(1.5)
                assert (await agent.post(f"/api/local/calls/{sid}/hangup")).status_code == 204
                await softphone.wait_for("status", call_sid=sid, status="completed")
                done.append(sid)
            finally:
                for leg in legs:
                    await leg.close()


def _ready(app: DisposableApp, sids: list[str]) -> list[dict]:
    marks = ",".join("?" * len(sids))
    return appdb.rows(
        app,
        "SELECT c.id, c.provider_call_sid AS sid, r.storage_key FROM call c "
        f"JOIN recording r ON r.call_id = c.id WHERE c.provider_call_sid IN ({marks}) AND r.status = 'ready'",
        *sids,
    )


async def test_a_backup_taken_during_calls_restores_every_call_event_and_recording(app, http, tmp_path):
    stop, done = asyncio.Event(), []
    traffic = asyncio.create_task(_calls(app, http, "+201000000041", stop, done))
    try:
        while len(done) < 2:  # two calls over, a third under way while the backup runs
            await asyncio.sleep(0.1)
            assert not traffic.done(), traffic.exception()
        finished = await asyncio.to_thread(appdb.wait_for, lambda: len(r := _ready(app, done[:2])) == 2 and r)
        backup_dir = tmp_path / "backup-1"
        backup = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "call_center", "backup", str(backup_dir), cwd=ROOT, env=app.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await backup.communicate()
        assert backup.returncode == 0, err.decode()
        assert "Backed up to" in out.decode()
        while len(done) < 3:  # the calls went on during the backup
            await asyncio.sleep(0.1)
            assert not traffic.done(), traffic.exception()
    finally:
        stop.set()
        await traffic

    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert not list(tmp_path.glob("backup-1.partial-*")), "the backup's working directory is gone"
    copy = backup_dir / "database.sqlite"
    for table, count in manifest["counts"].items():  # the manifest describes the copy exactly
        assert _rows(copy, f'SELECT count(*) FROM "{table}"')[0][0] == count, table
    assert manifest["missing_recordings"] == []

    # Restore into a fresh install (a new DATA_DIR), then serve it.
    fresh = tmp_path / "restored" / "data"
    env = {**app.env, "DATA_DIR": str(fresh)}
    restored = _cli(env, "restore", str(backup_dir))
    assert restored.returncode == 0, restored.stderr
    source_db, restored_db = app.data_dir / "call_center.db", fresh / "call_center.db"
    ids = [r["id"] for r in finished]
    marks = ",".join("?" * len(ids))
    for sql in (
        f"SELECT * FROM call WHERE id IN ({marks}) ORDER BY id",
        f"SELECT * FROM call_event WHERE call_id IN ({marks}) ORDER BY id",
        f"SELECT * FROM recording WHERE call_id IN ({marks}) ORDER BY id",
        f"SELECT * FROM call_party WHERE call_id IN ({marks}) ORDER BY id",
    ):
        before, after = _rows(source_db, sql, *ids), _rows(restored_db, sql, *ids)
        assert before and after == before, sql
    for row in finished:  # the same bytes
        key = row["storage_key"]
        assert _sha(fresh / "recordings" / key) == _sha(app.data_dir / "recordings" / key), key
    for name, meta in manifest["files"].items():
        assert meta["sha256"] == _sha(backup_dir / name)
    assert _rows(restored_db, "SELECT count(*) FROM call")[0][0] == manifest["counts"]["call"]

    # A second restore onto data is refused (nothing changes) unless --force, which keeps what it replaced.
    checksum = _sha(restored_db)
    again = _cli(env, "restore", str(backup_dir))
    assert again.returncode == 2 and "--force" in again.stderr and "calls" not in again.stdout
    assert "call rows" in again.stderr, again.stderr
    assert _sha(restored_db) == checksum
    forced = _cli(env, "restore", str(backup_dir), "--force")
    assert forced.returncode == 0, forced.stderr
    assert list(fresh.glob("call_center.db.before-restore-*")) and list(
        fresh.parent.glob("data/recordings.before-*")
    )

    # A damaged backup is refused before anything is touched.
    damaged = tmp_path / "damaged"
    subprocess.run(["cp", "-a", str(backup_dir), str(damaged)], check=True)
    key = finished[0]["storage_key"]
    (damaged / "recordings" / key).write_bytes(b"not the recording")
    refused = _cli({**app.env, "DATA_DIR": str(tmp_path / "other" / "data")}, "restore", str(damaged))
    assert refused.returncode == 2 and "damaged" in refused.stderr and key in refused.stderr
    assert not (tmp_path / "other" / "data" / "call_center.db").exists()
    # ... and so is a directory that is not a finished backup, or a backup onto an existing one.
    assert _cli(env, "restore", str(tmp_path)).returncode == 2
    assert _cli(app.env, "backup", str(backup_dir)).returncode == 2

    # The restored install serves the same history and the same recording.
    served = start_app(fresh)
    try:
        cookies = login(served, ADMIN_EMAIL, ADMIN_PASSWORD)
        calls = httpx.get(f"{served.url}/api/calls", params={"page_size": 100}, cookies=cookies).json()
        assert {c["id"] for c in calls["data"]} >= set(ids)
        recording = appdb.recording_of(served, ids[0])
        assert recording is not None
        mp3 = httpx.get(f"{served.url}/api/recordings/{recording['id']}.mp3", cookies=cookies)
        assert mp3.status_code == 200
        assert hashlib.sha256(mp3.content).hexdigest() == _sha(app.data_dir / "recordings" / key)
    finally:
        served.stop()


@pytest.mark.postgres
def test_postgresql_backup_is_one_snapshot_while_the_app_writes_and_restores_into_a_new_database(
    pg_schema_url, tmp_path
):
    data = tmp_path / "data"
    env = {
        **_clean_env(),
        "DATA_DIR": str(data),
        "DATABASE_URL": pg_schema_url,
        "SECRET_KEY": "backup-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
    }
    assert _cli(env, "demo-data").returncode == 0
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:  # the app's own command keeps adding agents while the backup runs
        n = 0
        while not stop.is_set():
            n += 1
            result = _cli(env, "create-agent", "--email", f"live{n}@almasar.test", "--name", f"Live {n}",
                          "--password", PASSWORD)  # fmt: skip
            assert result.returncode == 0, result.stderr
            written.append(n)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 1:
            threading.Event().wait(0.05)
        result = _cli(env, "backup", str(tmp_path / "pg-backup"))
    finally:
        stop.set()
        thread.join()
    assert result.returncode == 0, result.stderr
    assert written, "the app wrote during the backup"
    manifest = json.loads((tmp_path / "pg-backup" / "manifest.json").read_text())
    assert manifest["database"] == "postgresql" and manifest["counts"]["call"] > 0

    database = f"restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        restored_url = pg_schema_url.replace("/test?", f"/{database}?")
        restored_env = {**env, "DATABASE_URL": restored_url, "DATA_DIR": str(tmp_path / "restored")}
        restored = _cli(restored_env, "restore", str(tmp_path / "pg-backup"))
        assert restored.returncode == 0, restored.stderr
        source, target = create_engine(pg_schema_url), create_engine(restored_url)
        try:
            for table, count in manifest["counts"].items():  # exactly the snapshot the counts were read in
                with target.connect() as conn:
                    assert conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one() == count, table
            for table in ("call", "call_event", "recording", "contact"):
                query = text(f'SELECT * FROM "{table}" ORDER BY id')
                with source.connect() as a, target.connect() as b:
                    assert list(a.execute(query)) == list(b.execute(query)), table
            again = _cli(restored_env, "restore", str(tmp_path / "pg-backup"))
            assert again.returncode == 2 and "--force" in again.stderr
            assert _cli(restored_env, "restore", str(tmp_path / "pg-backup"), "--force").returncode == 0
        finally:
            source.dispose()
            target.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{database}" WITH (FORCE)'))
        admin.dispose()


def _clean_env() -> dict[str, str]:
    from call_center.testing.server import app_env

    env = app_env(Path("/nonexistent"), 0)
    return {k: v for k, v in env.items() if k not in ("DATA_DIR", "PORT", "MEDIA_CONTROL_PORT")}
