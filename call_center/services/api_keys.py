"""API keys for integrations (e.g. the CRM reading calls and recordings). Only a hash is stored."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from call_center.core import security
from call_center.models import Agent, ApiKey, Role
from call_center.models.base import utcnow
from call_center.services.errors import Forbidden, InvalidInput, NotFound

PREFIX = "ak_"
_TOUCH_EVERY = timedelta(minutes=5)


def create_key(db: Session, admin: Agent, name: str) -> tuple[ApiKey, str]:
    """A new key acting as `admin` (read-only API access); returns the row and the key, shown once."""
    if admin.role != Role.ADMIN:
        raise Forbidden("error.forbidden", "only admins create API keys")
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise InvalidInput("apikeys.error.name", "a name of 1 to 120 characters is required")
    secret = PREFIX + security.new_token()
    key = ApiKey(name=name, prefix=secret[:10], key_hash=security.token_hash(secret), agent_id=admin.id or 0)
    db.add(key)
    db.flush()
    return key, secret


def list_keys(db: Session) -> list[ApiKey]:
    return list(db.exec(select(ApiKey).order_by(col(ApiKey.created_at).desc())))


def revoke_key(db: Session, key_id: int) -> ApiKey:
    key = db.get(ApiKey, key_id)
    if key is None:
        raise NotFound("error.not_found", f"no API key {key_id}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.add(key)
    return key


def agent_for_key(db: Session, secret: str | None) -> Agent | None:
    """The active admin behind a valid, unrevoked key."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    key = db.exec(select(ApiKey).where(ApiKey.key_hash == security.token_hash(secret))).first()
    if key is None or key.revoked_at is not None:
        return None
    agent = db.get(Agent, key.agent_id)
    if agent is None or not agent.is_active or agent.role != Role.ADMIN:
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > _TOUCH_EVERY:
        key.last_used_at = now
        db.add(key)
    return agent
