"""TwilioSigned: the POST parameters of a request Twilio really sent (X-Twilio-Signature verified), or 403."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request

from call_center.core.config import get_settings
from call_center.telephony.twilio.signature import HEADER, FormParams, is_valid, public_url

logger = logging.getLogger(__name__)

# Twilio's callbacks are a few hundred bytes; anything far larger is not Twilio.
MAX_BODY_BYTES = 64 * 1024


def _refuse(status: int, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail={"code": "twilio.error.signature", "message": message})


async def twilio_params(request: Request) -> dict[str, str]:
    """Read the form body and check its signature against PUBLIC_BASE_URL + path (+ query string)."""
    settings = get_settings()
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise _refuse(413, "request body too large")
    is_form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
    params = FormParams(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True) if is_form else [])
    signature = request.headers.get(HEADER, "")
    url = public_url(settings, request.url.path, request.url.query)
    if settings.TELEPHONY_PROVIDER != "twilio" or not is_valid(settings, url, params, signature):
        # Never say what the expected signature was; the log says which check failed, without secrets.
        logger.warning(
            "Twilio request to %s refused: %s",
            request.url.path,
            "signature missing" if not signature else "signature does not match",
        )
        raise _refuse(403, "missing or invalid X-Twilio-Signature")
    return params.as_dict()


TwilioSigned = Annotated[dict[str, str], Depends(twilio_params)]
