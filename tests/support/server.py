"""Start the real app (`python -m call_center serve`) on a free port with its own data (e2e, bench).

`RunningApp.stop()` stops it the way an operator does (one SIGTERM to serve; serve stops its children in
order) and then checks that every process of the tree is gone and the port is free: a test run leaves
nothing behind, and a stop that hangs or leaks is a failure, not a silent SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from call_center.core.processes import preexec_die_with_parent

ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "admin@almasar.test"
ADMIN_PASSWORD = "admin-password-123"
# Generous: a stop takes well under a second idle and a few seconds with calls; this only catches a hang.
STOP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LeftBehind(AssertionError):
    """Processes of the app were still running after it stopped."""


def process_tree(pid: int) -> list[psutil.Process]:
    """`pid` and all its descendants (empty if it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def wait_gone(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until every process has exited; returns those still alive after `timeout`."""
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def port_listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class RunningApp:
    url: str
    port: int
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)
    # Every process serve started, as seen once it served (reflex, its workers, the media server).
    tree: list[psutil.Process] = field(default_factory=list)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def refresh_tree(self) -> list[psutil.Process]:
        """Note the processes now in the tree (the media server may have been restarted)."""
        known = {p.pid for p in self.tree}
        self.tree += [p for p in process_tree(self.process.pid) if p.pid not in known]
        return self.tree

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait_stopped(self, timeout: float = STOP_TIMEOUT) -> float:
        """Wait until serve and every process it started are gone and the port is closed; the seconds it
        took. Raises LeftBehind (after killing the stragglers) if anything outlives the timeout."""
        started = time.monotonic()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout)  # serve itself through Popen, which keeps its exit code
        others = [p for p in self.tree or process_tree(self.process.pid) if p.pid != self.process.pid]
        left = wait_gone(others, max(0.0, timeout - (time.monotonic() - started)))
        if self.process.poll() is None:
            left.append(psutil.Process(self.process.pid))
        if left:
            described = [f"{p.pid} {' '.join(p.cmdline())[:100]}" for p in left if p.is_running()]
            for p in left:
                p.kill()
            raise LeftBehind(
                f"still running {timeout:.0f} s after the stop: {described}\n{self.log()[-3000:]}"
            )
        while port_listening(self.port):
            if time.monotonic() - started > timeout:
                raise LeftBehind(f"port {self.port} still open after the stop")
            time.sleep(0.05)
        return time.monotonic() - started

    def stop(self) -> float:
        """One SIGTERM to serve, as systemd or Ctrl-C would; returns how long the whole tree took to go."""
        self.refresh_tree()
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
        return self.wait_stopped()


def app_env(data_dir: Path, port: int, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "ADMIN_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    return {
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


def start_app(data_dir: Path, *, extra_env: dict[str, str] | None = None, timeout: float = 240) -> RunningApp:
    """Serve the app and wait until /api/health and the login page answer."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = app_env(data_dir, port, extra_env)
    log_path = data_dir / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "call_center", "serve", "--loglevel", "warning"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # serve stays in the test run's process group (Ctrl-C reaches it) and goes if pytest is killed
            preexec_fn=preexec_die_with_parent(signal.SIGTERM),
        )
    app = RunningApp(f"http://127.0.0.1:{port}", port, data_dir, log_path, process, env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{app.log()[-4000:]}")
        try:
            # the frontend is mounted by the same server; make sure it answers too
            healthy = httpx.get(f"{app.url}/api/health", timeout=2).status_code == 200
            if healthy and httpx.get(f"{app.url}/login/", timeout=5).status_code == 200:
                app.refresh_tree()
                return app
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    app.stop()
    raise RuntimeError(f"the app did not start within {timeout} s:\n{app.log()[-4000:]}")
