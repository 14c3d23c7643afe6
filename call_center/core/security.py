"""Passwords (argon2id), session tokens and signed, expiring URLs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from call_center.core.config import get_settings

SESSION_COOKIE = "cc_session"
LANG_COOKIE = "cc_lang"

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both paths cost the same (no account enumeration by timing).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; a missing hash still spends the same time."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    """A random, URL-safe secret for cookies and API keys."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What we store instead of a token (SHA-256 hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _mac(message: str) -> str:
    key = get_settings().secret_key().encode()
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:20]).decode().rstrip("=")


def sign(purpose: str, value: str, ttl_seconds: int, now: float | None = None) -> tuple[int, str]:
    """(expires, signature) binding `value` to `purpose` until `expires` (unix seconds)."""
    expires = int((now if now is not None else time.time()) + ttl_seconds)
    return expires, _mac(f"{purpose}|{value}|{expires}")


def verify_signed(purpose: str, value: str, expires: int, signature: str, now: float | None = None) -> bool:
    """Whether `signature` is valid for `value` and has not expired."""
    if expires < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(_mac(f"{purpose}|{value}|{expires}"), signature)


def hmac_hex(message: bytes) -> str:
    """HMAC-SHA256 of raw bytes with the app secret (internal webhooks)."""
    return hmac.new(get_settings().secret_key().encode(), message, hashlib.sha256).hexdigest()
