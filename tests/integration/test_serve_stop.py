"""`serve` as an operator stops it: real processes, every PID of the tree checked gone, the port free.

Timings are not asserted beyond generous bounds that catch a hang (STOP_TIMEOUT); the figures are in
docs/benchmarks.md (bench/stop_times.py).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from call_center.testing.server import ROOT, DisposableApp, app_env, port_listening, start_app, wait_gone


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One frontend build directory for the module's apps (they run one after the other).
    return tmp_path_factory.mktemp("serve")


@pytest.fixture
def running(base: Path, request: pytest.FixtureRequest) -> Iterator[DisposableApp]:
    app = start_app(base / f"data-{request.node.name}")
    yield app
    if app.process.poll() is None:
        app.stop()


def _tree_is_complete(app: DisposableApp) -> None:
    names = [" ".join(p.cmdline()) for p in app.tree]
    assert any("call_center media" in n for n in names), names
    assert sum("reflex run" in n for n in names) >= 2, names  # granian's supervisor and a worker


def test_one_sigterm_stops_every_process(running: DisposableApp) -> None:
    _tree_is_complete(running)
    running.signal(signal.SIGTERM)
    running.wait_stopped()
    assert running.process.returncode == 0
    assert "stopped in" in running.log()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_a_second_signal_during_the_stop_is_harmless(running: DisposableApp, signum: int) -> None:
    running.refresh_tree()
    running.signal(signum)
    time.sleep(0.05)
    running.signal(signum)  # Ctrl-C pressed twice, or a supervisor repeating itself
    running.wait_stopped()
    assert running.process.returncode == 0
    assert "already stopping" in running.log()


def test_a_third_signal_kills_everything_at_once(running: DisposableApp) -> None:
    running.refresh_tree()
    for _ in range(3):
        running.signal(signal.SIGINT)
        time.sleep(0.02)
    running.wait_stopped()
    assert running.process.returncode == 1
    assert "killing every process now" in running.log()


def test_sigkill_of_serve_leaves_no_process_and_frees_the_port(running: DisposableApp) -> None:
    tree = running.refresh_tree()
    running.signal(signal.SIGKILL)  # no chance to clean up: the children must go by themselves
    running.process.wait(5)
    left = wait_gone(tree, timeout=5)
    assert not left, [(p.pid, p.cmdline()) for p in left]
    deadline = time.monotonic() + 5
    while port_listening(running.port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not port_listening(running.port)


def test_a_port_held_by_our_own_stale_process_is_reported_with_its_pid(
    running: DisposableApp, base: Path
) -> None:
    env = app_env(base / "data-second", running.port)
    second = subprocess.run(
        [sys.executable, "-m", "call_center", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 2
    holders = {p.pid for p in running.refresh_tree()}
    assert f"PORT={running.port}" in second.stderr
    assert any(f"PID {pid} " in second.stderr for pid in holders), second.stderr
    assert "kill" in second.stderr  # says how to fix it
    # ... and the first server was left alone
    assert httpx.get(f"{running.url}/api/health", timeout=5).status_code == 200
