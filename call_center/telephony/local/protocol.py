"""The local media server's control protocol and the signatures of its callbacks.

Control: one JSON request and one JSON reply per TCP connection on 127.0.0.1:MEDIA_CONTROL_PORT. Every
request carries a timestamp, a random nonce and an HMAC over all of it (key derived from the app's
SECRET_KEY): nothing else on the machine can drive calls, a captured request cannot be replayed (the server
remembers nonces for longer than the timestamp window), and a changed byte breaks the MAC.

Callbacks (media server -> app, POST /api/local/webhook) are signed the same way, per delivery attempt:
X-Media-Timestamp, X-Media-Nonce and X-Media-Signature = HMAC(key, timestamp|nonce|body). The app refuses
a stale timestamp or a nonce it has seen (`services.nonces`); the event's own id keeps retries of one event
from being applied twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket
import time
from collections import OrderedDict
from typing import Any

MAX_MESSAGE = 256 * 1024
WINDOW_SECONDS = 60.0  # how far a signed message's timestamp may be from the receiver's clock
TIMESTAMP_HEADER = "x-media-timestamp"
NONCE_HEADER = "x-media-nonce"
SIGNATURE_HEADER = "x-media-signature"


class CarrierError(Exception):
    """The media server refused a request or could not be reached; `code` is an i18n key."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


def _key(secret: str, purpose: bytes) -> bytes:
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()


def control_key(secret: str) -> bytes:
    return _key(secret, b"local-media-control")


def callback_key(secret: str) -> bytes:
    return _key(secret, b"local-media-callback")


def mac(key: bytes, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(key, f"{timestamp}|{nonce}|".encode() + body, hashlib.sha256).hexdigest()


def fresh(timestamp: str, now: float | None = None) -> bool:
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    return abs((time.time() if now is None else now) - sent) <= WINDOW_SECONDS


def callback_headers(secret: str, body: bytes) -> dict[str, str]:
    """The signature headers of one callback delivery (a new timestamp and nonce per attempt)."""
    timestamp, nonce = f"{time.time():.3f}", secrets.token_hex(16)
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: mac(callback_key(secret), timestamp, nonce, body),
    }


def callback_signature_ok(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    """MAC and timestamp of a callback (the nonce's novelty is the caller's to check)."""
    timestamp, nonce = headers.get(TIMESTAMP_HEADER, ""), headers.get(NONCE_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    if not (timestamp and nonce and signature) or len(nonce) > 64 or not fresh(timestamp):
        return False
    return hmac.compare_digest(mac(callback_key(secret), timestamp, nonce, body), signature)


def _canonical(op: str, args: dict[str, Any]) -> bytes:
    return json.dumps([op, args], sort_keys=True, separators=(",", ":")).encode()


def sign_request(key: bytes, op: str, args: dict[str, Any]) -> dict[str, Any]:
    timestamp, nonce = f"{time.time():.3f}", secrets.token_hex(16)
    return {
        "op": op,
        "args": args,
        "ts": timestamp,
        "nonce": nonce,
        "mac": mac(key, timestamp, nonce, _canonical(op, args)),
    }


class NonceCache:
    """Nonces seen within the window (and a bit more): a replay inside the window is refused."""

    def __init__(self, limit: int = 100_000):
        self._seen: OrderedDict[str, float] = OrderedDict()
        self.limit = limit

    def first_use(self, nonce: str, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        while self._seen and (
            next(iter(self._seen.values())) < now - 2 * WINDOW_SECONDS or len(self._seen) > self.limit
        ):
            self._seen.popitem(last=False)
        if nonce in self._seen:
            return False
        self._seen[nonce] = now
        return True


def verify_request(key: bytes, request: dict[str, Any], nonces: NonceCache) -> str | None:
    """Why a control request is refused, or None if it is signed, fresh and new."""
    op, args = request.get("op"), request.get("args", {})
    timestamp, nonce, signature = (
        str(request.get("ts", "")),
        str(request.get("nonce", "")),
        str(request.get("mac", "")),
    )
    if not isinstance(op, str) or not isinstance(args, dict) or not (timestamp and nonce and signature):
        return "malformed request"
    if not hmac.compare_digest(mac(key, timestamp, nonce, _canonical(op, args)), signature):
        return "bad signature"
    if not fresh(timestamp):
        return "stale request"
    if not nonces.first_use(nonce):
        return "replayed request"
    return None


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


class CarrierClient:
    """Blocking client used by the app's (threadpool) routes; one short connection per request."""

    def __init__(self, port: int, secret: str, timeout: float = 10.0):
        self.address = ("127.0.0.1", port)
        self.key = control_key(secret)
        self.timeout = timeout

    def request(self, op: str, **args: Any) -> Any:
        try:
            with socket.create_connection(self.address, timeout=self.timeout) as sock:
                sock.sendall(encode(sign_request(self.key, op, args)))
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
