"""The local media server's control protocol: one JSON request and one JSON reply per TCP connection.

The app (any worker) talks to the media server on 127.0.0.1:MEDIA_CONTROL_PORT; every request carries a
token derived from the app's secret, so nothing else on the machine can drive calls. The media server
reports back like Twilio does: signed HTTP callbacks to the app (see `notifier.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from typing import Any

MAX_MESSAGE = 256 * 1024


class CarrierError(Exception):
    """The media server refused a request or could not be reached; `code` is an i18n key."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


def control_token(secret: str) -> str:
    return hmac.new(secret.encode(), b"local-media-control", hashlib.sha256).hexdigest()


def callback_signature(secret: str, body: bytes) -> str:
    """Signature of a callback body (header X-Media-Signature)."""
    return hmac.new(secret.encode(), b"local-media-callback|" + body, hashlib.sha256).hexdigest()


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


class CarrierClient:
    """Blocking client used by the app's (threadpool) routes; one short connection per request."""

    def __init__(self, port: int, secret: str, timeout: float = 10.0):
        self.address = ("127.0.0.1", port)
        self.token = control_token(secret)
        self.timeout = timeout

    def request(self, op: str, **args: Any) -> Any:
        try:
            with socket.create_connection(self.address, timeout=self.timeout) as sock:
                sock.sendall(encode({"token": self.token, "op": op, "args": args}))
                reply = _read_line(sock)
        except OSError as exc:
            raise CarrierError(
                "call.error.media_unavailable",
                f"the local media server is not reachable ({exc.__class__.__name__})",
            ) from None
        if not reply.get("ok"):
            raise CarrierError(
                str(reply.get("code", "error.generic")), str(reply.get("message", "media error"))
            )
        return reply.get("result")


def _read_line(sock: socket.socket) -> dict[str, Any]:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if chunk.endswith(b"\n") or size > MAX_MESSAGE:
            break
    data = b"".join(chunks)
    if not data:
        raise OSError("empty reply")
    parsed = json.loads(data)
    if not isinstance(parsed, dict):
        raise OSError("malformed reply")
    return parsed
