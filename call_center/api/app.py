"""The FastAPI app Reflex mounts under its own (`rx.App(api_transformer=...)`), plus the page guard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from call_center.api.csrf import CsrfGuard
from call_center.api.routes import agents as agent_routes
from call_center.api.routes import auth, calls, devices, health, local, recordings, twilio
from call_center.api.routes import reports as report_routes
from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.core.processes import SUPERVISED_ENV, ParentWatch, die_with_parent
from call_center.core.security import SESSION_COOKIE
from call_center.models import Role
from call_center.services import (
    agent_states,
    agents,
    inbox,
    nonces,
    presence,
    queue,
    retention,
    rollup,
    wrapup,
)
from call_center.services.errors import DomainError
from call_center.services.events import get_bus
from call_center.telephony import get_provider

logger = logging.getLogger(__name__)

# Pages for admins only: anyone else is sent to the call center.
ADMIN_PAGES = ("/settings",)
# Pages for supervisors and admins.
SUPERVISOR_PAGES = ("/reports", "/wallboard")
# Pages that need a session; everything else the frontend serves (assets, /login) is public. Every page of
# the app is either here or PUBLIC_PAGES (tests/unit/test_pages.py holds the app to that).
PROTECTED_PAGES = (
    "/",
    "/call-center",
    "/history",
    "/contacts",
    "/phone",
    "/account",
    *SUPERVISOR_PAGES,
    *ADMIN_PAGES,
)
PUBLIC_PAGES = ("/login",)


def create_api() -> FastAPI:
    """A fresh API app (Reflex may import the app module more than once)."""
    api = FastAPI(
        title="AlMasar call center API", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json"
    )
    for module in (health, auth, calls, recordings, devices, local, twilio, agent_routes, report_routes):
        api.include_router(module.router)
    api.add_middleware(CsrfGuard)

    @api.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"detail": {"code": exc.code, "message": exc.detail}}, status_code=exc.status)

    return api


@contextlib.asynccontextmanager
async def app_lifespan() -> AsyncIterator[None]:
    """Per worker: the event bus, the provider's background work, and housekeeping."""
    bus = get_bus()
    await bus.start()
    tasks = [
        asyncio.create_task(get_provider().run_background(), name="provider-background"),
        # expired sessions and dead device connections, every few minutes
        asyncio.create_task(_every(300, _purge, "housekeeping"), name="housekeeping"),
        asyncio.create_task(_agent_clock(), name="agent-clock"),
        asyncio.create_task(_every(15, _report_rollup, "report rollup"), name="report-rollup"),
        # callbacks a stopped worker stored and did not apply (services.inbox)
        asyncio.create_task(_every(inbox.ADOPT_EVERY, inbox.recover, "webhook inbox"), name="webhook-inbox"),
    ]
    if os.environ.get(SUPERVISED_ENV) == "1":
        tasks.append(asyncio.create_task(_die_with_supervisor(), name="parent-watch"))
        _end_long_lived_connections_on_stop(asyncio.get_running_loop())
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await anyio.to_thread.run_sync(_drain_inbox)
        await bus.close()


def _end_long_lived_connections_on_stop(loop: asyncio.AbstractEventLoop) -> None:
    """When this worker is told to stop, end the connections that never end by themselves.

    granian stops a worker gracefully: it stops accepting and waits for open connections to finish. Event
    streams (softphones) and Reflex's websockets (every open page) do not, so a stop with browsers open
    waited until serve's grace ran out. So the worker's stop signal first reaches granian (no new
    connections), then ends our streams (a bus message every subscriber gets) and closes the websockets.
    granian installs its handler through the loop before the app starts; ours wraps it."""
    handlers = getattr(loop, "_signal_handlers", None)  # asyncio's own registry (unix event loops)
    if not isinstance(handlers, dict):
        logger.warning("cannot hook the worker's stop signal; open pages will slow a stop down")
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        handle = handlers.get(signum)
        if handle is None:
            continue
        callback, args = handle._callback, handle._args

        def stop(callback: Any = callback, args: Any = args) -> None:
            callback(*args)
            get_bus().stopping()
            loop.create_task(_close_websockets(), name="close-websockets")

        loop.add_signal_handler(signum, stop)


async def _close_websockets() -> None:
    from reflex.utils.prerequisites import get_and_validate_app

    try:
        sio = get_and_validate_app().app.sio
        if sio is not None and sio.eio.sockets:  # engineio's disconnect() of no clients raises
            await sio.eio.disconnect()  # every client of this worker
    except Exception:  # the stop goes on regardless
        logger.exception("closing the websockets at stop failed")


async def _die_with_supervisor() -> None:
    """A worker that granian forked goes when its supervisor does (kill -9 of serve or of reflex).

    The kernel's parent-death signal does it at once; polling the parent catches a supervisor that died
    before the request."""
    parent = os.getppid()
    die_with_parent(signal.SIGTERM, expected_parent=parent)
    watch = ParentWatch(lambda: os.kill(os.getpid(), signal.SIGTERM))
    while not watch.check():
        await asyncio.sleep(0.5)


async def _every(seconds: float, work: Callable[[], object], what: str) -> None:
    """Run `work` (blocking) in a thread, then every `seconds`; a failed round is logged, the next runs."""
    while True:
        try:
            await anyio.to_thread.run_sync(work)
        except Exception:  # keep going; the next round may work
            logger.exception("%s failed", what)
        await asyncio.sleep(seconds)


def _drain_inbox() -> None:
    """At a stop, what this worker acknowledged is applied before it goes (else another worker, or this one
    started again, adopts it after services.inbox.LEASE)."""
    try:
        inbox.drain(timeout=5.0)
    except Exception as exc:  # the stop goes on regardless; nothing acknowledged is lost
        logger.warning("webhook inbox not drained at stop: %s", exc)
    inbox.applier.stop(timeout=5.0)  # not killed mid-callback with the process


def _purge() -> None:
    with session_scope() as db:
        agents.purge_expired(db)
        agent_states.track_many(db, presence.purge_stale(db))
        nonces.purge(db)
        inbox.purge(db)
    with session_scope() as db:
        retention.apply(db)  # RECORDING_RETENTION_DAYS (and files a deletion left behind)


def _report_rollup() -> None:
    """The dashboard's past hours that are not summed yet, or were made stale, are summed (services.rollup;
    a round with nothing to do reads two indexed minimums and the done hours; the first round after an
    upgrade sums all history, a day at a time). A stale hour is summed live meanwhile."""
    rollup.catch_up(pause=0.05)


async def _agent_clock() -> None:
    """Every second: wrap-ups whose time is up end (the agent takes calls again, even with the page
    closed), and the queue takes a turn. Each worker runs it: the conditional update lets one of them end
    each wrap-up, and the queue's lock one of them dispatch at a time."""
    while True:
        await asyncio.sleep(1.0)
        try:
            await anyio.to_thread.run_sync(_tick)
        except Exception:  # keep going; the next second may work
            logger.exception("agent clock failed")


def _tick() -> None:
    with session_scope() as db:
        wrapup.expire_due(db)
    with session_scope() as db:
        queue.dispatch(db)  # ring timeouts, waits over, agents back, position announcements


def _session_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is just "no session"
                return None
            morsel = jar.get(SESSION_COOKIE)
            return morsel.value if morsel else None
    return None


def _session_role(token: str | None) -> str | None:
    """The role of the agent behind the session token, or None without a valid session."""
    if not token:
        return None
    with session_scope() as db:
        agent = agents.agent_for_token(db, token)
        return agent.role if agent is not None else None


class PageGuard:
    """Redirects page loads without a valid session to /login (and /login with one to the app).

    The Reflex pages check again on load; this makes the first response a plain 303, so nothing of a
    protected page is served to an anonymous browser.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path = scope["path"].rstrip("/") or "/"
        if path in PROTECTED_PAGES or path == "/login":
            role = await anyio.to_thread.run_sync(_session_role, _session_token(scope))
            location = None
            if role is not None and path in ("/login", "/"):
                location = "/call-center"
            elif path != "/login" and role is None:
                location = "/login" if path == "/" else f"/login?next={quote(path)}"
            elif (path in ADMIN_PAGES and role != Role.ADMIN) or (
                path in SUPERVISOR_PAGES and role not in Role.SEES_EVERY_CALL
            ):
                location = "/call-center"
            if location:
                await _redirect(send, location)
                return
        await self.app(scope, receive, send)


class ForwardedScheme:
    """Behind a TLS proxy (one of TRUSTED_PROXIES), the request's scheme is the one the proxy's
    X-Forwarded-Proto names: redirects the framework builds (a page's trailing slash) then stay on https
    instead of pointing the browser at http://. Anyone else's X-Forwarded-Proto is ignored."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            peer = scope.get("client")
            settings = get_settings()
            if peer and settings.TRUSTED_PROXIES and settings.is_trusted_proxy(peer[0]):
                proto = _header(scope, b"x-forwarded-proto").rsplit(",", 1)[-1].strip().lower()
                if proto in ("http", "https"):
                    secure = proto == "https"
                    scheme = (
                        ("https" if secure else "http")
                        if scope["type"] == "http"
                        else ("wss" if secure else "ws")
                    )
                    scope = {**scope, "scheme": scheme}
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return ""


async def _redirect(send: Send, location: str) -> None:
    headers: list[Any] = [
        (b"location", location.encode()),
        (b"content-length", b"0"),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
