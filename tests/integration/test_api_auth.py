from __future__ import annotations

import pytest

from call_center.api.app import ADMIN_PAGES, PROTECTED_PAGES, SUPERVISOR_PAGES
from tests.integration.conftest import login


def test_health_needs_no_session(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.parametrize("path", ["/api/calls", "/api/calls/token", "/api/auth/me"])
def test_api_needs_a_session(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json()["detail"]["code"] == "unauthorized"


@pytest.mark.parametrize("path", [p for p in PROTECTED_PAGES if p != "/"] + ["/history/"])
def test_pages_redirect_to_login_without_a_session(client, path):
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path.rstrip('/')}"


def test_form_login_sets_an_httponly_cookie_and_redirects(client, agent):
    response = client.post(
        "/api/auth/login",
        data={"email": "agent@example.com", "password": "correct-horse-1", "next": "/history"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/history"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("cc_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/api/auth/me").json()["email"] == "agent@example.com"
    # the guard lets the page through to the app (no frontend is mounted in this test, hence 404)
    assert client.get("/history").status_code == 404
    assert client.get("/login").headers["location"] == "/call-center"


@pytest.mark.parametrize("path", [*SUPERVISOR_PAGES, *ADMIN_PAGES])
def test_an_agent_is_sent_from_a_supervisors_or_admins_page_to_the_call_center(client, agent, path):
    client.post("/api/auth/login", data={"email": "agent@example.com", "password": "correct-horse-1"})
    response = client.get(path)
    assert (response.status_code, response.headers["location"]) == (303, "/call-center")


def test_wrong_password_goes_back_with_a_reason(client, agent):
    response = client.post(
        "/api/auth/login",
        data={"email": "agent@example.com", "password": "nope-nope-nope", "next": "//evil.example"},
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?error=invalid&email=agent%40example.com")
    assert "evil" not in response.headers["location"]
    assert "cc_session" not in response.headers.get("set-cookie", "")


def test_json_login_errors_and_rate_limit(client, agent, login_clock):
    for _ in range(5):
        response = client.post(
            "/api/auth/login", json={"email": "agent@example.com", "password": "bad-password"}
        )
        assert response.status_code == 401
        assert response.json()["detail"]["code"] == "login.error.invalid"
        login_clock.step(30)  # past each failure's delay
    response = client.post(
        "/api/auth/login", json={"email": "agent@example.com", "password": "correct-horse-1"}
    )
    assert response.status_code == 429
    assert response.json()["detail"]["code"] == "login.error.rate_limited"


def test_open_redirects_are_refused(client, agent):
    for target in ("https://evil.example", "//evil.example", "/\\evil", "/api/calls"):
        response = client.post(
            "/api/auth/login",
            data={"email": "agent@example.com", "password": "correct-horse-1", "next": target},
        )
        assert response.headers["location"] == "/call-center"


def test_logout_ends_the_session(client, agent):
    login(client, "agent@example.com")
    assert client.get("/api/calls").status_code == 200
    response = client.post("/api/auth/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login?msg=logged_out"
    assert client.get("/api/calls").status_code == 401


def test_token_identity_comes_from_the_session(client, agent):
    login(client, "agent@example.com")
    body = client.get("/api/calls/token", params={"identity": "admin"}).json()
    assert body["identity"] == f"agent_{agent.id}"


def test_calls_list_is_empty_and_paginated(client, agent):
    login(client, "agent@example.com")
    body = client.get("/api/calls", params={"page": 1, "page_size": 10}).json()
    assert body == {"data": [], "count": 0}
    assert client.get("/api/calls", params={"page_size": 10_000}).status_code == 422
