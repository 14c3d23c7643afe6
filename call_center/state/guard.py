"""The one guard in front of every Reflex event handler.

Reflex event handlers are public entry points: any client that opened a page (the login page included) can
send any handler's name over the event websocket. So no handler checks who is calling; `AccessGuard`, a
Reflex middleware that runs before *every* event (page loads, chained and background events included), does:

- the socket's session cookie is checked against the database now, for every event;
- a handler needs an active agent unless it is on the explicit public allowlist (`@public`);
- handlers of an admin (or supervisor) state, or marked `@admin_only`, also need that role;
- `setvar` (Reflex's generic "set any var" handler, present on every state) is refused to everyone:
  states write their own setters;
- a refused event changes nothing, returns no data and sends the page to the login screen;
- the state tree is bound to the session: when the session behind a socket is not the one the state was
  filled for (logged out, another agent, expired), every app state is reset before the event runs, so a
  hydrate never sends one agent's data to another client.

A state declares its level with a class variable (`access: ClassVar[str] = Access.ADMIN`); a handler
overrides it with a decorator. Undeclared means "agent".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import reflex as rx
from reflex.middleware import Middleware
from reflex.state import BaseState, State, StateUpdate
from reflex_base.event import Event

from call_center.core.db import session_scope
from call_center.core.security import SESSION_COOKIE
from call_center.models import Availability, AwayReason, Role
from call_center.services import agents

if TYPE_CHECKING:
    from reflex.app import App

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


class Access:
    PUBLIC = "public"  # anyone with a socket (the login page)
    AGENT = "agent"  # any active agent (the default)
    SUPERVISOR = "supervisor"  # supervisors and admins
    ADMIN = "admin"  # admins only
    NEVER = "never"  # nobody (Reflex's generic setvar)
    ALL = (PUBLIC, AGENT, SUPERVISOR, ADMIN, NEVER)


ROLE_RANK = {Role.AGENT: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}
LEVEL_RANK = {Access.AGENT: 1, Access.SUPERVISOR: 2, Access.ADMIN: 3}
ATTRIBUTE = "__cc_access__"

# Reflex's own handlers a page needs before anyone is signed in (connect/hydrate, page-load enumeration,
# cookie/local-storage sync, frontend error reports). They touch no app data; the session binding below
# resets app states before a hydrate sends anything.
FRAMEWORK_PUBLIC = {
    "reflex___state____state": {"hydrate", "hydrate_and_load", "set_is_hydrated"},
    "reflex___state____state.reflex___state____on_load_internal_state": {
        "on_load_internal",
        "set_is_hydrated",
    },
    "reflex___state____state.reflex___state____update_vars_internal_state": {"update_vars_internal"},
    "reflex___state____state.reflex___state____frontend_event_exception_state": {"handle_frontend_exception"},
}


def access(level: str) -> Callable[[F], F]:
    """Declare who may run a handler (put it under `@rx.event`)."""
    if level not in Access.ALL:
        raise ValueError(f"unknown access level {level!r}")

    def mark(fn: F) -> F:
        setattr(fn, ATTRIBUTE, level)
        return fn

    return mark


public = access(Access.PUBLIC)
admin_only = access(Access.ADMIN)


def _is_app_state(cls: type[BaseState]) -> bool:
    return cls.__module__.startswith("call_center.")


def level_of(state_cls: type[BaseState], handler_name: str) -> str:
    """Who may run `handler_name` of `state_cls` (the rule the guard applies, also used by the tests)."""
    if handler_name == "setvar":
        return Access.NEVER
    if not _is_app_state(state_cls):
        return (
            Access.PUBLIC
            if handler_name in FRAMEWORK_PUBLIC.get(state_cls.get_full_name(), ())
            else Access.NEVER
        )
    handler = state_cls.event_handlers.get(handler_name)
    if handler is None:
        return Access.NEVER
    declared = getattr(handler.fn, ATTRIBUTE, None) or getattr(state_cls, "access", Access.AGENT)
    return declared if declared in Access.ALL else Access.NEVER


def all_handlers() -> list[tuple[type[BaseState], str, str]]:
    """(state class, handler name, access level) for every handler of every state in the app."""

    def walk(cls: type[BaseState]) -> list[type[BaseState]]:
        return [cls, *(sub for child in cls.get_substates() for sub in walk(child))]

    return [(cls, name, level_of(cls, name)) for cls in walk(State) for name in sorted(cls.event_handlers)]


def resolve(event_name: str) -> tuple[type[BaseState], str] | None:
    """The state class and handler an event names, or None."""
    path, _, handler_name = event_name.rpartition(".")
    if not path or not handler_name:
        return None
    try:
        cls = State.get_class_substate(path) if path != State.get_full_name() else State
    except ValueError:
        return None
    if handler_name not in cls.event_handlers:
        return None
    return cls, handler_name


def allows(role: str | None, level: str) -> bool:
    if level == Access.PUBLIC:
        return True
    if level == Access.NEVER or role is None:
        return False
    return ROLE_RANK.get(role, 0) >= LEVEL_RANK.get(level, 99)


def session_token(cookie_header: str | None) -> str | None:
    if not cookie_header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except Exception:  # a malformed cookie header means "not signed in"
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel else None


@dataclass(frozen=True)
class Caller:
    """The agent behind a socket, as the database says now."""

    agent_id: int
    name: str
    email: str
    role: str
    availability: str  # "available", "offline" or "away:<reason>" (the availability menu's values)
    language: str
    digits: str = "latn"


def caller_for(token: str | None) -> Caller | None:
    if not token:
        return None
    with session_scope() as db:
        agent = agents.agent_for_token(db, token)
        if agent is None:
            return None
        availability = agent.availability
        if availability == Availability.AWAY:
            availability = f"{availability}:{agent.away_reason or AwayReason.BREAK}"
        return Caller(
            agent.id or 0, agent.name, agent.email, agent.role, availability, agent.language, agent.digits
        )


class AccessGuard(Middleware):
    """Runs before every event; refuses what the caller may not do (see the module docstring)."""

    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        resolved = resolve(event.name)
        level = level_of(*resolved) if resolved else Access.NEVER
        headers = state.router.headers
        caller = await asyncio.to_thread(caller_for, session_token(headers.cookie))
        await self._bind(state, caller)
        if allows(caller.role if caller else None, level):
            return None
        logger.warning(
            "event %s refused (%s; caller %s)",
            event.name[-120:],
            level,
            f"agent {caller.agent_id}" if caller else "without a session",
        )
        error = "forbidden" if caller is not None else "expired"
        where = quote(state.router.url.path or "/call-center")
        redirect = rx.redirect(f"/login?error={error}&next={where}", replace=True)
        return StateUpdate(delta={}, events=Event.from_event_type(redirect))

    async def _bind(self, state: BaseState, caller: Caller | None) -> None:
        """Make the state tree belong to `caller`: reset it if it was filled for someone else."""
        from call_center.state.session import SessionState

        root = state._get_root_state()
        session = await root.get_state(SessionState)
        agent_id = caller.agent_id if caller else 0
        if session.agent_id != agent_id:
            await _reset_app_states(root, keep_language=True)
            session = await root.get_state(SessionState)
        if caller is not None:
            session._apply_caller(caller)


def app_states() -> list[type[BaseState]]:
    """Every state class of the app (not Reflex's own), parents first."""
    return list(dict.fromkeys(cls for cls, _, _ in all_handlers() if _is_app_state(cls)))


async def _reset_app_states(root: BaseState, *, keep_language: bool) -> None:
    """Every app state back to its defaults (loaded first: reset only recurses into loaded substates)."""
    from call_center.state.session import SessionState

    for cls in app_states():
        await root.get_state(cls)
    session = await root.get_state(SessionState)
    language = session.lang
    session.reset()
    if keep_language:
        session.lang = language
