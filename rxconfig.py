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
    # The public address, and this machine's own (an agent may open http://127.0.0.1:PORT next to a tunnel).
    cors_allowed_origins=sorted(
        {
            settings.public_base_url,
            f"http://127.0.0.1:{settings.PORT}",
            f"http://localhost:{settings.PORT}",
            f"http://{settings.HOST}:{settings.PORT}",
        }
    ),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[SitemapPlugin],
    default_color_mode="light",
)
