"""Log in and out. The session lives in an HttpOnly cookie that the API and the Reflex socket both see."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from call_center.api.deps import CurrentAgent, SessionDep, client_ip
from call_center.core.config import get_settings
from call_center.core.security import LANG_COOKIE, SESSION_COOKIE
from call_center.models import AgentPublic
from call_center.services import agents
from call_center.services.errors import DomainError

router = APIRouter(prefix="/api/auth", tags=["auth"])

HOME = "/call-center"


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    if target.startswith(("/login", "/api/")):
        return HOME
    return target


def set_session_cookie(response: Response, token: str, language: str) -> None:
    settings = get_settings()
    max_age = settings.SESSION_TTL_HOURS * 3600
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax", path="/")


def _next_from_referer(request: Request) -> str | None:
    """The `next` of the login page the form was on (/login?next=/phone).

    The page copies it into a hidden field once it has loaded; a form sent before that (a password
    manager, a fast hand) still goes where the agent was headed."""
    parts = urlsplit(request.headers.get("referer", ""))
    if parts.path.rstrip("/") != "/login":
        return None
    values = parse_qs(parts.query).get("next")
    return values[0] if values else None


async def _credentials(request: Request) -> tuple[str, str, str, bool]:
    """(email, password, next, wants_json) from a form post or a JSON body."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return str(body.get("email", "")), str(body.get("password", "")), str(body.get("next", "")), True
    form = await request.form()
    return str(form.get("email", "")), str(form.get("password", "")), str(form.get("next", "")), False


@router.post("/login", response_model=None)
async def login(request: Request, db: SessionDep) -> Response:
    """Form post: 303 to the app or back to /login?error=...; JSON post: 200 or the error as JSON."""
    email, password, target, wants_json = await _credentials(request)
    target = target if target and target != HOME else _next_from_referer(request) or target
    try:
        agent = agents.authenticate(db, email=email, password=password, ip=client_ip(request))
        token = agents.create_session(
            db, agent, ip=client_ip(request), user_agent=request.headers.get("user-agent", "")
        )
        db.commit()
    except DomainError as exc:
        db.commit()  # keep the failed attempt: it feeds the rate limit
        if wants_json:
            return JSONResponse({"detail": {"code": exc.code, "message": exc.detail}}, status_code=exc.status)
        error = exc.code.removeprefix("login.error.")
        query = urlencode({"error": error, "email": email[:254], "next": safe_next(target)})
        return RedirectResponse(f"/login?{query}", status_code=303)
    response: Response
    if wants_json:
        response = JSONResponse(
            {"agent": AgentPublic.model_validate(agent, from_attributes=True).model_dump()}
        )
    else:
        response = RedirectResponse(safe_next(target), status_code=303)
    set_session_cookie(response, token, agent.language)
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, db: SessionDep) -> Response:
    """End this login and go back to the login page."""
    agents.revoke_session(db, request.cookies.get(SESSION_COOKIE))
    db.commit()
    response = RedirectResponse("/login?msg=logged_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=AgentPublic)
def me(agent: CurrentAgent) -> AgentPublic:
    """The logged-in agent."""
    return AgentPublic.model_validate(agent, from_attributes=True)
