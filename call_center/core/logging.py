"""Logging set-up: one format, the level from LOG_LEVEL, secrets never logged."""

from __future__ import annotations

import logging
import os


def setup_logging(level: str | None = None) -> None:
    """Configure the root logger once (idempotent)."""
    root = logging.getLogger()
    if getattr(root, "_call_center_configured", False):
        return
    level = level or os.environ.get("LOG_LEVEL", "INFO")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("aioice", "aiortc", "httpx", "httpcore", "twilio.http_client", "alembic.runtime"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if os.environ.get("DEBUG_MEDIA", "").lower() in ("1", "true", "yes"):
        logging.getLogger("aiortc").setLevel(logging.DEBUG)
        logging.getLogger("call_center.telephony.local").setLevel(logging.DEBUG)
    root._call_center_configured = True  # type: ignore[attr-defined]
