"""Login throttling that protects users without being a weapon against them."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, func, select

from call_center.core.db import get_engine
from call_center.models import LoginAttempt
from call_center.services import logins
from call_center.services.errors import RateLimited, Unauthorized
from tests.conftest import make_agent


def _try(email: str, password: str, ip: str) -> str:
    with Session(get_engine(), expire_on_commit=False) as db:
        try:
            logins.authenticate(db, email=email, password=password, ip=ip)
        except RateLimited:
            return "throttled"
        except Unauthorized:
            return "wrong"
        return "ok"


def _fail_until_locked(email: str, ip: str, clock) -> int:
    failures = 0
    while _try(email, "not-the-password", ip) == "wrong":
        failures += 1
        clock.step(30)  # past each failure's delay
    return failures


def test_a_stranger_guessing_the_admins_password_does_not_lock_the_admin_out(db, login_clock):
    make_agent(db, email="boss@example.com", role="admin", password="correct-horse-1")
    assert _fail_until_locked("boss@example.com", "203.0.113.9", login_clock) == 5
    assert _try("boss@example.com", "correct-horse-1", "203.0.113.9") == "throttled"  # that pair is locked
    assert _try("boss@example.com", "correct-horse-1", "10.0.0.5") == "ok"  # the admin at their own desk


def test_one_address_trying_many_accounts_is_stopped(db, login_clock):
    for n in range(5):
        make_agent(db, email=f"a{n}@example.com")
    ip, failures = "198.51.100.7", 0
    for n in range(5):
        failures += _fail_until_locked(f"a{n}@example.com", ip, login_clock)
    assert failures == 4 * 5  # then the address itself is refused, whatever the e-mail
    make_agent(db, email="fresh@example.com")
    assert _try("fresh@example.com", "correct-horse-1", ip) == "throttled"
    assert _try("fresh@example.com", "correct-horse-1", "198.51.100.8") == "ok"


def test_each_failure_after_two_makes_the_next_try_wait_longer(db, login_clock):
    make_agent(db, email="a@example.com")
    ip = "192.0.2.1"
    assert [_try("a@example.com", "bad-password", ip) for _ in range(3)] == ["wrong", "wrong", "wrong"]
    assert _try("a@example.com", "correct-horse-1", ip) == "throttled"  # 1 s after the third
    login_clock.step(1.1)
    assert _try("a@example.com", "bad-password", ip) == "wrong"
    login_clock.step(1.1)
    assert _try("a@example.com", "correct-horse-1", ip) == "throttled"  # 2 s after the fourth
    login_clock.step(1.0)
    assert _try("a@example.com", "correct-horse-1", ip) == "ok"
    assert logins.delay_after(2) == 0 and logins.delay_after(3) == 1 and logins.delay_after(20) == 30


def test_check_and_record_is_atomic_parallel_guesses_cannot_overshoot_the_limit(database, login_clock):
    with Session(get_engine()) as db:
        make_agent(db, email="a@example.com")
    results: list[str] = []
    barrier = threading.Barrier(12)

    def guess() -> None:
        barrier.wait()
        results.append(_try("a@example.com", "bad-password", "192.0.2.50"))

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Session(get_engine()) as db:
        recorded = db.exec(select(func.count()).select_from(LoginAttempt)).one()
    # every guess was either recorded (and checked against the password) or refused; never more
    # recorded than the limit allows, however they interleave
    assert results.count("wrong") == recorded <= 5, results
    assert results.count("throttled") == 12 - recorded


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "seen"),
    [
        ("203.0.113.1", "1.2.3.4", "", "203.0.113.1"),  # no proxies configured: the header is ignored
        ("203.0.113.1", "1.2.3.4", "127.0.0.1", "203.0.113.1"),  # not from our proxy: ignored
        ("127.0.0.1", "1.2.3.4", "127.0.0.1", "1.2.3.4"),  # nginx on this machine
        ("127.0.0.1", "6.6.6.6, 1.2.3.4", "127.0.0.1", "1.2.3.4"),  # a forged first hop is skipped
        ("10.0.0.2", "1.2.3.4, 10.0.0.9", "10.0.0.0/8", "1.2.3.4"),  # two proxies of ours
    ],
)
def test_the_client_address_comes_from_x_forwarded_for_only_through_trusted_proxies(
    env, monkeypatch, peer, forwarded, trusted, seen
):
    from starlette.requests import Request

    from call_center.api.deps import client_ip
    from call_center.core.config import reset_settings

    monkeypatch.setenv("TRUSTED_PROXIES", trusted)
    reset_settings()
    scope = {
        "type": "http",
        "client": (peer, 5000),
        "headers": [(b"x-forwarded-for", forwarded.encode())],
    }
    assert client_ip(Request(scope)) == seen


@pytest.mark.parametrize(
    ("kind", "peer", "proto", "trusted", "scheme"),
    [
        ("http", "127.0.0.1", "https", "127.0.0.1", "https"),  # nginx terminated TLS
        ("websocket", "127.0.0.1", "https", "127.0.0.1", "wss"),
        ("http", "203.0.113.1", "https", "127.0.0.1", "http"),  # anyone else's header is ignored
        ("http", "127.0.0.1", "https", "", "http"),  # no proxies configured
        ("http", "127.0.0.1", "gopher", "127.0.0.1", "http"),  # not a scheme
    ],
)
async def test_the_request_scheme_comes_from_x_forwarded_proto_only_through_trusted_proxies(
    env, monkeypatch, kind, peer, proto, trusted, scheme
):
    """Redirects built from the request (a page's trailing slash) stay on https behind the TLS proxy
    (tests/e2e/test_behind_proxy.py found them pointing at http://)."""
    from call_center.api.app import ForwardedScheme
    from call_center.core.config import reset_settings

    monkeypatch.setenv("TRUSTED_PROXIES", trusted)
    reset_settings()
    seen: list[str] = []

    async def inner(scope, receive, send) -> None:
        seen.append(scope["scheme"])

    scope = {
        "type": kind,
        "scheme": "http" if kind == "http" else "ws",
        "client": (peer, 5000),
        "headers": [(b"x-forwarded-proto", proto.encode())],
    }
    await ForwardedScheme(inner)(scope, None, None)
    assert seen == [scheme]
