"""Drive the running app the way its local media server does: a call row, then signed status callbacks."""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine, create_engine, text

from call_center.telephony.local.protocol import callback_headers
from call_center.testing.server import DisposableApp as RunningApp


def new_call(
    app: RunningApp, number: str = "+201000000009", agent_id: int = 1, engine: Engine | None = None
) -> tuple[int, str]:
    """A call row as the app writes it when an agent dials, in the app's database (its DATABASE_URL, or
    SQLite in its DATA_DIR; pass `engine` to reuse one); returns (id, local call sid)."""
    sid = "LC" + uuid.uuid4().hex
    now = datetime.now(UTC).replace(tzinfo=None)
    own = engine is None
    if engine is None:
        engine = create_engine(app.env.get("DATABASE_URL") or f"sqlite:///{app.data_dir / 'call_center.db'}")
    try:
        with engine.begin() as conn:
            call_id = conn.execute(
                text(
                    "INSERT INTO call (provider, provider_call_sid, direction, from_number, to_number,"
                    " customer_number, agent_id, status, created_at, updated_at)"
                    " VALUES ('local', :sid, 'outbound', '+20221234567', :n, :n, :agent, 'initiated',"
                    " :now, :now) RETURNING id"
                ),
                {"sid": sid, "n": number, "agent": agent_id, "now": now},
            ).scalar_one()
    finally:
        if own:
            engine.dispose()
    return int(call_id), sid


def send_status(app: RunningApp, sid: str, status: str, client: httpx.Client | None = None) -> None:
    """A signed status callback, as the media server sends it (any app worker may take it)."""
    secret = (app.data_dir / ".secret_key").read_text().strip()
    event = {"type": "status", "sid": sid, "status": status, "leg": "customer", "event_id": uuid.uuid4().hex}
    body = json.dumps({**event, "at": datetime.now(UTC).isoformat()}).encode()
    headers = {"content-type": "application/json", **callback_headers(secret, body)}
    with httpx.Client(timeout=10) if client is None else contextlib.nullcontext(client) as http:
        http.post(f"{app.url}/api/local/webhook", content=body, headers=headers).raise_for_status()
