"""Secrets stay out of logs, browsers and public endpoints."""

from __future__ import annotations

import json
import stat

from call_center.cli import FIRST_ADMIN_FILE, ensure_admin
from call_center.core.config import get_settings
from call_center.telephony.local.protocol import NonceCache, control_key, sign_request
from call_center.telephony.local.server import ControlServer


def test_a_generated_first_admin_password_goes_to_a_private_file_when_not_on_a_terminal(database, capsys):
    ensure_admin(get_settings())  # pytest's stdout is not a terminal, like a service manager's journal
    out = capsys.readouterr().out
    path = get_settings().data_dir / FIRST_ADMIN_FILE
    secret = path.read_text().split("password: ", 1)[1].strip()
    assert str(path) in out and secret not in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_health_says_nothing_but_healthy(client):
    assert client.get("/api/health").json() == {"status": "ok", "database": "ok"}


class _Exploding:
    async def handle(self, op: str, args: dict) -> None:
        raise RuntimeError("secret path /srv/data/x and a stack of internals")


async def test_media_server_errors_reach_the_app_as_a_reason_not_as_exception_text(env, caplog):
    key = control_key("a-secret-for-the-test-0123456789abcdef")
    server = ControlServer(_Exploding(), key)  # type: ignore[arg-type]
    server.nonces = NonceCache()
    reply = await server._reply(json.dumps(sign_request(key, "dial", {})).encode())
    assert reply == {"ok": False, "code": "call.error.media", "message": "the media server could not do that"}
    assert "secret path" in caplog.text  # ... it is in our log, for us
