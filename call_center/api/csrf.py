"""Cross-site request forgery: a state-changing request must come from one of our own pages.

Every POST/PUT/PATCH/DELETE under /api/ must carry an Origin (or, failing that, a Referer) that is one of
`Settings.allowed_origins`; otherwise it is refused with 403 before any route runs. Browsers send Origin on
every such request, same-site ones included, and a page elsewhere cannot forge it. Login is covered too
(login CSRF: signing a victim into the attacker's account). The only exemptions are the routes that prove
who sent them by a signature over the request (Twilio's and our media server's webhooks), listed here and
checked by the access-matrix test.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from call_center.core.config import get_settings

logger = logging.getLogger(__name__)

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Signed by their senders (X-Twilio-Signature, X-Media-Signature): no browser, no cookie, no Origin.
SIGNED_PATHS = (
    "/api/calls/twiml/",
    "/api/calls/webhook/",
    "/api/local/webhook",
)


def exempt(path: str) -> bool:
    return path.startswith(SIGNED_PATHS)


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def request_origin(headers: dict[str, str]) -> str | None:
    origin = headers.get("origin")
    if origin and origin != "null":
        return origin.rstrip("/")
    referer = headers.get("referer")
    return _origin_of(referer) if referer else None


class CsrfGuard:
    """ASGI middleware in front of the API (see the module docstring)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE:
            path = scope["path"]
            if path.startswith("/api/") and not exempt(path):
                headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
                origin = request_origin(headers)
                if origin not in get_settings().allowed_origins:
                    logger.warning("cross-site %s %s refused (origin %r)", scope["method"], path, origin)
                    await _forbidden(send)
                    return
        await self.app(scope, receive, send)


async def _forbidden(send: Send) -> None:
    body = (
        b'{"detail":{"code":"error.csrf","message":"This request did not come from the app\'s own pages."}}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
