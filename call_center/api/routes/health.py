"""GET /api/health: for load balancers; no session needed."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from call_center.core.db import get_engine

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health")
def health() -> JSONResponse:
    """200 when the database answers, 503 otherwise. Public, so it says nothing more than that."""
    body = {"status": "ok", "database": "ok"}
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not healthy"
        logger.error("health check: database unavailable: %s", exc.__class__.__name__)
        body.update(status="error", database="unavailable")
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)
