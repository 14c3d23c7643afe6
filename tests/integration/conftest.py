from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from call_center.api.app import PageGuard, create_api
from call_center.testing.server import DisposableApp
from tests.conftest import make_agent
from tests.support.twilio_world import twilio_world  # noqa: F401 (a fixture for the Twilio tests)

BASE_URL = "http://127.0.0.1:3000"


@pytest.fixture
def client(database) -> Iterator[TestClient]:
    """The API (behind the page guard, as in the app) on a migrated database."""
    with TestClient(
        PageGuard(create_api()),
        base_url=BASE_URL,
        follow_redirects=False,
        headers={"Origin": BASE_URL},  # as a browser on our own page sends (the CSRF check wants it)
    ) as c:
        yield c


def login(client: TestClient, email: str, password: str = "correct-horse-1") -> None:
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text


@pytest.fixture
def agent(db):
    return make_agent(db, email="agent@example.com", name="Agent One")


@pytest.fixture
def admin(db):
    return make_agent(db, email="admin@example.com", name="Admin", role="admin")


@pytest.fixture
async def http(app: DisposableApp) -> AsyncIterator:
    """`http(cookies)`: an async client of the module's running `app`, as that session's browser."""
    clients: list[httpx.AsyncClient] = []

    def make(cookies: dict[str, str]) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=app.url, cookies=cookies, headers={"Origin": app.url}, timeout=20)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
