"""FastAPI dependencies as Annotated aliases: SessionDep, CurrentAgent, AdminAgent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session

from call_center.core.config import get_settings
from call_center.core.db import session_scope
from call_center.core.security import SESSION_COOKIE
from call_center.models import Agent, Role
from call_center.services import agents, api_keys


def get_db() -> Iterator[Session]:
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]


def client_ip(request: Request) -> str:
    """The client's address: the peer, or through TRUSTED_PROXIES the last untrusted X-Forwarded-For hop.

    X-Forwarded-For is written by whoever sends the request; only our own proxies' additions are believed
    (each proxy appends the address it saw, so the right-most untrusted entry is the real client)."""
    peer = request.client.host if request.client else ""
    settings = get_settings()
    if not settings.TRUSTED_PROXIES or not settings.is_trusted_proxy(peer):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not settings.is_trusted_proxy(hop):
            return hop
    return hops[0] if hops else peer


def current_agent(request: Request) -> Agent:
    """The logged-in agent (session cookie), or 401.

    It uses a short session of its own, so long-lived responses (event streams) hold no connection.
    """
    with session_scope() as db:
        agent = agents.agent_for_token(db, request.cookies.get(SESSION_COOKIE))
        if agent is not None:
            db.flush()
            db.expunge(agent)
    if agent is None:
        raise HTTPException(
            status_code=401,
            detail={"code": "unauthorized", "message": "Log in first: this needs an agent session."},
        )
    return agent


CurrentAgent = Annotated[Agent, Depends(current_agent)]


def reader(request: Request) -> Agent:
    """For the read-only integration API: an agent session, or `Authorization: Bearer <API key>`."""
    if request.cookies.get(SESSION_COOKIE):
        return current_agent(request)
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and secret:
        with session_scope() as db:
            agent = api_keys.agent_for_key(db, secret.strip())
            if agent is not None:
                db.flush()
                db.expunge(agent)
                return agent
    raise HTTPException(
        status_code=401,
        detail={
            "code": "unauthorized",
            "message": "Log in, or send an API key as 'Authorization: Bearer ...'.",
        },
        headers={"WWW-Authenticate": "Bearer"},
    )


Reader = Annotated[Agent, Depends(reader)]


def admin_agent(agent: CurrentAgent) -> Agent:
    if agent.role != Role.ADMIN:
        raise HTTPException(status_code=403, detail={"code": "forbidden", "message": "Admins only."})
    return agent


AdminAgent = Annotated[Agent, Depends(admin_agent)]


def supervisor_agent(agent: CurrentAgent) -> Agent:
    if agent.role not in Role.SEES_EVERY_CALL:
        raise HTTPException(
            status_code=403, detail={"code": "forbidden", "message": "Supervisors and admins only."}
        )
    return agent


SupervisorAgent = Annotated[Agent, Depends(supervisor_agent)]


def monitor(agent: Reader) -> Agent:
    """For monitoring (GET /api/metrics): a supervisor's or an admin's session, or an API key (an admin's),
    which is what a Prometheus scraper sends."""
    if agent.role not in Role.SEES_EVERY_CALL:
        raise HTTPException(
            status_code=403, detail={"code": "forbidden", "message": "Supervisors and admins only."}
        )
    return agent


Monitor = Annotated[Agent, Depends(monitor)]
