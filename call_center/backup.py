"""`python -m call_center backup DIR` and `restore DIR [--force]`: the database and the recordings store,
online (calls go on while it runs) and consistent.

A backup is a directory:
    manifest.json        what is in it: the database's kind and migration, row counts, every file's sha256
    database.sqlite      SQLite's online backup API (a consistent copy; writers are not stopped), or
    database.pgdump      pg_dump -Fc of the same snapshot the row counts were read in
    recordings/...       the recordings store, copied after the database (every recording the copy calls
                         ready was complete by then: a file is stored before its row turns ready)
    secret_key           the generated signing key (DATA_DIR/.secret_key), when SECRET_KEY is not set

It is written under DIR.partial-<pid> and renamed to DIR when complete, so a backup killed midway never
looks like a finished one. Restore checks every checksum before it touches anything, refuses an install
that already holds data unless --force, and then keeps what it replaces (*.before-restore-<time>).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy as sa

from call_center.core.config import Settings
from call_center.core.files import fsync_path

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite"
PG_FILE = "database.pgdump"
RECORDINGS = "recordings"
SECRET_FILE = "secret_key"
COUNTED = ("agent", "call", "call_event", "recording", "contact", "callback_item")


class BackupError(Exception):
    """What went wrong, in words an admin can act on (the CLI prints it and exits 2)."""


@dataclass
class Summary:
    path: Path
    counts: dict[str, int]
    files: int
    size: int


# Backup --------------------------------------------------------------------------------------------------
def backup(settings: Settings, target: Path) -> Summary:
    target = target.expanduser().resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} exists and is not empty: give a new directory for each backup")
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True, mode=0o700)
    try:
        if settings.is_sqlite:
            kind, counts, revision = "sqlite", *_sqlite_backup(_sqlite_path(settings), partial / SQLITE_FILE)
        else:
            kind, counts, revision = "postgresql", *_pg_backup(settings.database_url, partial / PG_FILE)
        missing = _copy_recordings(settings, partial)
        secret = settings.data_dir / ".secret_key"
        if settings.SECRET_KEY is None and secret.is_file():
            shutil.copy2(secret, partial / SECRET_FILE)
            os.chmod(partial / SECRET_FILE, 0o600)
        files: dict[str, dict[str, Any]] = {
            str(path.relative_to(partial)): {"size": path.stat().st_size, "sha256": _sha256(path)}
            for path in sorted(partial.rglob("*"))
            if path.is_file()
        }
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "database": kind,
            "alembic_revision": revision,
            "counts": counts,
            "missing_recordings": missing,
            "files": files,
        }
        _write_json(partial / MANIFEST, manifest)
        _fsync_tree(partial)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.rmdir()  # (empty: checked above)
        os.rename(partial, target)
        fsync_path(target.parent)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Summary(target, counts, len(files), sum(int(f["size"]) for f in files.values()))


def _sqlite_path(settings: Settings) -> Path:
    return Path(unquote(settings.database_url.split(":///", 1)[1].split("?", 1)[0]))


def _sqlite_backup(source: Path, copy: Path) -> tuple[dict[str, int], str | None]:
    if not source.is_file():
        raise BackupError(f"no database at {source}: check DATA_DIR / DATABASE_URL")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(copy)
    try:
        src.backup(dst)  # one step: a consistent snapshot (WAL lets the app go on writing meanwhile)
    finally:
        src.close()
    try:
        return _counts(dst), _revision(dst)
    finally:
        dst.close()


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in COUNTED if t in tables}


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def libpq_url(url: str) -> tuple[str, str | None]:
    """SQLAlchemy's postgresql+psycopg:// URL as libpq's, and the schema its search_path names (if any)."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    schema = None
    for option in parse_qs(parts.query).get("options", []):
        for word in option.split():
            if word.startswith("-csearch_path="):
                schema = word.split("=", 1)[1].split(",")[0].strip() or None
    return parts._replace(scheme=scheme).geturl(), schema


def _pg_backup(url: str, dump: Path) -> tuple[dict[str, int], str | None]:
    """pg_dump of the snapshot the counts were read in (pg_export_snapshot): the manifest describes exactly
    the dump, while the app goes on writing."""
    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is needed for a PostgreSQL backup: sudo apt-get install postgresql-client")
    dsn, schema = libpq_url(url)
    engine = sa.create_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            tables = set(sa.inspect(conn).get_table_names())
            counts = {
                t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                for t in COUNTED
                if t in tables
            }
            revision = (
                conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
                if "alembic_version" in tables
                else None
            )
            command = ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={dump}", "--no-owner"]
            if schema:
                command.append(f"--schema={schema}")
            result = subprocess.run([*command, f"--dbname={dsn}"], capture_output=True, text=True)
            conn.commit()
    finally:
        engine.dispose()
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()[-500:]}")
    return counts, revision


def _copy_recordings(settings: Settings, into: Path) -> list[str]:
    """Copy the store (skipping half-written temp files); returns ready recordings whose file is missing."""
    store = settings.recordings_dir
    if store.is_dir():
        for path in sorted(store.rglob("*")):
            if path.is_file() and not path.name.startswith(".tmp-"):
                target = into / RECORDINGS / path.relative_to(store)
                target.parent.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(FileNotFoundError):  # deleted meanwhile (retention): not in the copy
                    shutil.copy2(path, target)
    keys = _ready_keys(into)
    return sorted(k for k in keys if not (into / RECORDINGS / k).is_file())


def _ready_keys(backup_dir: Path) -> list[str]:
    copy = backup_dir / SQLITE_FILE
    if not copy.is_file():
        return []  # (PostgreSQL: the dump is not readable here; restore checks the files instead)
    conn = sqlite3.connect(copy)
    try:
        return [
            r[0] for r in conn.execute("SELECT storage_key FROM recording WHERE status = 'ready'") if r[0]
        ]
    except sqlite3.Error:
        return []
    finally:
        conn.close()


# Restore -------------------------------------------------------------------------------------------------
def restore(settings: Settings, source: Path, *, force: bool = False) -> Summary:
    source = source.expanduser().resolve()
    manifest = read_manifest(source)
    verify(source, manifest)
    kind = "sqlite" if settings.is_sqlite else "postgresql"
    if manifest["database"] != kind:
        raise BackupError(
            f"this backup is of a {manifest['database']} database and DATABASE_URL points at {kind}: "
            "restore it into the same kind of database"
        )
    held = _install_holds(settings)
    if held and not force:
        raise BackupError(
            f"this install already holds data ({held}); restoring would replace it. Stop the app, then run "
            "restore again with --force (what it replaces is kept as *.before-restore-<time>)"
        )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    if kind == "sqlite":
        _sqlite_restore(source / SQLITE_FILE, _sqlite_path(settings), stamp)
    else:
        _pg_restore(settings.database_url, source / PG_FILE)
    _restore_recordings(source, settings.recordings_dir, stamp)
    secret = source / SECRET_FILE
    if secret.is_file() and settings.SECRET_KEY is None:
        key = settings.data_dir / ".secret_key"
        if key.exists():
            os.replace(key, key.with_name(f".secret_key.before-restore-{stamp}"))
        shutil.copy2(secret, key)
        os.chmod(key, 0o600)
    from call_center.cli import migrate

    migrate(settings.database_url)  # a backup of an older version: brought up to this one's schema
    files = manifest["files"]
    return Summary(source, manifest["counts"], len(files), sum(f["size"] for f in files.values()))


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not path.is_file():
        partial = sorted(source.parent.glob(f"{source.name}.partial-*"))
        hint = f" ({partial[0].name} is an unfinished one)" if partial else ""
        raise BackupError(f"{source} is not a finished backup: it has no {MANIFEST}{hint}")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{source} is a backup of format {manifest.get('format')!r}; this version reads {FORMAT}"
        )
    return manifest


def verify(source: Path, manifest: dict[str, Any]) -> None:
    """Every file the manifest lists, with its size and checksum; nothing is restored from a damaged copy."""
    for name, expected in manifest["files"].items():
        path = source / name
        if not path.is_file():
            raise BackupError(f"the backup is incomplete: {name} is missing")
        if path.stat().st_size != expected["size"] or _sha256(path) != expected["sha256"]:
            raise BackupError(f"the backup is damaged: {name} does not match its checksum")


def _install_holds(settings: Settings) -> str:
    """What data this install has ('' when it is empty): calls, agents beyond a first admin, recordings."""
    found = []
    if settings.is_sqlite and not _sqlite_path(settings).is_file():
        return ""  # (connecting would create an empty database file)
    try:
        engine = sa.create_engine(settings.database_url)
        try:
            with engine.connect() as conn:
                tables = set(sa.inspect(conn).get_table_names())
                for table in ("call", "contact"):
                    if table in tables:
                        n = conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one()
                        if n:
                            found.append(f"{n} {table} rows")
                if "agent" in tables:
                    n = conn.execute(sa.text("SELECT count(*) FROM agent")).scalar_one()
                    if n > 1:
                        found.append(f"{n} agents")
        finally:
            engine.dispose()
    except sa.exc.OperationalError:
        pass  # no database yet (a fresh install): nothing to lose there
    store = settings.recordings_dir
    if store.is_dir() and any(p.is_file() for p in store.rglob("*")):
        found.append(f"recordings in {store}")
    return ", ".join(found)


def _sqlite_restore(copy: Path, target: Path, stamp: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restoring")
    shutil.copy2(copy, staged)
    _fsync(staged)
    if target.exists():
        os.replace(target, target.with_name(f"{target.name}.before-restore-{stamp}"))
    for suffix in ("-wal", "-shm"):  # the old database's journal must not be replayed onto the new one
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(staged, target)
    fsync_path(target.parent)


def _pg_restore(url: str, dump: Path) -> None:
    if shutil.which("pg_restore") is None:
        raise BackupError("pg_restore is needed: sudo apt-get install postgresql-client")
    dsn, _schema = libpq_url(url)
    result = subprocess.run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={dsn}",
            str(dump),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing was changed): {result.stderr.strip()[-500:]}")


def _restore_recordings(source: Path, store: Path, stamp: str) -> None:
    copy = source / RECORDINGS
    if store.exists() and any(store.iterdir()):
        os.replace(store, store.with_name(f"{store.name}.before-restore-{stamp}"))
    store.mkdir(parents=True, exist_ok=True)
    if copy.is_dir():
        for path in sorted(copy.rglob("*")):
            if path.is_file():
                target = store / path.relative_to(copy)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
    _fsync_tree(store)


# Helpers -------------------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _walk_dirs(root: Path) -> Iterator[Path]:
    yield root
    yield from (p for p in root.rglob("*") if p.is_dir())


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            _fsync(path)
    for directory in _walk_dirs(root):
        fsync_path(directory)
