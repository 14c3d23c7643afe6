"""E2E fixtures: the real app (one per test session) and Debian Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.support.audio import speech_wav
from tests.support.browser import CHROMIUM, chromium_args
from tests.support.server import ADMIN_EMAIL, ADMIN_PASSWORD, RunningApp, start_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"
# Every wait in these tests is for a condition, never a fixed time. The bounds are generous because CI shares
# two cores between the app, its media server and up to five Chromiums: they catch a hang, not a slow page.
EXPECT_TIMEOUT_MS = 15_000
ACTION_TIMEOUT_MS = 30_000
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    running = start_app(tmp_path_factory.mktemp("app") / "data", extra_env={"RING_TIMEOUT_SECONDS": "6"})
    yield running
    running.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def launch(playwright: Playwright) -> Iterator[Callable[..., Browser]]:
    """Start a Chromium (one per call leg: a fake microphone is per process)."""
    browsers: list[Browser] = []

    def _launch(fake_audio: Path | None = None, *, deny_microphone: bool = False) -> Browser:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=chromium_args(fake_audio, deny_microphone=deny_microphone)
        )
        browsers.append(browser)
        return browser

    yield _launch
    for browser in browsers:
        browser.close()


_pages: list[tuple[str, Page]] = []


@pytest.fixture
def new_page(launch: Callable[..., Browser], request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    """A page in a fresh context of its own browser; screenshots are saved if the test fails."""
    contexts: list[BrowserContext] = []

    def _new_page(browser: Browser | None = None, **context_args) -> Page:
        context = (browser or launch()).new_context(viewport={"width": 1280, "height": 800}, **context_args)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        _pages.append((request.node.nodeid, page))
        return page

    yield _new_page
    for context in contexts:
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for index, (nodeid, page) in enumerate(p for p in _pages if p[0] == item.nodeid):
            name = re.sub(r"[^\w.-]+", "_", nodeid)
            with contextlib.suppress(Exception):  # the page may already be gone
                page.screenshot(path=str(ARTIFACTS / f"{name}-{index}.png"), full_page=True)
    if report.when == "teardown":
        _pages[:] = [p for p in _pages if p[0] != item.nodeid]


@pytest.fixture(scope="session")
def voices(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("voices")
    return {
        "agent": speech_wav(
            folder / "agent.wav",
            "Hello, this is Sara from Al Masar. How can I help you today? Please tell me your order number.",
        ),
        "customer": speech_wav(
            folder / "customer.wav",
            "Good morning. My order number is four five six. The delivery did not arrive yesterday at all.",
            voice="en+f3",
            pitch=75,
            speed=135,
        ),
    }


def log_in(
    page: Page,
    app: RunningApp,
    email: str = ADMIN_EMAIL,
    password: str = ADMIN_PASSWORD,
    path: str = "/call-center",
) -> None:
    """Log in through the real form (labels in Arabic, the default language)."""
    page.goto(f"{app.url}{path}")
    page.get_by_label("البريد الإلكتروني").or_(page.get_by_label("Email")).fill(email)
    page.get_by_label("كلمة المرور").or_(page.get_by_label("Password")).fill(password)
    page.get_by_role("button", name=re.compile("^(دخول|Sign in)$")).click()
    expect(page.get_by_role("navigation")).to_be_visible()
