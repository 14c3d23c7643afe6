"""The call center's pytest plugin (registered by the package's `pytest11` entry point).

Fixtures:
    call_center_app          the app under test: disposable (started once per run, own data dir, stopped
                             cleanly) or, with CALL_CENTER_URL, an existing deployment
    call_center_settings     override in your conftest to start the disposable app with other settings
    call_center_accounts     {"admin": Account, "agent": Account} to log in with
    open_browser(voice=...)  a Chromium of its own (a fake microphone playing `voice`)
    new_page(browser=None)   a page in a fresh context; screenshot and trace kept if the test fails
    agent_page, admin_page   logged-in pages on /call-center, each in its own browser
    colleague_page, supervisor_page   a second agent, a supervisor (monitoring), likewise
    test_phone(number=..., voice=...)   a simulated customer phone (page object), registered and ready

Options: --cc-headed (show the browsers), --cc-tracing=off|on|retain-on-failure, --cc-artifacts=DIR.
Environment for an existing deployment: CALL_CENTER_URL, CALL_CENTER_ADMIN_EMAIL/_PASSWORD, and
optionally CALL_CENTER_AGENT_EMAIL/_PASSWORD, CALL_CENTER_COLLEAGUE_EMAIL/_PASSWORD and
CALL_CENTER_SUPERVISOR_EMAIL/_PASSWORD.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

    from call_center.testing.pages import TestPhone
    from call_center.testing.server import Account, CallCenterApp

AGENT = ("agent@almasar.test", "agent-password-123")
COLLEAGUE = ("colleague@almasar.test", "colleague-password-123")
SUPERVISOR = ("supervisor@almasar.test", "supervisor-password-123")
# Playwright's expect() bound: generous, because a CI box may share two cores between the app, its media
# server and five Chromiums. It catches a hang, not a slow page; no test waits for a fixed time.
EXPECT_TIMEOUT_MS = 15_000
ACTION_TIMEOUT_MS = 30_000
_FAILED = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("call-center", "AlMasar call center testing kit")
    group.addoption(
        "--cc-headed", action="store_true", help="show the browsers (needs a display, e.g. xvfb-run)"
    )
    group.addoption(
        "--cc-tracing",
        choices=("off", "on", "retain-on-failure"),
        default="retain-on-failure",
        help="Playwright traces of each browser context (default: kept when the test fails)",
    )
    group.addoption("--cc-artifacts", default="test-results", help="where screenshots and traces go")


def pytest_configure(config: pytest.Config) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.failed:  # type: ignore[attr-defined]
        item.stash[_FAILED] = True
    return report


# The app -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def call_center_settings() -> dict[str, str]:
    """Settings (environment variables) for the disposable app; override in a conftest.py."""
    return {}


@pytest.fixture(scope="session")
def call_center_app(
    call_center_settings: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CallCenterApp]:
    from call_center.testing.server import connect, start_app

    url = os.environ.get("CALL_CENTER_URL")
    if url:
        email, password = (
            os.environ.get("CALL_CENTER_ADMIN_EMAIL"),
            os.environ.get("CALL_CENTER_ADMIN_PASSWORD"),
        )
        if not email or not password:
            raise pytest.UsageError(
                "CALL_CENTER_URL needs CALL_CENTER_ADMIN_EMAIL and CALL_CENTER_ADMIN_PASSWORD"
            )
        yield connect(url, email, password)
        return
    app = start_app(tmp_path_factory.mktemp("call-center") / "data", call_center_settings)
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="session")
def call_center_accounts(call_center_app: CallCenterApp) -> dict[str, Account]:
    """Who the fixtures log in as: the admin, and an agent (created on a disposable app)."""
    from call_center.testing.server import Account, DisposableApp

    accounts = {"admin": call_center_app.admin}
    if isinstance(call_center_app, DisposableApp):
        accounts["agent"] = call_center_app.create_agent(AGENT[0], "Test Agent", AGENT[1])
        accounts["colleague"] = call_center_app.create_agent(COLLEAGUE[0], "Omar Colleague", COLLEAGUE[1])
        accounts["supervisor"] = call_center_app.create_agent(
            SUPERVISOR[0], "Huda Supervisor", SUPERVISOR[1], "supervisor"
        )
    elif os.environ.get("CALL_CENTER_AGENT_EMAIL"):
        accounts["agent"] = Account(
            os.environ["CALL_CENTER_AGENT_EMAIL"], os.environ.get("CALL_CENTER_AGENT_PASSWORD", "")
        )
    else:
        accounts["agent"] = call_center_app.admin
    if os.environ.get("CALL_CENTER_COLLEAGUE_EMAIL"):
        accounts["colleague"] = Account(
            os.environ["CALL_CENTER_COLLEAGUE_EMAIL"], os.environ.get("CALL_CENTER_COLLEAGUE_PASSWORD", "")
        )
    if os.environ.get("CALL_CENTER_SUPERVISOR_EMAIL"):
        accounts["supervisor"] = Account(
            os.environ["CALL_CENTER_SUPERVISOR_EMAIL"], os.environ.get("CALL_CENTER_SUPERVISOR_PASSWORD", "")
        )
    return accounts


# Browsers and pages --------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def call_center_playwright() -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def open_browser(
    call_center_playwright: Playwright, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Browser]]:
    """Start a Chromium; one per call leg or party (a fake microphone is per browser process)."""
    from call_center.testing.browser import chromium_args, chromium_path

    browsers: list[Browser] = []
    headed = bool(request.config.getoption("--cc-headed"))

    def launch(voice: Path | None = None, *, deny_microphone: bool = False) -> Browser:
        browser = call_center_playwright.chromium.launch(
            executable_path=chromium_path(),
            args=chromium_args(voice, deny_microphone=deny_microphone),
            headless=not headed,
        )
        browsers.append(browser)
        return browser

    yield launch
    for browser in browsers:
        with contextlib.suppress(Exception):
            browser.close()


@pytest.fixture
def new_page(
    open_browser: Callable[..., Browser], request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """A page in a fresh context (its own cookies); its screenshot and trace are kept if the test fails."""
    contexts: list[tuple[BrowserContext, Page]] = []
    tracing = request.config.getoption("--cc-tracing")

    def make(browser: Browser | None = None, **context_args: Any) -> Page:
        context = (browser or open_browser()).new_context(
            viewport={"width": 1280, "height": 800}, **context_args
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        if tracing != "off":
            context.tracing.start(screenshots=True, snapshots=True)
        page = context.new_page()
        contexts.append((context, page))
        return page

    yield make
    failed = request.node.stash.get(_FAILED, False)
    folder = Path(request.config.getoption("--cc-artifacts")) / re.sub(r"[^\w.-]+", "_", request.node.nodeid)
    for index, (context, page) in enumerate(contexts):
        with contextlib.suppress(Exception):  # the browser may already be gone (a test may kill it)
            if failed:
                folder.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(folder / f"page-{index}.png"), full_page=True)
            if tracing == "on" or (tracing == "retain-on-failure" and failed):
                folder.mkdir(parents=True, exist_ok=True)
                context.tracing.stop(path=str(folder / f"trace-{index}.zip"))
            elif tracing != "off":
                context.tracing.stop()
        with contextlib.suppress(Exception):
            context.close()


def _signed_in(
    new_page: Callable[..., Page],
    open_browser: Callable[..., Browser],
    app: CallCenterApp,
    account: Account,
    voice: Path | None,
) -> Page:
    from call_center.testing.pages import Softphone, log_in

    page = log_in(new_page(open_browser(voice)), app, account)
    Softphone(page, app).wait_registered()
    return page


@pytest.fixture
def agent_page(new_page, open_browser, call_center_app, call_center_accounts) -> Page:
    """An agent signed in on /call-center, in a browser of its own whose microphone speaks `agent_voice`."""
    from call_center.testing.audio import agent_voice

    return _signed_in(new_page, open_browser, call_center_app, call_center_accounts["agent"], agent_voice())


@pytest.fixture
def admin_page(new_page, open_browser, call_center_app, call_center_accounts) -> Page:
    """The admin signed in on /call-center, in a browser of its own (microphone: `agent_voice`)."""
    from call_center.testing.audio import agent_voice

    return _signed_in(new_page, open_browser, call_center_app, call_center_accounts["admin"], agent_voice())


@pytest.fixture
def colleague_page(new_page, open_browser, call_center_app, call_center_accounts) -> Page:
    """A second agent signed in on /call-center (a transfer target, the other side of an answer race), in
    a browser of its own whose microphone speaks `colleague_voice`. On an existing app, set
    CALL_CENTER_COLLEAGUE_EMAIL / CALL_CENTER_COLLEAGUE_PASSWORD."""
    from call_center.testing.audio import colleague_voice

    if "colleague" not in call_center_accounts:
        pytest.fail("colleague_page needs a second agent: set CALL_CENTER_COLLEAGUE_EMAIL and _PASSWORD")
    return _signed_in(
        new_page, open_browser, call_center_app, call_center_accounts["colleague"], colleague_voice()
    )


@pytest.fixture
def supervisor_page(new_page, open_browser, call_center_app, call_center_accounts) -> Page:
    """A supervisor signed in on /call-center (its phone registered: it carries a monitoring leg), in a
    browser of its own whose microphone speaks `supervisor_voice`; open the wallboard with
    `Wallboard(page, app).go("wallboard")` (the phone stays registered). On an existing app, set
    CALL_CENTER_SUPERVISOR_EMAIL / CALL_CENTER_SUPERVISOR_PASSWORD."""
    from call_center.testing.audio import supervisor_voice

    if "supervisor" not in call_center_accounts:
        pytest.fail("supervisor_page needs a supervisor: set CALL_CENTER_SUPERVISOR_EMAIL and _PASSWORD")
    return _signed_in(
        new_page, open_browser, call_center_app, call_center_accounts["supervisor"], supervisor_voice()
    )


@pytest.fixture
def test_phone(new_page, open_browser, call_center_app, call_center_accounts) -> Callable[..., TestPhone]:
    """test_phone(number="+201000000001", voice=None): a simulated customer handset, registered.

    Each one is its own browser (its own fake microphone; `customer_voice` by default)."""
    from call_center.testing.audio import customer_voice
    from call_center.testing.pages import TestPhone, log_in

    def make(number: str = "+201000000001", voice: Path | None = None) -> TestPhone:
        page = log_in(
            new_page(open_browser(voice or customer_voice())),
            call_center_app,
            call_center_accounts["admin"],
            "/phone",
        )
        phone = TestPhone(page, call_center_app)
        return phone.use_number(number)

    return make
