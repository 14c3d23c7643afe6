"""`python -m call_center serve`: the app's processes, started in order and stopped in order, once.

serve ── media server (local provider; restarted if it crashes)
      └─ reflex run (granian supervisor) ── worker(s)

Signals only record that a stop was asked for (a counter and a byte on a self-pipe); the stop itself runs
once, in the main loop, in this order:
  1. the media server stops taking new calls,
  2. it ends every live call and finalises the recordings,
  3. its last callbacks reach the app and are applied (the app is still up),
  4. Reflex stops,
  5. exit 0.
A second signal during the stop is harmless; a third kills everything at once.

Nothing outlives serve: each child gets a parent-death signal (PR_SET_PDEATHSIG) and the Reflex workers,
which granian forks, set their own at start-up (`call_center.api.app`). A port still held by a stale
process of ours is reported at start with its PID and a fix.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

import httpx

from call_center.core.config import Settings
from call_center.core.processes import (
    SUPERVISED_ENV,
    describe_busy_port,
    port_in_use,
    preexec_die_with_parent,
)

ROOT = Path(__file__).resolve().parent.parent
# Safety nets only: the stop is driven by the children finishing their work, not by these timeouts.
MEDIA_GRACE_SECONDS = 30.0
REFLEX_GRACE_SECONDS = 15.0


def say(message: str) -> None:
    print(f"[call-center] {message}", flush=True)


class StopRequests:
    """What a signal does: it is counted and wakes the main loop, nothing more.

    Signals are counted from the wakeup fd the interpreter's C handler writes one byte to per signal, so
    Ctrl-C pressed three times quickly counts three even when Python runs its handler once for them."""

    def __init__(self, on_force: Callable[[], None]):
        self.count = 0
        self.on_force = on_force
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    def install(self) -> None:
        signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._handler)

    def _handler(self, _signum: int, _frame: FrameType | None) -> None:
        self._drain()

    def _drain(self) -> None:
        before = self.count
        with contextlib.suppress(BlockingIOError):
            while data := os.read(self._read, 64):
                self.count += len(data)
        if self.count >= 3:
            os.write(2, b"\n[call-center] third stop request: killing every process now\n")
            self.on_force()
            os._exit(1)
        if before < 2 <= self.count:
            os.write(2, b"\n[call-center] already stopping; a third Ctrl-C kills everything at once\n")

    def wait(self, timeout: float) -> bool:
        """Sleep until a stop request or `timeout`; True if a stop was asked for."""
        if not self.count:
            with contextlib.suppress(InterruptedError):
                select.select([self._read], [], [], timeout)
        self._drain()
        return self.count > 0


class Child:
    """A process started in its own process group, tied to our life by a parent-death signal."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], death_signal: int):
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.death_signal = death_signal
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            preexec_fn=preexec_die_with_parent(self.death_signal),
        )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def signal_group(self, sig: int) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, sig)

    def group_alive(self) -> bool:
        if self.process is None:
            return False
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def stop(self, grace: float) -> int | None:
        """SIGTERM to the group; wait for the child to finish its own stop (bounded by `grace`)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.signal_group(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                say(f"{self.name} did not stop within {grace:.0f} s; killing it")
                self.signal_group(signal.SIGKILL)
                self.process.wait()
        # Anything left in its group (e.g. a worker that missed the signal) goes with it.
        deadline = time.monotonic() + grace
        while self.group_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.group_alive():
            self.signal_group(signal.SIGKILL)
        return self.process.returncode


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
    env[SUPERVISED_ENV] = "1"
    return env


def busy_ports(settings: Settings) -> list[str]:
    """Every port serve needs that is taken, described with its owner and a fix."""
    wanted = [("PORT", settings.HOST, settings.PORT)]
    if settings.TELEPHONY_PROVIDER == "local":
        wanted.append(("MEDIA_CONTROL_PORT", "127.0.0.1", settings.media_control_port))
    return [describe_busy_port(var, host, port) for var, host, port in wanted if port_in_use(host, port)]


class Server:
    """Runs the children, supervises the media server, and stops everything once, in order."""

    def __init__(self, settings: Settings, loglevel: str, started: float):
        self.settings = settings
        self.started = started
        self.stopping = threading.Event()
        env = reflex_env(settings)
        self.media: Child | None = None
        if settings.TELEPHONY_PROVIDER == "local":
            # If serve dies without stopping it, the media server just exits (SIGHUP): the recordings it
            # leaves are finalised and reported at the next start, like after a crash.
            argv = [sys.executable, "-m", "call_center", "media"]
            self.media = Child("media server", argv, env, signal.SIGHUP)
        command = [
            sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
            "--frontend-port", str(settings.PORT), "--backend-port", str(settings.PORT),
            "--backend-host", settings.HOST, "--loglevel", loglevel,
        ]  # fmt: skip
        self.reflex = Child("reflex", command, env, signal.SIGTERM)
        self.requests = StopRequests(self.kill_all)
        self.media_restarts = 0
        self.media_restart_at: float | None = None

    def children(self) -> list[Child]:
        return [c for c in (self.media, self.reflex) if c is not None]

    def kill_all(self) -> None:
        """Signal-handler safe: SIGKILL every child's process group."""
        for child in self.children():
            child.signal_group(signal.SIGKILL)

    def run(self) -> int:
        self.requests.install()
        if self.media is not None:
            self.media.start()
        self.reflex.start()
        threading.Thread(target=self._announce_when_up, daemon=True, name="announce").start()
        code = 0
        while not self.requests.wait(0.5):
            reflex_code = self.reflex.exit_code()
            if reflex_code is not None:
                say(f"reflex exited ({reflex_code}); stopping")
                code = reflex_code or 1
                break
            self._supervise_media()
        self.shutdown()
        return code

    def _supervise_media(self) -> None:
        media = self.media
        if media is None:
            return
        now = time.monotonic()
        if self.media_restart_at is not None:
            if now >= self.media_restart_at:
                self.media_restart_at = None
                media.start()
            return
        exit_code = media.exit_code()
        if exit_code is not None:
            self.media_restarts += 1
            say(f"the media server exited ({exit_code}); starting it again")
            self.media_restart_at = now + min(5.0, 0.5 * self.media_restarts)

    def shutdown(self) -> None:
        """Media server first (it ends calls and its callbacks must still reach the app), then Reflex."""
        self.stopping.set()
        started = time.monotonic()
        say("stopping: ending live calls, then the web server")
        if self.media is not None:
            self.media.stop(MEDIA_GRACE_SECONDS)
            say(f"media server stopped ({time.monotonic() - started:.1f} s)")
        self.reflex.stop(REFLEX_GRACE_SECONDS)
        say(f"stopped in {time.monotonic() - started:.1f} s")

    def _announce_when_up(self) -> None:
        host = "127.0.0.1" if self.settings.HOST in ("0.0.0.0", "::") else self.settings.HOST
        url = f"http://{host}:{self.settings.PORT}"
        while not self.stopping.wait(0.25):
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    say(f"serving at {url} ({time.monotonic() - self.started:.1f} s)")
                    return
            except httpx.HTTPError:
                continue
