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
from call_center.core.locale import DIGITS
from call_center.models import Agent, AgentSession, Availability, AwayReason, LoginAttempt, Role
from call_center.models.base import utcnow
from call_center.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from call_center.services.events import queue_event

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


# The agent's own display preferences: field -> the values it may take.
PREFERENCES = {"language": LANGUAGES, "digits": DIGITS}


def set_preference(db: Session, agent_id: int, name: str, value: str) -> Agent:
    """The UI language (ar, en) or the digits on Arabic pages (latn: Western, arab: Arabic-Indic)."""
    if value not in PREFERENCES[name]:
        raise InvalidInput("error.generic", f"unknown {name} {value!r}")
    agent = get_agent(db, agent_id)
    setattr(agent, name, value)
    agent.updated_at = utcnow()
    db.add(agent)
    return agent


def set_availability(db: Session, agent_id: int, availability: str, reason: str | None = None) -> Agent:
    """What the agent chooses: available, away (with a reason: break, meeting, training) or offline.
    The change is recorded in their state timeline (services.agent_states). Flushes."""
    from call_center.services import agent_states

    if availability not in Availability.ALL:
        raise InvalidInput("error.generic", f"unknown availability {availability!r}")
    if availability == Availability.AWAY:
        reason = reason or AwayReason.BREAK
        if reason not in AwayReason.ALL:
            raise InvalidInput("error.generic", f"unknown reason {reason!r}")
    else:
        reason = None
    agent = get_agent(db, agent_id)
    agent.availability = availability
    agent.away_reason = reason
    agent.updated_at = utcnow()
    db.add(agent)
    db.flush()
    agent_states.track(db, agent_id)
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


def authenticate(db: Session, *, email: str, password: str, ip: str = "") -> Agent:
    """The agent with these credentials (throttled; see services.logins). Commits the attempt."""
    from call_center.services import logins

    return logins.authenticate(db, email=email, password=password, ip=ip)


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


def account_topic(agent_id: int) -> str:
    """Bus topic of one agent's account: their open pages and phones listen to be signed out at once."""
    return f"account.{agent_id}"


def _signed_out(db: Session, agent_id: int, reason: str) -> None:
    queue_event(db, account_topic(agent_id), {"type": "signed-out", "agent_id": agent_id, "reason": reason})


def revoke_session(db: Session, token: str | None) -> None:
    """End one login (logout)."""
    if not token:
        return
    row = db.exec(select(AgentSession).where(AgentSession.token_hash == security.token_hash(token))).first()
    if row is not None:
        db.delete(row)
        db.flush()
        _signed_out(db, row.agent_id, "logout")


def revoke_agent_sessions(db: Session, agent_id: int, *, keep_token: str | None = None) -> None:
    """End every login of an agent (but `keep_token`'s); their open pages are signed out within seconds."""
    query = delete(AgentSession).where(col(AgentSession.agent_id) == agent_id)
    if keep_token:
        query = query.where(col(AgentSession.token_hash) != security.token_hash(keep_token))
    db.exec(query)
    _signed_out(db, agent_id, "revoked")


def change_own_password(
    db: Session, agent_id: int, *, old: str, new: str, current_token: str | None
) -> Agent:
    """An agent changes their password: the old one is required; every other session of theirs ends."""
    agent = get_agent(db, agent_id)
    if not security.verify_password(agent.password_hash, old or ""):
        raise Forbidden("account.error.old_password", "the current password is wrong")
    _check_password(new)
    if security.verify_password(agent.password_hash, new):
        raise InvalidInput("account.error.same_password", "the new password is the current one")
    agent.password_hash = security.hash_password(new)
    agent.updated_at = utcnow()
    db.add(agent)
    revoke_agent_sessions(db, agent_id, keep_token=current_token)
    logger.info("agent %s changed their password; their other sessions were ended", agent_id)
    return agent


def purge_expired(db: Session) -> int:
    """Delete expired sessions and old login attempts; returns how many sessions went."""
    now = utcnow()
    result = db.exec(delete(AgentSession).where(col(AgentSession.expires_at) <= now))
    db.exec(delete(LoginAttempt).where(col(LoginAttempt.at) < now - timedelta(days=30)))
    return int(getattr(result, "rowcount", 0) or 0)
