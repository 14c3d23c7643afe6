"""Every page builds into a component tree (catches invalid props and vars before a slow frontend build)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def app():
    import call_center.call_center as module

    return module.app


def test_every_page_evaluates(app):
    routes = set(app._unevaluated_pages)
    assert {"login", "call-center", "history", "contacts", "settings", "phone", "reports", "index"} <= routes
    for route, page in app._unevaluated_pages.items():
        component = page.component() if callable(page.component) else page.component
        assert component is not None, route
        assert component.render(), route
