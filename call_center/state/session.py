"""The signed-in agent and the UI language, shared by every page.

The session cookie is HttpOnly; the backend reads it from the websocket's request headers, so it never
reaches page JavaScript. Who may run which handler is decided in one place, `state.guard.AccessGuard`,
before every event: it checks the session against the database and keeps `agent_id`, `role` and the
other fields here current, so handlers can trust them. Every app state derives from SessionState.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from urllib.parse import quote

import reflex as rx
from reflex.event import EventSpec

from call_center.core.db import session_scope
from call_center.core.i18n import DEFAULT_LANGUAGE, catalog, direction, normalise_language
from call_center.core.security import LANG_COOKIE
from call_center.models import Agent, AwayReason, Role
from call_center.services import agents
from call_center.services.events import STOPPING, get_bus
from call_center.state.guard import Caller, caller_for, public, session_token
from call_center.state.live import connected

logger = logging.getLogger(__name__)

SESSION_RECHECK_SECONDS = 30.0
DISCONNECTED_GRACE_SECONDS = 30.0


def _set_document_language(lang: str) -> EventSpec:
    return rx.call_script(
        f"document.documentElement.lang='{lang}';document.documentElement.dir='{direction(lang)}'"
    )


class SessionState(rx.State):
    """Who is signed in, in which language."""

    agent_id: int = 0
    agent_name: str = ""
    agent_email: str = ""
    role: str = ""
    availability: str = "offline"
    digits: str = "latn"  # the agent's digits on Arabic pages (core.locale)
    lang: str = rx.Cookie(DEFAULT_LANGUAGE, name=LANG_COOKIE, max_age=365 * 86400, same_site="lax")
    watch_id: str = ""
    pong: str = ""

    @rx.var
    def t(self) -> dict[str, str]:
        """Every UI string in the current language."""
        return catalog(normalise_language(self.lang))

    @rx.var
    def dir(self) -> str:
        return direction(normalise_language(self.lang))

    @rx.var
    def is_authenticated(self) -> bool:
        return self.agent_id > 0

    @rx.var
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @rx.var
    def sees_every_call(self) -> bool:
        """Admins and supervisors: every agent's calls, the agent filter, the wallboard and reports."""
        return self.role in Role.SEES_EVERY_CALL

    # Helpers for substates ---------------------------------------------------------------------------
    def _session_token(self) -> str | None:
        return session_token(self.router.headers.cookie)

    def _current_agent(self) -> Agent | None:
        """The agent behind this socket's session cookie, checked against the database now."""
        with session_scope() as db:
            agent = agents.agent_for_token(db, self._session_token())
            if agent is not None:
                db.expunge(agent)
            return agent

    def _apply_caller(self, caller: Caller) -> None:
        """The guard's verified view of the agent (run before every event)."""
        first = self.agent_id != caller.agent_id
        fields = {
            "agent_id": caller.agent_id,
            "agent_name": caller.name,
            "agent_email": caller.email,
            "role": caller.role,
            "availability": caller.availability,
            "digits": caller.digits,
        }
        if first:
            fields["lang"] = normalise_language(caller.language)
        for name, value in fields.items():
            if getattr(self, name) != value:  # an unchanged var stays clean: no delta for every event
                setattr(self, name, value)

    def _login_redirect(self) -> EventSpec:
        path = self.router.url.path or "/call-center"
        return rx.redirect(f"/login?error=expired&next={quote(path)}", replace=True)

    # Events ------------------------------------------------------------------------------------------
    @rx.event
    def check_session(self):
        """On load of every protected page (the guard has checked the session before it runs)."""
        return [_set_document_language(self.lang), SessionState.watch_session]

    @rx.event(background=True)
    async def watch_session(self):
        """While the page is open: sign it out within seconds when the agent's sessions end (logout
        elsewhere, password changed, disabled by an admin), and re-check now and then (expiry)."""
        async with self:
            task_id = self.watch_id = uuid.uuid4().hex
            client = self.router.session.client_token
            agent_id, token = self.agent_id, self._session_token()
        if not agent_id:
            return None
        gone_since: float | None = None
        async with get_bus().subscribe(agents.account_topic(agent_id)) as sub:
            while True:
                item = await sub.get(timeout=SESSION_RECHECK_SECONDS)
                if item is not None and item.topic == STOPPING:
                    return None
                if not await connected(client):
                    gone_since = gone_since or time.monotonic()
                    if time.monotonic() - gone_since > DISCONNECTED_GRACE_SECONDS:
                        return None
                    continue
                gone_since = None
                caller = await asyncio.to_thread(caller_for, token)
                async with self:
                    if self.watch_id != task_id:
                        return None
                    if caller is None or caller.agent_id != agent_id:
                        logger.info("agent %s signed out of an open page", agent_id)
                        self.reset()
                        return self._login_redirect()
                    self._apply_caller(caller)  # e.g. set "away" by the queue, or from another tab
                    if item is not None and item.data.get("type") == "wrapup":
                        from call_center.state.wrapup import WrapupState

                        wrap = await self.get_state(WrapupState)
                        wrap._load_now()  # two small queries

    @rx.event
    @public
    def set_language(self, lang: str):
        """Switch the UI language; remembered per agent (and in a cookie for the login page)."""
        lang = normalise_language(lang)
        self.lang = lang
        if self.agent_id:
            with session_scope() as db:
                agents.set_preference(db, self.agent_id, "language", lang)
        return _set_document_language(lang)

    @rx.event
    @public
    def toggle_language(self):
        return SessionState.set_language("en" if self.lang == "ar" else "ar")

    @rx.var
    def availability_kind(self) -> str:
        """available / away / offline (the menu's value without the away reason)."""
        return self.availability.split(":", 1)[0]

    @rx.event
    def set_availability(self, value: str):
        """Available, away (with a reason: "away:break") or offline, as the agent chooses."""
        kind, _, reason = str(value)[:40].partition(":")
        if kind == "away" and reason not in AwayReason.CHOSEN:
            reason = AwayReason.BREAK
        with session_scope() as db:
            updated = agents.set_availability(db, self.agent_id, kind, reason or None)
            self.availability = (
                f"{updated.availability}:{updated.away_reason}"
                if updated.away_reason
                else updated.availability
            )

    @rx.event
    @public
    def ping(self, nonce: str):
        """Echo `nonce` back: lets a client know every event it sent before was processed (the testing
        kit's barrier, latency measurements). It touches nothing but this tab's own `pong`."""
        self.pong = str(nonce)[:40]

    @rx.event
    @public
    def init_public_page(self):
        """On load of the login page: only the language matters."""
        self.lang = normalise_language(self.lang)
        return _set_document_language(self.lang)
