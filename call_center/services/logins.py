"""Logging in, with throttling that cannot be turned against the people it protects.

- Failures count per (e-mail, client address): an attacker who knows the admin's e-mail and guesses from
  another address locks out only that pair, never the admin at their own desk.
- A global limit per address (any e-mail) stops one address from trying many accounts.
- After two failures of a pair (typos happen) each further one adds a delay before the next try (1, 2, 4
  ... up to 30 s), so guessing is slow even below the limit.
- Check and record are atomic: the attempt is written, under a lock per pair and per address, before the
  (slow) password check, so parallel guesses count against each other and cannot overshoot the limit.

The client address comes from X-Forwarded-For only through proxies in TRUSTED_PROXIES (api.deps).
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from call_center.core import security
from call_center.core.config import get_settings
from call_center.models import Agent, LoginAttempt
from call_center.models.base import utcnow
from call_center.services.errors import Forbidden, RateLimited, Unauthorized

logger = logging.getLogger(__name__)

PER_ADDRESS_FACTOR = 4  # an address may fail this many times the per-account limit, over all e-mails
MAX_DELAY_SECONDS = 30.0


class Throttled(RateLimited):
    def __init__(self, code: str, detail: str, retry_after: float):
        super().__init__(code, detail)
        self.retry_after = retry_after


FREE_FAILURES = 2


def clock() -> datetime:
    """Now (a seam: tests step it instead of sleeping through the delays)."""
    return utcnow()


def delay_after(failures: int) -> float:
    """Seconds to wait after `failures` consecutive failures of one (e-mail, address) pair."""
    if failures <= FREE_FAILURES:
        return 0.0
    return min(MAX_DELAY_SECONDS, 2.0 ** (failures - FREE_FAILURES - 1))


def _lock(db: Session, *keys: str) -> None:
    """Serialise check-and-record per key until commit: SQLite takes its single write lock (our engine
    begins a transaction at the first write), PostgreSQL an advisory lock per key."""
    if db.get_bind().dialect.name == "postgresql":
        for key in sorted(keys):  # a fixed order: no deadlock between two keys
            db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
    else:
        db.execute(text("UPDATE login_attempt SET id = id WHERE 0 = 1"))


def _failures(db: Session, since: datetime, *, email: str | None, ip: str) -> tuple[int, datetime | None]:
    """Failed attempts since `since` (after the pair's last success) and when the latest was."""
    query = select(func.count(), func.max(LoginAttempt.at)).where(
        col(LoginAttempt.at) >= since, col(LoginAttempt.success).is_(False), LoginAttempt.ip == ip
    )
    if email is not None:
        last_ok = db.exec(
            select(func.max(LoginAttempt.at)).where(
                LoginAttempt.email == email, LoginAttempt.ip == ip, col(LoginAttempt.success)
            )
        ).one()
        if last_ok is not None and last_ok > since:
            query = query.where(col(LoginAttempt.at) > last_ok)
        query = query.where(LoginAttempt.email == email)
    count, latest = db.exec(query).one()
    if latest is not None and latest.tzinfo is None:
        latest = latest.replace(tzinfo=UTC)
    return int(count or 0), latest


def check_and_record(db: Session, email: str, ip: str) -> LoginAttempt:
    """Refuse (Throttled) or record a failed-until-proven-otherwise attempt, atomically. Commits."""
    settings = get_settings()
    now = clock()
    since = now - timedelta(minutes=settings.LOGIN_WINDOW_MINUTES)
    db.commit()
    _lock(db, f"login:{email}|{ip}", f"login-ip:{ip}")
    pair, latest = _failures(db, since, email=email, ip=ip)
    per_address, _ = _failures(db, since, email=None, ip=ip)
    limit = settings.LOGIN_MAX_FAILURES
    wait = 0.0
    if pair >= limit or per_address >= limit * PER_ADDRESS_FACTOR:
        wait = settings.LOGIN_WINDOW_MINUTES * 60.0
    elif latest is not None:
        wait = max(0.0, delay_after(pair) - (now - latest).total_seconds())
    if wait > 0:
        db.rollback()
        logger.warning("login throttled for %s from %s (%d failures; retry in %.0f s)", email, ip, pair, wait)
        raise Throttled(
            "login.error.rate_limited", "too many failed logins; try again later", math.ceil(wait)
        )
    attempt = LoginAttempt(email=email, ip=ip[:64], success=False, at=now)
    db.add(attempt)
    db.commit()
    return attempt


def authenticate(db: Session, *, email: str, password: str, ip: str = "") -> Agent:
    """The agent with these credentials, or Unauthorized / Throttled / Forbidden. Commits the attempt."""
    email = (email or "").strip().lower()[:254]
    if not email or not password:
        raise Unauthorized("login.error.missing", "email and password are required")
    attempt = check_and_record(db, email, ip)
    agent = db.exec(select(Agent).where(Agent.email == email)).first()
    ok = security.verify_password(agent.password_hash if agent else None, password)
    if not ok or agent is None:
        logger.info("failed login for %s from %s", email, ip or "?")
        raise Unauthorized("login.error.invalid", "wrong email or password")
    if not agent.is_active:
        raise Forbidden("login.error.disabled", "this account is disabled")
    attempt.success = True
    db.add(attempt)
    if security.password_needs_rehash(agent.password_hash):
        agent.password_hash = security.hash_password(password)
        db.add(agent)
    db.commit()
    return agent
