"""Domain errors. Each carries an i18n key (`code`) so the UI and the API can explain it."""

from __future__ import annotations


class DomainError(Exception):
    """Base class; `code` is an i18n key, `status` the HTTP status the API maps it to."""

    status = 400

    def __init__(self, code: str, detail: str | None = None):
        self.code = code
        self.detail = detail or code
        super().__init__(self.detail)


class InvalidInput(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403


class Unauthorized(DomainError):
    status = 401


class RateLimited(DomainError):
    status = 429


class Unavailable(DomainError):
    status = 503
