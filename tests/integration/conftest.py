from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from call_center.api.app import PageGuard, create_api
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
