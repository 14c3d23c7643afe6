"""Every page builds into a component tree (catches invalid props and vars before a slow frontend build)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def app():
    import call_center.call_center as module

    return module.app


def test_every_page_evaluates(app):
    routes = set(app._unevaluated_pages)
    expected = {"login", "call-center", "history", "contacts", "settings", "phone", "reports", "wallboard"}
    expected.add("index")
    assert expected <= routes
    for route, page in app._unevaluated_pages.items():
        component = page.component() if callable(page.component) else page.component
        assert component is not None, route
        assert component.render(), route


def test_every_page_is_behind_the_page_guard_or_declared_public(app):
    """A new page cannot be left out of the page guard (api.app.PageGuard): it is protected, or public on
    purpose. Who may see a protected page by role is the access matrix's (tests/integration)."""
    from call_center.api.app import PROTECTED_PAGES, PUBLIC_PAGES

    paths = {"/" if route == "index" else "/" + route.strip("/") for route in app._unevaluated_pages}
    assert paths <= set(PROTECTED_PAGES) | set(PUBLIC_PAGES), paths - set(PROTECTED_PAGES) - set(PUBLIC_PAGES)
    assert not set(PROTECTED_PAGES) & set(PUBLIC_PAGES)
