"""The app under test: a disposable one started for the test run, or an existing deployment.

- `start_app(data_dir, settings)` serves the real app (`python -m call_center serve`, the command
  `make run` uses) on a free port with its own data directory, on the embedded defaults or the settings
  given, and waits until pages and API answer. `stop()` stops it the way an operator does (one SIGTERM;
  serve ends live calls, finalises recordings, stops its children) and checks that every process of the
  tree is gone and the port is free: a run leaves nothing behind, and a stop that hangs is a failure.
- `connect(url, email, password)` uses an app that is already running (local provider only: the kit's
  test phones are the local provider's simulated phones).

Both answer the same questions through the app's own HTTP API (`latest_call`, `recordings`), so a flow
written against one runs against the other.
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
from typing import Any

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
class Account:
    email: str
    password: str
    role: str = "agent"


@dataclass
class CallCenterApp:
    """A running call center, reached over HTTP like a browser or the CRM reaches it."""

    url: str
    admin: Account

    def login(self, email: str, password: str) -> dict[str, str]:
        """Log in through the API; the session cookie."""
        response = httpx.post(
            f"{self.url}/api/auth/login",
            json={"email": email, "password": password},
            headers={"Origin": self.url},
            timeout=15,
        )
        if response.status_code != 200:
            raise AssertionError(f"login as {email} failed: {response.status_code} {response.text[:200]}")
        return {"cc_session": response.cookies["cc_session"]}

    def api(self, account: Account | None = None) -> httpx.Client:
        """An HTTP client logged in as `account` (the admin by default)."""
        who = account or self.admin
        return httpx.Client(
            base_url=self.url, cookies=self.login(who.email, who.password), headers={"Origin": self.url}
        )

    def calls(self, **filters: Any) -> list[dict[str, Any]]:
        """Calls as the history lists them (newest first), through GET /api/calls."""
        with self.api() as client:
            response = client.get("/api/calls", params={"page_size": 50, **filters})
            response.raise_for_status()
            return list(response.json()["data"])

    def call(self, call_id: int) -> dict[str, Any]:
        """One call with its chain of agents and its timeline (GET /api/calls/{id})."""
        with self.api() as client:
            response = client.get(f"/api/calls/{call_id}")
            response.raise_for_status()
            return dict(response.json())

    def timeline(self, call_id: int) -> list[dict[str, Any]]:
        """The call's steps (hold, resume, transfer-cold, transfer-answered, transfer-completed...)."""
        return list(self.call(call_id)["timeline"])

    def latest_call(self) -> dict[str, Any]:
        found = self.calls(page_size=1)
        if not found:
            raise AssertionError("there is no call yet")
        return found[0]

    def wait_for_call(self, timeout: float = 15, **fields: Any) -> dict[str, Any]:
        """The newest call whose fields have these values, once it does (e.g. status="busy")."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            for call in self.calls(page_size=10):
                last = last or call
                if all(call.get(k) == v for k, v in fields.items()):
                    return call
            time.sleep(0.2)
        raise AssertionError(f"no call with {fields} within {timeout} s (newest: {last})")

    def wait_webhooks_applied(self, timeout: float = 15) -> None:
        """Until the app has applied every Twilio webhook it acknowledged. The app answers a webhook once it
        has stored it and applies it just after (its REST calls, the history's row follow); a flow that plays
        Twilio's part waits here before it expects them. Reads `almasar_webhook_inbox_pending` off
        /api/metrics as the admin."""
        deadline, pending = time.monotonic() + timeout, "?"
        with self.api() as client:
            while time.monotonic() < deadline:
                response = client.get("/api/metrics")
                response.raise_for_status()
                for line in response.text.splitlines():
                    if line.startswith("almasar_webhook_inbox_pending "):
                        pending = line.split()[1]
                if pending != "?" and float(pending) == 0:
                    return
                time.sleep(0.05)
        raise AssertionError(f"{pending} webhooks still not applied after {timeout} s")


@dataclass
class DisposableApp(CallCenterApp):
    """An app this test run started (and stops): its data directory, log and processes are ours."""

    port: int = 0
    data_dir: Path = Path()
    log_path: Path = Path()
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)
    # Every process serve started, as seen once it served (reflex, its workers, the media server).
    tree: list[psutil.Process] = field(default_factory=list)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def refresh_tree(self) -> list[psutil.Process]:
        """Note the processes now in the tree (the media server may have been restarted)."""
        known = {p.pid for p in self.tree}
        self.tree += [p for p in process_tree(self.pid) if p.pid not in known]
        return self.tree

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def create_agent(self, email: str, name: str, password: str, role: str = "agent") -> Account:
        """Add an agent with the app's own command (`python -m call_center create-agent`)."""
        subprocess.run(
            [sys.executable, "-m", "call_center", "create-agent", "--email", email, "--name", name,
             "--password", password, "--role", role],
            cwd=ROOT, env=self.env, check=True, capture_output=True,
        )  # fmt: skip
        return Account(email, password, role)

    def wait_stopped(self, timeout: float = STOP_TIMEOUT) -> float:
        """Wait until serve and every process it started are gone and the port is closed; the seconds it
        took. Raises LeftBehind (after killing the stragglers) if anything outlives the timeout."""
        assert self.process is not None
        started = time.monotonic()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout)  # serve itself through Popen, which keeps its exit code
        others = [p for p in self.tree or process_tree(self.pid) if p.pid != self.pid]
        left = wait_gone(others, max(0.0, timeout - (time.monotonic() - started)))
        if self.process.poll() is None:
            left.append(psutil.Process(self.pid))
        if left:
            described = [f"{p.pid} {' '.join(p.cmdline())[:100]}" for p in left if p.is_running()]
            for p in left:
                p.kill()
            log = self.log()[-3000:]
            raise LeftBehind(f"still running {timeout:.0f} s after the stop: {described}\n{log}")
        while port_listening(self.port):
            if time.monotonic() - started > timeout:
                raise LeftBehind(f"port {self.port} still open after the stop")
            time.sleep(0.05)
        return time.monotonic() - started

    def stop(self) -> float:
        """One SIGTERM to serve, as systemd or Ctrl-C would; returns how long the whole tree took to go."""
        self.refresh_tree()
        if self.process is not None and self.process.poll() is None:
            self.signal(signal.SIGTERM)
        return self.wait_stopped()

    def restart(self, timeout: float = 240) -> None:
        """Stop the app and serve it again on the same address with the same data (a deploy, a crash
        and its restart): open pages stay open and must find their way back."""
        self.stop()
        self.restart_after_stop(timeout)

    def restart_after_stop(self, timeout: float = 240) -> None:
        """Serve the stopped app again (same address, same data)."""
        assert self.process is None or self.process.poll() is not None, "stop the app first"
        self.process = _launch(self.env, self.log_path)
        self.tree = []
        _wait_ready(self, timeout)


def app_env(data_dir: Path, port: int, settings: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a disposable app: nothing inherited that would point it at real data."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "ADMIN_", "CALL_CENTER_")) and k not in ("DATABASE_URL", "REDIS_URL")
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
        **(settings or {}),
    }


def _launch(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "call_center", "serve", "--loglevel", "warning"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # serve stays in the test run's process group (Ctrl-C reaches it) and goes if pytest is killed
            preexec_fn=preexec_die_with_parent(signal.SIGTERM),
        )


def _wait_ready(app: DisposableApp, timeout: float) -> None:
    assert app.process is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise RuntimeError(f"the app exited with {app.process.returncode}:\n{app.log()[-4000:]}")
        try:
            # the frontend is mounted by the same server; make sure it answers too
            healthy = httpx.get(f"{app.url}/api/health", timeout=2).status_code == 200
            if healthy and httpx.get(f"{app.url}/login/", timeout=5).status_code == 200:
                app.refresh_tree()
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    app.stop()
    raise RuntimeError(f"the app did not start within {timeout} s:\n{app.log()[-4000:]}")


def start_app(
    data_dir: Path, settings: dict[str, str] | None = None, *, timeout: float = 240
) -> DisposableApp:
    """Serve the app on a free port with its own data and wait until the API and the pages answer."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = app_env(data_dir, port, settings)
    log_path = data_dir / "server.log"
    app = DisposableApp(
        f"http://127.0.0.1:{port}",
        Account(ADMIN_EMAIL, ADMIN_PASSWORD, "admin"),
        port=port,
        data_dir=data_dir,
        log_path=log_path,
        process=_launch(env, log_path),
        env=env,
    )
    _wait_ready(app, timeout)
    return app


def connect(url: str, email: str, password: str) -> CallCenterApp:
    """An app that is already running (e.g. a test deployment), administered with these credentials."""
    app = CallCenterApp(url.rstrip("/"), Account(email, password, "admin"))
    app.login(email, password)  # fail now, with a clear message, if the credentials are wrong
    return app
