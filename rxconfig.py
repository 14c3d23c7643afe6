"""Reflex configuration only; every value comes from call_center.core.config (environment / .env)."""

import sys

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from call_center.core.config import ConfigError, get_settings

try:
    settings = get_settings()
except ConfigError as exc:  # the same message `python -m call_center serve` prints
    sys.exit(str(exc))

config = rx.Config(
    app_name="call_center",
    db_url=settings.database_url,
    redis_url=settings.REDIS_URL,
    backend_host=settings.HOST,
    frontend_port=settings.PORT,
    backend_port=settings.PORT,
    # The public address, and (local use) this machine's own; the same list the CSRF check uses.
    cors_allowed_origins=settings.allowed_origins,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[SitemapPlugin],
    default_color_mode="light",
)
