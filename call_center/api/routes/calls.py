"""The old system's call routes: the history as JSON and the browser's telephony token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from call_center.api.deps import CurrentAgent, SessionDep
from call_center.models import CallsPublic
from call_center.services import history
from call_center.telephony import get_provider
from call_center.telephony.base import ProviderError

router = APIRouter(prefix="/api/calls", tags=["calls"])


@router.get("", response_model=CallsPublic)
def list_calls(
    agent: CurrentAgent,
    db: SessionDep,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=history.MAX_PAGE_SIZE)] = 50,
) -> CallsPublic:
    """Calls the agent may see, newest first."""
    rows, count = history.list_calls(db, agent, page=page, page_size=page_size)
    return CallsPublic(data=rows, count=count)


@router.get("/token")
def token(agent: CurrentAgent) -> dict[str, Any]:
    """What the agent's browser needs to register its phone; the identity comes from the session."""
    try:
        return get_provider().browser_config(agent)
    except ProviderError as exc:
        raise HTTPException(status_code=503, detail={"code": exc.code, "message": exc.detail}) from None
