"""Agents, logins and sessions."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from call_center.core import security
from call_center.core.config import get_settings
from call_center.core.i18n import LANGUAGES
from call_center.models import Agent, AgentSession, Availability, LoginAttempt, Role
from call_center.models.base import utcnow
from call_center.services.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited, Unauthorized

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$|^[^@\s]+@localhost$|^[^@\s]+@[^@\s.]+\.local$")
# Writing last_seen on every request would turn reads into writes; once a minute is plenty.
_TOUCH_EVERY = timedelta(minutes=1)


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidInput("error.email_invalid", f"not an e-mail address: {email!r}")
    return email


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput("error.password_short", "password shorter than 10 characters")


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise InvalidInput("error.name_required", "a name of 1 to 120 characters is required")
    return name


def get_agent(db: Session, agent_id: int) -> Agent:
    agent = db.get(Agent, agent_id)
    if agent is None:
        raise NotFound("error.not_found", f"agent {agent_id} not found")
    return agent


def list_agents(db: Session) -> list[Agent]:
    return list(db.exec(select(Agent).order_by(col(Agent.name))))


def create_agent(
    db: Session, *, email: str, name: str, password: str, role: str = Role.AGENT, language: str = "ar"
) -> Agent:
    """A new agent; the e-mail must be unused."""
    email = normalise_email(email)
    name = _check_name(name)
    _check_password(password)
    if role not in Role.ALL:
        raise InvalidInput("error.generic", f"unknown role {role!r}")
    if db.exec(select(Agent).where(Agent.email == email)).first() is not None:
        raise Conflict("error.email_taken", f"{email} is already an agent")
    agent = Agent(
        email=email,
        name=name,
        password_hash=security.hash_password(password),
        role=role,
        language=language if language in LANGUAGES else "ar",
    )
    db.add(agent)
    db.flush()
    logger.info("agent %s created (role %s)", agent.id, role)
    return agent


def _active_admins(db: Session) -> int:
    query = select(func.count()).select_from(Agent).where(Agent.role == Role.ADMIN, col(Agent.is_active))
    return int(db.exec(query).one())


def update_agent(
    db: Session,
    agent_id: int,
    *,
    actor_id: int | None,
    name: str | None = None,
    email: str | None = None,
    role: str | None = None,
    is_active: bool | None = None,
    password: str | None = None,
) -> Agent:
    """Edit an agent. The last active admin cannot be demoted or disabled; nobody disables themselves."""
    agent = get_agent(db, agent_id)
    if name is not None:
        agent.name = _check_name(name)
    if email is not None:
        email = normalise_email(email)
        clash = db.exec(select(Agent).where(Agent.email == email, Agent.id != agent_id)).first()
        if clash is not None:
            raise Conflict("error.email_taken", f"{email} is already an agent")
        agent.email = email
    losing_admin = (
        agent.role == Role.ADMIN
        and agent.is_active
        and ((role is not None and role != Role.ADMIN) or is_active is False)
    )
    if losing_admin and _active_admins(db) <= 1:
        raise Conflict("error.last_admin", "the last active admin must stay an active admin")
    if is_active is False and actor_id == agent_id:
        raise Forbidden("error.self_disable", "agents cannot disable themselves")
    if role is not None:
        if role not in Role.ALL:
            raise InvalidInput("error.generic", f"unknown role {role!r}")
        agent.role = role
    if is_active is not None:
        agent.is_active = is_active
        if not is_active:
            agent.availability = Availability.OFFLINE
            revoke_agent_sessions(db, agent_id)
    if password:
        _check_password(password)
        agent.password_hash = security.hash_password(password)
        if actor_id != agent_id:
            revoke_agent_sessions(db, agent_id)
    agent.updated_at = utcnow()
    db.add(agent)
    db.flush()
    return agent


def set_language(db: Session, agent_id: int, language: str) -> Agent:
    if language not in LANGUAGES:
        raise InvalidInput("error.generic", f"unknown language {language!r}")
    agent = get_agent(db, agent_id)
    agent.language = language
    agent.updated_at = utcnow()
    db.add(agent)
    return agent


def set_availability(db: Session, agent_id: int, availability: str) -> Agent:
    if availability not in Availability.ALL:
        raise InvalidInput("error.generic", f"unknown availability {availability!r}")
    agent = get_agent(db, agent_id)
    agent.availability = availability
    agent.updated_at = utcnow()
    db.add(agent)
    return agent


def ensure_admin(
    db: Session, *, email: str, name: str, password: str | None
) -> tuple[Agent | None, str | None]:
    """Create the first admin if there is none. Returns (created agent, generated password or None)."""
    if db.exec(select(Agent).where(Agent.role == Role.ADMIN)).first() is not None:
        return None, None
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(12)
    agent = create_agent(db, email=email, name=name, password=password, role=Role.ADMIN)
    return agent, generated


# Login and sessions ------------------------------------------------------------------------------------


def _recent_failures(db: Session, *, email: str | None = None, ip: str | None = None) -> int:
    settings = get_settings()
    since = utcnow() - timedelta(minutes=settings.LOGIN_WINDOW_MINUTES)
    query = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(col(LoginAttempt.at) >= since, col(LoginAttempt.success).is_(False))
    )
    if email is not None:
        last_success = db.exec(
            select(func.max(LoginAttempt.at)).where(LoginAttempt.email == email, col(LoginAttempt.success))
        ).one()
        if last_success is not None and last_success > since:
            query = query.where(col(LoginAttempt.at) > last_success)
        query = query.where(LoginAttempt.email == email)
    if ip is not None:
        query = query.where(LoginAttempt.ip == ip)
    return int(db.exec(query).one())


def authenticate(db: Session, *, email: str, password: str, ip: str = "") -> Agent:
    """The agent with these credentials, or Unauthorized / RateLimited / Forbidden."""
    settings = get_settings()
    email = (email or "").strip().lower()[:254]
    if not email or not password:
        raise Unauthorized("login.error.missing", "email and password are required")
    too_many = settings.LOGIN_MAX_FAILURES
    if _recent_failures(db, email=email) >= too_many or (ip and _recent_failures(db, ip=ip) >= too_many * 4):
        logger.warning("login rate-limited for %s from %s", email, ip or "?")
        raise RateLimited("login.error.rate_limited", "too many failed logins; try again later")
    agent = db.exec(select(Agent).where(Agent.email == email)).first()
    ok = security.verify_password(agent.password_hash if agent else None, password)
    db.add(LoginAttempt(email=email, ip=ip[:64], success=ok and agent is not None and agent.is_active))
    db.flush()
    if not ok or agent is None:
        logger.info("failed login for %s from %s", email, ip or "?")
        raise Unauthorized("login.error.invalid", "wrong email or password")
    if not agent.is_active:
        raise Forbidden("login.error.disabled", "this account is disabled")
    if security.password_needs_rehash(agent.password_hash):
        agent.password_hash = security.hash_password(password)
        db.add(agent)
    return agent


def create_session(db: Session, agent: Agent, *, ip: str = "", user_agent: str = "") -> str:
    """A new login for `agent`; returns the cookie token (only its hash is stored)."""
    token = security.new_token()
    now = utcnow()
    ttl = timedelta(hours=get_settings().SESSION_TTL_HOURS)
    db.add(
        AgentSession(
            token_hash=security.token_hash(token),
            agent_id=agent.id,  # type: ignore[arg-type]
            created_at=now,
            expires_at=now + ttl,
            last_seen_at=now,
            ip=ip[:64],
            user_agent=user_agent[:255],
        )
    )
    if agent.availability == Availability.OFFLINE:
        agent.availability = Availability.AVAILABLE
    agent.last_seen_at = now
    db.add(agent)
    db.flush()
    return token


def agent_for_token(db: Session, token: str | None) -> Agent | None:
    """The active agent behind a session token, or None if it is unknown, expired or disabled."""
    if not token or len(token) > 200:
        return None
    row = db.exec(select(AgentSession).where(AgentSession.token_hash == security.token_hash(token))).first()
    now = utcnow()
    if row is None:
        return None
    if row.expires_at <= now:
        db.delete(row)
        return None
    agent = db.get(Agent, row.agent_id)
    if agent is None or not agent.is_active:
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
        agent.last_seen_at = now
        db.add(row)
        db.add(agent)
    return agent


def revoke_session(db: Session, token: str | None) -> None:
    if token:
        db.exec(delete(AgentSession).where(col(AgentSession.token_hash) == security.token_hash(token)))


def revoke_agent_sessions(db: Session, agent_id: int) -> None:
    db.exec(delete(AgentSession).where(col(AgentSession.agent_id) == agent_id))


def purge_expired(db: Session) -> int:
    """Delete expired sessions and old login attempts; returns how many sessions went."""
    now = utcnow()
    result = db.exec(delete(AgentSession).where(col(AgentSession.expires_at) <= now))
    db.exec(delete(LoginAttempt).where(col(LoginAttempt.at) < now - timedelta(days=30)))
    return int(getattr(result, "rowcount", 0) or 0)
