"""GET /api/health: for load balancers; no session needed."""

from __future__ import annotations

import logging
import os

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from call_center.core.config import get_settings
from call_center.core.db import get_engine

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health")
def health() -> JSONResponse:
    """200 when the database answers, 503 otherwise."""
    settings = get_settings()
    body = {"status": "ok", "database": "ok", "provider": settings.TELEPHONY_PROVIDER, "worker": os.getpid()}
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not healthy"
        logger.error("health check: database unavailable: %s", exc.__class__.__name__)
        body.update(status="error", database="unavailable")
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)
