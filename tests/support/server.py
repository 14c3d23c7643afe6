"""Start the real app (`python -m call_center serve`) on a free port with its own data (e2e, bench)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "admin@almasar.test"
ADMIN_PASSWORD = "admin-password-123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningApp:
    url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def start_app(data_dir: Path, *, extra_env: dict[str, str] | None = None, timeout: float = 240) -> RunningApp:
    """Serve the app and wait until /api/health answers 200."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "ADMIN_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env = {
        **inherited,
        "CALL_CENTER_ENV_FILE": "/nonexistent/.env",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DATA_DIR": str(data_dir),
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "MEDIA_CONTROL_PORT": str(free_port()),
        # A build directory per app: a second app rebuilding a shared one would pull the frontend from
        # under the first (and tests never fight a `make run` in the same checkout).
        "REFLEX_WEB_WORKDIR": str(data_dir.parent / "web"),
        "REFLEX_STATES_WORKDIR": str(data_dir / "states"),
        **(extra_env or {}),
    }
    log_path = data_dir / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "call_center", "serve", "--loglevel", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    app = RunningApp(f"http://127.0.0.1:{port}", data_dir, log_path, process, env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{app.log()[-4000:]}")
        try:
            # the frontend is mounted by the same server; make sure it answers too
            healthy = httpx.get(f"{app.url}/api/health", timeout=2).status_code == 200
            if healthy and httpx.get(f"{app.url}/login/", timeout=5).status_code == 200:
                return app
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    app.stop()
    raise RuntimeError(f"the app did not start within {timeout} s:\n{app.log()[-4000:]}")
