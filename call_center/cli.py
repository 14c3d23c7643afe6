"""`python -m call_center ...`: serve, migrate, create-agent (and, with later features, more)."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from call_center.core.config import ConfigError, Settings, get_settings

logger = logging.getLogger("call_center.cli")
ROOT = Path(__file__).resolve().parent.parent
FIRST_ADMIN_FILE = "first-admin-password.txt"


def _settings_or_exit() -> Settings:
    try:
        return get_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)


def migrate(url: str | None = None) -> None:
    """Apply every Alembic migration (alembic upgrade head)."""
    from alembic.config import Config

    from alembic import command

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["configure_logger"] = False
    if url:
        config.attributes["url"] = url
    command.upgrade(config, "head")


def ensure_admin(settings: Settings) -> None:
    """Create the first admin if the database has none; a generated password is printed once."""
    from call_center.core.db import session_scope
    from call_center.services import agents

    password = settings.ADMIN_PASSWORD.get_secret_value() if settings.ADMIN_PASSWORD else None
    with session_scope() as db:
        created, generated = agents.ensure_admin(
            db, email=settings.ADMIN_EMAIL, name=settings.ADMIN_NAME, password=password
        )
    if created is None:
        return
    if not generated:
        print(f"First admin created: {created.email} (password from ADMIN_PASSWORD)", flush=True)
        return
    if sys.stdout.isatty():
        banner = "=" * 72
        print(
            f"\n{banner}\n First admin created. Log in with:\n   email:    {created.email}\n"
            f"   password: {generated}\n"
            f" This password is shown only once; change it under My account.\n{banner}\n",
            flush=True,
        )
        return
    # Not a terminal (a service manager's journal, a log file): the password must not end up in a log.
    path = settings.data_dir / FIRST_ADMIN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"email: {created.email}\npassword: {generated}\n")
    os.chmod(path, 0o600)
    print(
        f"First admin created: {created.email}. Its generated password is in {path} (readable by this user "
        "only); read it, log in, change it under My account, then delete the file.",
        flush=True,
    )


def serve(args: argparse.Namespace) -> int:
    """Migrate, make sure an admin exists, then run the app on one port (Reflex prod, single port)."""
    from call_center.serve import Server, busy_ports

    started = time.monotonic()
    settings = _settings_or_exit()
    problems = busy_ports(settings)
    if problems:
        print("Cannot start: a port is taken.\n  - " + "\n  - ".join(problems), file=sys.stderr)
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.recordings_dir.mkdir(parents=True, exist_ok=True)
    settings.secret_key()  # generated once for local use, before any worker needs it
    migrate()
    ensure_admin(settings)
    return Server(settings, args.loglevel, started).run()


def media(_args: argparse.Namespace) -> int:
    """Run the local media server in the foreground."""
    import asyncio

    from call_center.telephony.local import server

    settings = _settings_or_exit()
    asyncio.run(server.run(settings))
    return 0


def create_agent(args: argparse.Namespace) -> int:
    """Add an agent from the command line."""
    from call_center.core.db import session_scope
    from call_center.services import agents
    from call_center.services.errors import DomainError

    _settings_or_exit()
    password = args.password or os.environ.get("AGENT_PASSWORD")
    if not password:
        password = getpass.getpass("Password (10+ characters): ")
        if getpass.getpass("Repeat: ") != password:
            print("The passwords differ.", file=sys.stderr)
            return 1
    try:
        with session_scope() as db:
            agent = agents.create_agent(
                db,
                email=args.email,
                name=args.name,
                password=password,
                role=args.role,
                language=args.language,
            )
    except DomainError as exc:
        print(f"Could not create the agent: {exc.detail}", file=sys.stderr)
        return 1
    print(f"Agent {agent.id} created: {agent.email} ({agent.role})")
    return 0


def demo_data(_args: argparse.Namespace) -> int:
    """Fill a fresh database with clearly marked sample agents, contacts and calls."""
    from call_center import demo
    from call_center.core.db import session_scope

    settings = _settings_or_exit()
    settings.recordings_dir.mkdir(parents=True, exist_ok=True)
    migrate()
    with session_scope() as db:
        return demo.run(settings, db)


def _migrate_command(_args: argparse.Namespace) -> int:
    _settings_or_exit()
    migrate()
    print("Database is up to date.")
    return 0


def backup_command(args: argparse.Namespace) -> int:
    return _backup_step(args, "backup")


def restore_command(args: argparse.Namespace) -> int:
    return _backup_step(args, "restore")


def _backup_step(args: argparse.Namespace, step: str) -> int:
    """`backup DIR` or `restore DIR [--force]`: a refusal is one line on stderr and exit code 2."""
    from call_center import backup

    settings = _settings_or_exit()
    try:
        if step == "backup":
            summary = backup.backup(settings, args.dir)
        else:
            summary = backup.restore(settings, args.dir, force=args.force)
    except backup.BackupError as exc:
        print(f"{step} {'failed' if step == 'backup' else 'refused'}: {exc}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{n} {table}" for table, n in summary.counts.items())
    if step == "backup":
        print(f"Backed up to {summary.path}: {counts}; {summary.files} files, {summary.size:,} bytes.")
    else:
        print(f"Restored {summary.path}: {counts}; {summary.files} files checked. Start the app.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from call_center.core.logging import setup_logging

    setup_logging()
    parser = argparse.ArgumentParser(prog="python -m call_center", description="AlMasar call center")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="migrate, ensure an admin, and serve the app on HOST:PORT")
    p.add_argument("--loglevel", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=serve)

    p = sub.add_parser("media", help="run the local provider's media server (serve starts it for you)")
    p.set_defaults(func=media)

    p = sub.add_parser(
        "demo-data", help="fill a fresh database with marked sample agents, contacts and calls"
    )
    p.set_defaults(func=demo_data)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=_migrate_command)

    p = sub.add_parser("create-agent", help="add an agent (or a supervisor, or an admin)")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=["agent", "supervisor", "admin"], default="agent")
    p.add_argument("--language", choices=["ar", "en"], default="ar")
    p.add_argument("--password", help="omit to be asked (or set AGENT_PASSWORD)")
    p.set_defaults(func=create_agent)

    p = sub.add_parser("backup", help="an online, consistent backup of the database and recordings into DIR")
    p.add_argument("dir", type=Path, help="a new (or empty) directory")
    p.set_defaults(func=backup_command)

    p = sub.add_parser("restore", help="restore a backup made by `backup` into this install")
    p.add_argument("dir", type=Path)
    p.add_argument(
        "--force", action="store_true", help="replace an install that holds data (it is kept aside)"
    )
    p.set_defaults(func=restore_command)

    from call_center.telephony.twilio import cli as twilio_cli

    twilio_cli.add_parser(sub)

    args = parser.parse_args(argv)
    return int(args.func(args) or 0)
