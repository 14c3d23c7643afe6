"""Process hygiene for `serve` and its children: nothing outlives its parent, stale servers are named.

- `die_with_parent(sig)`: Linux `prctl(PR_SET_PDEATHSIG)`, for a child started by `serve` (as `preexec_fn`)
  and for the Reflex workers, which their own supervisor forks (called at worker start-up).
- `ParentWatch`: the same guarantee checked by polling `getppid()`, for the rare case the kernel's signal
  cannot cover (PR_SET_PDEATHSIG follows the parent *thread*, and a parent that died before the call).
- `port_owner(port)`: who listens on a port, so a stale server of ours is reported with its PID and a fix,
  never killed silently.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
# Set by serve in every child's environment: code that only makes sense under serve (the parent watches)
# checks it.
SUPERVISED_ENV = "CALL_CENTER_SUPERVISED"
_libc: ctypes.CDLL | None = None


def _prctl(option: int, value: int) -> bool:
    global _libc
    if not sys.platform.startswith("linux"):
        return False
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc.prctl(option, value, 0, 0, 0) == 0


def die_with_parent(sig: int = signal.SIGTERM, expected_parent: int | None = None) -> bool:
    """Ask the kernel to send `sig` to this process when its parent dies (Linux); False elsewhere.

    If the parent is already gone (re-parented before the call), the signal is sent at once."""
    ok = _prctl(PR_SET_PDEATHSIG, int(sig))
    if ok and expected_parent is not None and os.getppid() != expected_parent:
        os.kill(os.getpid(), sig)
    return ok


def preexec_die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """A `subprocess.Popen(preexec_fn=...)` that ties the child's life to the caller's."""
    parent = os.getpid()

    def preexec() -> None:
        die_with_parent(sig, expected_parent=parent)

    return preexec


class ParentWatch:
    """Calls `on_orphaned` once when this process's parent changes (it died and we were re-parented)."""

    def __init__(self, on_orphaned: Callable[[], None]):
        self.parent = os.getppid()
        self.on_orphaned = on_orphaned
        self.fired = False

    def check(self) -> bool:
        """True (and the callback run) the first time the parent is found gone."""
        if self.fired or os.getppid() == self.parent:
            return False
        self.fired = True
        logger.warning("parent process %s is gone: stopping (pid %s)", self.parent, os.getpid())
        self.on_orphaned()
        return True


@dataclass(frozen=True)
class PortOwner:
    pid: int | None
    command: str
    ours: bool  # started from this checkout's code (a call center process)


def port_in_use(host: str, port: int) -> bool:
    """Whether binding host:port would fail with EADDRINUSE."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def port_owner(port: int) -> PortOwner:
    """The process listening on TCP `port` (PID None when it cannot be seen, e.g. another user's)."""
    import psutil

    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        connections = []
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            try:
                command = " ".join(psutil.Process(conn.pid).cmdline()) or "?"
            except psutil.Error:
                command = "?"
            ours = "call_center" in command or ("reflex" in command and "run" in command)
            return PortOwner(conn.pid, command, ours)
    return PortOwner(None, "", False)


def describe_busy_port(variable: str, host: str, port: int) -> str:
    """What to tell the operator when `port` is taken: whose it is and how to fix it."""
    owner = port_owner(port)
    if owner.pid is None:
        return (
            f"{variable}={port}: {host}:{port} is already in use by another program. "
            f"Fix: stop that program or choose another port, e.g. {variable}={port + 1}."
        )
    if owner.ours:
        return (
            f"{variable}={port}: {host}:{port} is held by PID {owner.pid} ({owner.command[:120]}), a call "
            f"center process left over from an earlier run. It was not stopped automatically. "
            f"Fix: `kill {owner.pid}` (or `kill -9 {owner.pid}` if it does not go), then start again; "
            f"or choose another port, e.g. {variable}={port + 1}."
        )
    return (
        f"{variable}={port}: {host}:{port} is in use by PID {owner.pid} ({owner.command[:120]}). "
        f"Fix: stop that program or choose another port, e.g. {variable}={port + 1}."
    )
