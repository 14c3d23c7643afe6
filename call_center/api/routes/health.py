"""GET /api/health: for load balancers, no session needed. GET /api/metrics: Prometheus, authenticated."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from call_center.api.deps import Monitor, SessionDep
from call_center.core.db import get_engine
from call_center.services import metrics

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


@router.get("/metrics")
def prometheus_metrics(_agent: Monitor, db: SessionDep) -> Response:
    """Live calls, queues, connected agents, recording jobs and the media server's counters (docs/metrics.md).
    A supervisor's or admin's session, or `Authorization: Bearer <API key>` (a scraper)."""
    return Response(metrics.exposition(db, metrics.media_stats()), media_type=metrics.CONTENT_TYPE)
