"""The signed-in agent and the UI language, shared by every page.

The session cookie is HttpOnly; the backend reads it from the websocket's request headers, so it never
reaches page JavaScript. Every protected page runs `SessionState.check_session` on load.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import quote

import reflex as rx
from reflex.event import EventSpec

from call_center.core.db import session_scope
from call_center.core.i18n import DEFAULT_LANGUAGE, catalog, direction, normalise_language
from call_center.core.security import LANG_COOKIE, SESSION_COOKIE
from call_center.models import Agent, Role
from call_center.services import agents


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
    lang: str = rx.Cookie(DEFAULT_LANGUAGE, name=LANG_COOKIE, max_age=365 * 86400, same_site="lax")

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

    # Helpers for substates ---------------------------------------------------------------------------
    def _session_token(self) -> str | None:
        raw = self.router.headers.cookie
        if not raw:
            return None
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw)
        except Exception:  # a malformed cookie header means "not signed in"
            return None
        morsel = jar.get(SESSION_COOKIE)
        return morsel.value if morsel else None

    def _current_agent(self) -> Agent | None:
        """The agent behind this socket's session cookie, checked against the database now."""
        with session_scope() as db:
            agent = agents.agent_for_token(db, self._session_token())
            if agent is not None:
                db.expunge(agent)
            return agent

    def _apply_agent(self, agent: Agent) -> None:
        self.agent_id = agent.id or 0
        self.agent_name = agent.name
        self.agent_email = agent.email
        self.role = agent.role
        self.availability = agent.availability
        self.lang = normalise_language(agent.language)

    def _sign_out_locally(self) -> None:
        self.agent_id = 0
        self.agent_name = self.agent_email = self.role = ""

    def _login_redirect(self) -> EventSpec:
        path = self.router.url.path or "/call-center"
        return rx.redirect(f"/login?error=expired&next={quote(path)}", replace=True)

    # Events ------------------------------------------------------------------------------------------
    @rx.event
    def check_session(self):
        """On load of every protected page: sign-in still valid? Otherwise back to the login page."""
        agent = self._current_agent()
        if agent is None:
            self._sign_out_locally()
            return self._login_redirect()
        self._apply_agent(agent)
        return _set_document_language(self.lang)

    @rx.event
    def set_language(self, lang: str):
        """Switch the UI language; remembered per agent (and in a cookie for the login page)."""
        lang = normalise_language(lang)
        self.lang = lang
        if self.agent_id:
            agent = self._current_agent()
            if agent is None:
                self._sign_out_locally()
                return self._login_redirect()
            with session_scope() as db:
                agents.set_language(db, self.agent_id, lang)
        return _set_document_language(lang)

    @rx.event
    def toggle_language(self):
        return SessionState.set_language("en" if self.lang == "ar" else "ar")

    @rx.event
    def set_availability(self, value: str):
        """Available / busy / offline, as the agent chooses."""
        agent = self._current_agent()
        if agent is None:
            self._sign_out_locally()
            return self._login_redirect()
        with session_scope() as db:
            updated = agents.set_availability(db, self.agent_id, value)
            self.availability = updated.availability
        return None

    @rx.event
    def init_public_page(self):
        """On load of the login page: only the language matters."""
        self.lang = normalise_language(self.lang)
        return _set_document_language(self.lang)
