"""Every door, tried with every key: all Reflex event handlers and all HTTP routes of the real app.

- Handlers are enumerated from the app's state tree (a new one is covered without being listed here) and
  called over the real event websocket without a session, as an agent, as a supervisor and as an admin.
- Routes are enumerated from the FastAPI app; each must have its guard in ROUTE_GUARDS, and is called
  without a session, as an agent, as a supervisor, as an admin, with an API key and with a bad Twilio
  signature.
"""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from call_center.state.guard import Access, app_states
from call_center.testing.reflex_client import ReflexClient
from call_center.testing.server import ADMIN_EMAIL, ADMIN_PASSWORD, ROOT, DisposableApp, start_app
from tests.support import appdb
from tests.support.legs import login
from tests.support.sweep import Outcome, handlers, sweep

AGENT_EMAIL, AGENT_PASSWORD = "agent@almasar.test", "agent-password-123"
SUPERVISOR_EMAIL, SUPERVISOR_PASSWORD = "supervisor@almasar.test", "supervisor-password-123"
SECRET_CONTACT = ("Private Customer", "+201001112223", "owes 5000 EGP")

# The whole allowlist: handlers anyone with a socket may run. Changing it is a decision, made here.
PUBLIC_HANDLERS = {
    "reflex___state____state.hydrate",
    "reflex___state____state.hydrate_and_load",
    "reflex___state____state.set_is_hydrated",
    "reflex___state____state.reflex___state____on_load_internal_state.on_load_internal",
    "reflex___state____state.reflex___state____on_load_internal_state.set_is_hydrated",
    "reflex___state____state.reflex___state____update_vars_internal_state.update_vars_internal",
    "reflex___state____state.reflex___state____frontend_event_exception_state.handle_frontend_exception",
    "reflex___state____state.call_center___state___session____session_state.set_language",
    "reflex___state____state.call_center___state___session____session_state.toggle_language",
    "reflex___state____state.call_center___state___session____session_state.init_public_page",
    "reflex___state____state.call_center___state___session____session_state.ping",
    "reflex___state____state.call_center___state___session____session_state.call_center___pages___login____login_state.load",
}

# Every HTTP route and its guard. A route missing here fails test_every_route_has_a_declared_guard.
#   public   anyone (login, logout, health, the API's schema)
#   session  an agent's session cookie
#   supervisor  a supervisor's or an admin's session cookie
#   reader   a session or an API key (the CRM's read-only API)
#   monitor  a supervisor's or an admin's session, or an API key (Prometheus scraping /api/metrics)
#   media    signed by the local media server (X-Media-*)
#   twilio   signed by Twilio (X-Twilio-Signature)
#   link     a session, an API key or a signed link (recording MP3s)
ROUTE_GUARDS: dict[tuple[str, str], str] = {
    ("GET", "/api/openapi.json"): "public",
    ("GET", "/api/health"): "public",
    ("GET", "/api/metrics"): "monitor",
    ("POST", "/api/auth/login"): "public",
    ("POST", "/api/auth/logout"): "public",
    ("GET", "/api/auth/me"): "session",
    ("GET", "/api/calls"): "reader",
    ("GET", "/api/calls/export"): "reader",
    ("GET", "/api/calls/recordings"): "reader",
    ("GET", "/api/calls/recordings/{call_sid}"): "reader",
    ("GET", "/api/calls/{call_id:int}"): "reader",
    ("GET", "/api/agents/{agent_id:int}/states"): "reader",
    ("GET", "/api/reports/export"): "supervisor",
    ("GET", "/api/calls/token"): "session",
    ("GET", "/api/recordings/{recording_id:int}.mp3"): "link",
    ("POST", "/api/local/calls"): "session",
    ("POST", "/api/local/calls/{sid}/answer"): "session",
    ("POST", "/api/local/calls/{sid}/reject"): "session",
    ("POST", "/api/local/calls/{sid}/hangup"): "session",
    ("POST", "/api/local/calls/{sid}/dtmf"): "session",
    ("POST", "/api/local/calls/{sid}/monitor"): "supervisor",
    ("GET", "/api/devices/events"): "session",
    ("POST", "/api/local/webhook"): "media",
    ("POST", "/api/calls/twiml/outbound"): "twilio",
    ("POST", "/api/calls/twiml/inbound"): "twilio",
    ("POST", "/api/calls/twiml/inbound/after-dial"): "twilio",
    ("POST", "/api/calls/twiml/hangup"): "twilio",
    ("POST", "/api/calls/twiml/wait"): "twilio",
    ("POST", "/api/calls/twiml/hold"): "twilio",
    ("POST", "/api/calls/twiml/notice"): "twilio",
    ("POST", "/api/calls/twiml/voicemail"): "twilio",
    ("POST", "/api/calls/webhook/conference"): "twilio",
    ("GET", "/api/calls/media/{name}.mp3"): "public",
    ("POST", "/api/calls/webhook/status"): "twilio",
    ("POST", "/api/calls/webhook/recording"): "twilio",
}
SAMPLE_PATH = {
    "{call_sid}": "CA0000",
    "{recording_id:int}": "1",
    "{sid}": "LC0000",
    "{call_id:int}": "1",
    "{agent_id:int}": "1",
    "{name}": "hold",
}


def api_routes() -> list[tuple[str, str]]:
    from call_center.api.app import create_api

    def walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
        for route in routes:
            if hasattr(route, "original_router"):
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            else:
                for method in sorted(set(route.methods or ()) - {"HEAD"}):
                    yield method, prefix + route.path

    return list(walk(create_api().routes))


# The running app and its sessions ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DisposableApp]:
    running = start_app(tmp_path_factory.mktemp("access") / "data")
    for email, name, password, role in (
        (AGENT_EMAIL, "Agent", AGENT_PASSWORD, "agent"),
        (SUPERVISOR_EMAIL, "Supervisor", SUPERVISOR_PASSWORD, "supervisor"),
    ):
        subprocess.run(
            [sys.executable, "-m", "call_center", "create-agent", "--email", email, "--name", name,
             "--password", password, "--role", role],
            cwd=ROOT, env=running.env, check=True, capture_output=True,
        )  # fmt: skip
    yield running
    running.stop()


# A fresh login per test: some routes end the session they are called with (logout).
@pytest.fixture
def admin_cookies(app: DisposableApp) -> dict[str, str]:
    return login(app, ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.fixture
def agent_cookies(app: DisposableApp) -> dict[str, str]:
    return login(app, AGENT_EMAIL, AGENT_PASSWORD)


@pytest.fixture
def supervisor_cookies(app: DisposableApp) -> dict[str, str]:
    return login(app, SUPERVISOR_EMAIL, SUPERVISOR_PASSWORD)


@pytest.fixture(scope="module")
def secret_contact(app: DisposableApp) -> tuple[str, str, str]:
    """A contact the admin saved through the contacts page's own handler: the data nobody else may see."""
    name, phone, notes = SECRET_CONTACT
    contacts = "reflex___state____state.call_center___state___session____session_state"
    contacts += ".call_center___state___contacts____contacts_state"

    async def save() -> None:
        cookies = login(app, ADMIN_EMAIL, ADMIN_PASSWORD)
        async with ReflexClient(app.url, cookies=cookies, path="/contacts") as client:
            await client.call(f"{contacts}.open_new")
            await client.call(f"{contacts}.save", form={"name": name, "phone": phone, "notes": notes})

    asyncio.run(save())
    assert appdb.rows(app, "SELECT name FROM contact WHERE phone = ?", phone), "the contact was not saved"
    return SECRET_CONTACT


def _database_fingerprint(app: DisposableApp) -> str:
    digest = hashlib.sha256()
    for table in [r["name"] for r in appdb.rows(app, "SELECT name FROM sqlite_master WHERE type='table'")]:
        for row in appdb.rows(app, f'SELECT * FROM "{table}" ORDER BY 1'):
            digest.update(repr((table, sorted(row.items()))).encode())
    return digest.hexdigest()


def _run_sweep(
    app: DisposableApp, cookies: dict[str, str] | None, path: str = "/call-center"
) -> list[Outcome]:
    async def run() -> list[Outcome]:
        async with ReflexClient(app.url, cookies=cookies, path=path) as client:
            return await sweep(client)

    return asyncio.run(run())


def _allowed(role: str | None, level: str) -> bool:
    from call_center.state.guard import allows

    return allows(role, level)


# Reflex event handlers ----------------------------------------------------------------------------------
def test_the_public_allowlist_is_exactly_what_the_code_declares() -> None:
    declared = {h.event for h in handlers() if h.level == Access.PUBLIC}
    assert declared == PUBLIC_HANDLERS


def test_every_handler_has_a_known_level_and_setvar_is_nobodys() -> None:
    found = handlers()
    assert len(found) > 40  # the app's states were really enumerated
    assert all(h.level in Access.ALL for h in found)
    assert all(h.level == Access.NEVER for h in found if h.name == "setvar")


def test_every_app_state_derives_from_the_session_state() -> None:
    """The guard binds the session state's subtree to the session: a state outside it would keep one
    agent's data for the next client on the same token."""
    from call_center.state.session import SessionState

    assert all(issubclass(cls, SessionState) for cls in app_states())


def test_without_a_session_every_private_handler_is_refused_and_nothing_comes_back(
    app: DisposableApp, secret_contact: tuple[str, str, str]
) -> None:
    before = _database_fingerprint(app)
    outcomes = _run_sweep(app, None, path="/login")
    after = _database_fingerprint(app)
    assert before == after, "a call without a session changed the database"
    for outcome in outcomes:
        if outcome.handler.level == Access.PUBLIC:
            assert not outcome.refused, outcome.handler.event
        else:
            assert outcome.refused, f"{outcome.handler.event} ran without a session: {outcome.data}"
    leaked = [
        (o.handler.event, str(o.data)) for o in outcomes if any(s in str(o.data) for s in secret_contact)
    ]
    assert not leaked


@pytest.mark.parametrize("who", ["agent", "supervisor", "admin"])
def test_with_a_session_each_role_runs_exactly_its_handlers(
    app: DisposableApp,
    who: str,
    agent_cookies: dict[str, str],
    supervisor_cookies: dict[str, str],
    admin_cookies: dict[str, str],
) -> None:
    cookies = {"agent": agent_cookies, "supervisor": supervisor_cookies, "admin": admin_cookies}[who]
    outcomes = _run_sweep(app, cookies)
    for outcome in outcomes:
        expected = _allowed(who, outcome.handler.level)
        assert outcome.refused != expected, (who, outcome.handler.event, outcome.handler.level)
    refused = {o.handler.level for o in outcomes if o.refused}
    above = {
        "agent": {Access.SUPERVISOR, Access.ADMIN, Access.NEVER},
        "supervisor": {Access.ADMIN, Access.NEVER},
        "admin": {Access.NEVER},
    }[who]
    assert refused == above & {o.handler.level for o in outcomes}


def test_a_logged_out_tab_hydrates_without_the_previous_agents_data(
    app: DisposableApp, admin_cookies: dict[str, str], secret_contact: tuple[str, str, str]
) -> None:
    """The same browser tab (same Reflex token) after logout: the state filled for the admin is gone."""
    contacts = "reflex___state____state.call_center___state___session____session_state"
    contacts += ".call_center___state___contacts____contacts_state"
    token = "tab-after-logout-0000"

    async def run() -> list[str]:
        async with ReflexClient(app.url, cookies=admin_cookies, path="/contacts", token=token) as client:
            updates = await client.call(f"{contacts}.load")
            assert secret_contact[0] in str([u.delta for u in updates])  # the admin did see it
        async with ReflexClient(app.url, path="/login", token=token) as client:
            return [str(u.delta) for u in client.updates]

    hydrated = asyncio.run(run())
    assert not any(secret_contact[0] in delta or secret_contact[2] in delta for delta in hydrated)


# HTTP routes --------------------------------------------------------------------------------------------
def test_every_route_has_a_declared_guard() -> None:
    routes = set(api_routes())
    assert routes - set(ROUTE_GUARDS) == set(), "routes without a guard in ROUTE_GUARDS"
    assert set(ROUTE_GUARDS) - routes == set(), "ROUTE_GUARDS lists routes that no longer exist"


def _url(app: DisposableApp, path: str) -> str:
    for placeholder, value in SAMPLE_PATH.items():
        path = path.replace(placeholder, value)
    return f"{app.url}{path}"


# What the guards answer (a route's own 401, e.g. login's "enter your e-mail", is not a refusal).
GUARD_CODES = {"unauthorized", "forbidden", "error.forbidden", "error.csrf", "twilio.error.signature"}


def _refused(response: httpx.Response) -> bool:
    if response.status_code not in (401, 403):
        return False
    try:
        detail = response.json().get("detail", {})
    except ValueError:
        return True
    return not isinstance(detail, dict) or detail.get("code") in GUARD_CODES


def _request(app: DisposableApp, method: str, path: str, **kwargs: Any) -> bool:
    """Whether the guard refused this request."""
    headers = {"Origin": app.url, **kwargs.pop("headers", {})}
    body = {"json": {}} if method == "POST" else {}
    with httpx.Client(timeout=10, cookies=kwargs.pop("cookies", None)) as client:
        if path == "/api/devices/events":  # a stream: its status is all we need
            with client.stream(method, _url(app, path), headers=headers, **kwargs) as response:
                if response.status_code in (401, 403):
                    response.read()
                return _refused(response)
        return _refused(client.request(method, _url(app, path), headers=headers, **body, **kwargs))


@pytest.fixture(scope="module")
def api_key(app: DisposableApp) -> str:
    keys = "reflex___state____state.call_center___state___session____session_state"
    keys += ".call_center___state___api_keys_admin____api_keys_state"

    async def create() -> str:
        cookies = login(app, ADMIN_EMAIL, ADMIN_PASSWORD)
        async with ReflexClient(app.url, cookies=cookies, path="/settings") as client:
            await client.call(f"{keys}.create", form={"name": "access matrix"})
            return next(v for v in reversed(client.seen(f"{keys}.new_key")) if v)

    return asyncio.run(create())


@pytest.mark.parametrize(("method", "path"), sorted(ROUTE_GUARDS))
def test_each_route_lets_in_exactly_its_callers(
    app: DisposableApp,
    method: str,
    path: str,
    agent_cookies: dict[str, str],
    supervisor_cookies: dict[str, str],
    admin_cookies: dict[str, str],
    api_key: str,
) -> None:
    guard = ROUTE_GUARDS[(method, path)]
    callers = {
        "anonymous": {},
        "agent": {"cookies": agent_cookies},
        "supervisor": {"cookies": supervisor_cookies},
        "admin": {"cookies": admin_cookies},
        "api key": {"headers": {"Authorization": f"Bearer {api_key}"}},
        "bad twilio signature": {"headers": {"X-Twilio-Signature": "bad"}},
    }
    let_in = {name for name, how in callers.items() if not _request(app, method, path, **how)}
    expected = {
        "public": set(callers),
        "session": {"agent", "supervisor", "admin"},
        "supervisor": {"supervisor", "admin"},
        "reader": {"agent", "supervisor", "admin", "api key"},
        "monitor": {"supervisor", "admin", "api key"},
        "link": {
            "agent",
            "supervisor",
            "admin",
            "api key",
        },  # (a signed link opens it too: test_recordings_api)
        "twilio": set(),  # only Twilio's signature opens them (test_twilio_webhooks)
        "media": set(),  # only our media server's signature (test_local_signaling)
    }[guard]
    assert let_in == expected, (guard, let_in)


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p in sorted(ROUTE_GUARDS) if m == "POST"], ids=lambda v: str(v)
)
def test_state_changing_routes_refuse_other_sites(
    app: DisposableApp, method: str, path: str, agent_cookies: dict[str, str]
) -> None:
    from call_center.api.csrf import exempt

    for origin in ("https://evil.example", None):
        headers = {"Origin": origin} if origin else {}
        with httpx.Client(timeout=10, cookies=agent_cookies) as client:
            response = client.post(_url(app, path), json={}, headers=headers)
        if exempt(path):
            assert ROUTE_GUARDS[(method, path)] in ("twilio", "media"), path  # only signed routes are exempt
            assert response.status_code == 403  # refused by their signature check instead
        else:
            assert response.status_code == 403 and response.json()["detail"]["code"] == "error.csrf", path


def test_reflex_upload_route_refuses_without_a_session(app: DisposableApp) -> None:
    response = httpx.post(f"{app.url}/_upload", files={"files": ("x.txt", b"x")}, headers={"Origin": app.url})
    assert response.status_code in (400, 401, 403, 404, 405, 422), response.status_code
