"""The FastAPI app Reflex mounts under its own (`rx.App(api_transformer=...)`), plus the page guard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from call_center.api.routes import auth, calls, health, local, recordings, twilio
from call_center.core.db import session_scope
from call_center.core.security import SESSION_COOKIE
from call_center.services import agents, presence
from call_center.services.errors import DomainError
from call_center.services.events import get_bus
from call_center.telephony import get_provider

logger = logging.getLogger(__name__)

# Pages that need a session; everything else the frontend serves (assets, /login) is public.
PROTECTED_PAGES = ("/", "/call-center", "/history", "/contacts", "/settings", "/phone")


def create_api() -> FastAPI:
    """A fresh API app (Reflex may import the app module more than once)."""
    api = FastAPI(
        title="AlMasar call center API", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json"
    )
    for module in (health, auth, calls, recordings, local, twilio):
        api.include_router(module.router)

    @api.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"detail": {"code": exc.code, "message": exc.detail}}, status_code=exc.status)

    return api


@contextlib.asynccontextmanager
async def app_lifespan() -> AsyncIterator[None]:
    """Per worker: the event bus, the provider's background work, and housekeeping."""
    bus = get_bus()
    await bus.start()
    provider_task = asyncio.create_task(get_provider().run_background(), name="provider-background")
    housekeeping = asyncio.create_task(_housekeeping(), name="housekeeping")
    try:
        yield
    finally:
        for task in (provider_task, housekeeping):
            task.cancel()
        await asyncio.gather(provider_task, housekeeping, return_exceptions=True)
        await bus.close()


async def _housekeeping() -> None:
    """Expired sessions and dead device connections, every few minutes."""
    while True:
        try:
            await anyio.to_thread.run_sync(_purge)
        except Exception:  # keep going; the next round may work
            logger.exception("housekeeping failed")
        await asyncio.sleep(300)


def _purge() -> None:
    with session_scope() as db:
        agents.purge_expired(db)
        presence.purge_stale(db)


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


def _has_session(token: str | None) -> bool:
    if not token:
        return False
    with session_scope() as db:
        return agents.agent_for_token(db, token) is not None


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
            signed_in = await anyio.to_thread.run_sync(_has_session, _session_token(scope))
            location = None
            if signed_in and path in ("/login", "/"):
                location = "/call-center"
            elif path != "/login" and not signed_in:
                location = "/login" if path == "/" else f"/login?next={quote(path)}"
            if location:
                await _redirect(send, location)
                return
        await self.app(scope, receive, send)


async def _redirect(send: Send, location: str) -> None:
    headers: list[Any] = [
        (b"location", location.encode()),
        (b"content-length", b"0"),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
