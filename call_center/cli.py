"""`python -m call_center ...`: serve, migrate, create-agent (and, with later features, more)."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from call_center.core.config import ConfigError, Settings, get_settings

logger = logging.getLogger("call_center.cli")
ROOT = Path(__file__).resolve().parent.parent


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
    if generated:
        banner = "=" * 72
        print(
            f"\n{banner}\n First admin created. Log in with:\n   email:    {created.email}\n"
            f"   password: {generated}\n"
            f" This password is shown only once; change it in Settings.\n{banner}\n",
            flush=True,
        )
    else:
        print(f"First admin created: {created.email} (password from ADMIN_PASSWORD)", flush=True)


def reflex_env(settings: Settings) -> dict[str, str]:
    """The environment Reflex's build needs: the venv's Node 24 and bun first on PATH, no telemetry."""
    env = dict(os.environ)
    venv = Path(sys.prefix)
    paths = [str(venv / "bin"), str(venv / "js" / "node_modules" / ".bin")]
    env["PATH"] = os.pathsep.join([*paths, env.get("PATH", "")])
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    env.setdefault("REFLEX_CHECK_LATEST_VERSION", "0")
    if (venv / ".use-npm").exists():
        env.setdefault("REFLEX_USE_NPM", "1")
    else:
        env.setdefault("REFLEX_USE_SYSTEM_BUN", "1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _announce_when_up(settings: Settings, started: float, stop: threading.Event) -> None:
    url = f"http://{'127.0.0.1' if settings.HOST in ('0.0.0.0', '::') else settings.HOST}:{settings.PORT}"
    while not stop.wait(0.25):
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                print(f"[call-center] serving at {url} ({time.monotonic() - started:.1f} s)", flush=True)
                return
        except httpx.HTTPError:
            continue


def serve(args: argparse.Namespace) -> int:
    """Migrate, make sure an admin exists, then run the app on one port (Reflex prod, single port)."""
    started = time.monotonic()
    settings = _settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.recordings_dir.mkdir(parents=True, exist_ok=True)
    settings.secret_key()  # generated once for local use, before any worker needs it
    migrate()
    ensure_admin(settings)
    stop = threading.Event()
    media = MediaSupervisor(stop) if settings.TELEPHONY_PROVIDER == "local" else None
    command = [
        sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
        "--frontend-port", str(settings.PORT), "--backend-port", str(settings.PORT),
        "--backend-host", settings.HOST, "--loglevel", args.loglevel,
    ]  # fmt: skip
    reflex = subprocess.Popen(command, cwd=ROOT, env=reflex_env(settings), start_new_session=True)
    threading.Thread(target=_announce_when_up, args=(settings, started, stop), daemon=True).start()

    def shut_down(signum: int, _frame: object) -> None:
        # The media server goes first: it ends calls and its callbacks must still reach the app.
        stop.set()
        if media is not None:
            media.stop()
        _stop(reflex, 20)

    signal.signal(signal.SIGINT, shut_down)
    signal.signal(signal.SIGTERM, shut_down)
    code = reflex.wait()
    stop.set()
    if media is not None:
        media.stop()
    return code


class MediaSupervisor:
    """Runs the local media server and starts it again if it dies (it then finalises what it left)."""

    def __init__(self, stop: threading.Event):
        self._stop = stop
        self._lock = threading.Lock()
        self.process = start_media_server()
        self.restarts = 0
        threading.Thread(target=self._watch, daemon=True, name="media-supervisor").start()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            with self._lock:
                code = self.process.poll()
                if code is None or self._stop.is_set():
                    continue
                self.restarts += 1
                print(f"[call-center] the media server exited ({code}); starting it again", flush=True)
                time.sleep(min(5.0, 0.5 * self.restarts))
                self.process = start_media_server()

    def stop(self) -> None:
        with self._lock:
            _stop(self.process, 20)


def _stop(proc: subprocess.Popen[bytes], timeout: float) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def start_media_server() -> subprocess.Popen[bytes]:
    """The local provider's media server, in its own process (and process group)."""
    return subprocess.Popen([sys.executable, "-m", "call_center", "media"], cwd=ROOT, start_new_session=True)


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


def _migrate_command(_args: argparse.Namespace) -> int:
    _settings_or_exit()
    migrate()
    print("Database is up to date.")
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

    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=_migrate_command)

    p = sub.add_parser("create-agent", help="add an agent (or an admin)")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=["agent", "admin"], default="agent")
    p.add_argument("--language", choices=["ar", "en"], default="ar")
    p.add_argument("--password", help="omit to be asked (or set AGENT_PASSWORD)")
    p.set_defaults(func=create_agent)

    from call_center.telephony.twilio import cli as twilio_cli

    twilio_cli.add_parser(sub)

    args = parser.parse_args(argv)
    return int(args.func(args) or 0)
