"""The local media server process (`python -m call_center media`): control socket, carrier, media engine.

Media runs in its own process so web work can never stall it (and it gets its own core); `serve` starts it
next to the app and stops it first, so calls end cleanly and their callbacks still reach the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from datetime import UTC, datetime
from typing import Any

from call_center.core.config import Settings
from call_center.core.processes import SUPERVISED_ENV, ParentWatch
from call_center.telephony.local.carrier import Carrier, CarrierRefused
from call_center.telephony.local.media import MediaEngine, RecordingResult
from call_center.telephony.local.notifier import Notifier
from call_center.telephony.local.protocol import (
    MAX_MESSAGE,
    NonceCache,
    control_key,
    encode,
    verify_request,
)
from call_center.telephony.local.recorder import recover_orphans

logger = logging.getLogger(__name__)

WATCHDOG_SECONDS = 3.0
CALLBACK_DRAIN_SECONDS = 10.0


def callback_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.HOST in ("0.0.0.0", "::", "localhost") else settings.HOST
    return f"http://{host}:{settings.PORT}/api/local/webhook"


class ControlServer:
    """Accepts one JSON request per connection, checks its token, runs it on the carrier."""

    def __init__(self, carrier: Carrier, key: bytes):
        self.carrier = carrier
        self.key = key
        self.nonces = NonceCache()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), timeout=10)
            reply = await self._reply(line)
            writer.write(encode(reply))
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _reply(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line) if len(line) <= MAX_MESSAGE else None
        except ValueError:
            request = None
        if not isinstance(request, dict):
            return {"ok": False, "code": "error.generic", "message": "malformed request"}
        refused = verify_request(self.key, request, self.nonces)
        if refused is not None:
            logger.warning("media control request refused: %s", refused)
            return {"ok": False, "code": "error.forbidden", "message": refused}
        try:
            result = await self.carrier.handle(str(request["op"]), request["args"])
        except CarrierRefused as exc:
            return {"ok": False, "code": exc.code, "message": exc.message}
        except Exception:  # report, never kill the server; the details stay in our log, not the browser
            logger.exception("media request %s failed", request.get("op"))
            return {"ok": False, "code": "call.error.media", "message": "the media server could not do that"}
        return {"ok": True, "result": result}


async def recover(settings: Settings, notifier: Notifier) -> None:
    """Finalise recordings a crash left behind and tell the app those calls are over."""
    legs_dir = settings.recordings_dir / "legs"
    month = f"{datetime.now(UTC):%Y/%m}"

    def path_for(sid: str) -> Any:
        return settings.recordings_dir / month / f"{sid}.mp3"

    results = await asyncio.to_thread(recover_orphans, legs_dir, path_for)
    for sid, result in results:
        logger.info("recovered the recording of call %s left by a crash", sid)
        notifier.status(sid, "completed", leg="customer", reason="reason.media_restarted", by="system")
        if isinstance(result, RecordingResult):
            key = str(result.path.relative_to(settings.recordings_dir))
            notifier.recording(
                sid,
                status="ready",
                key=key,
                size=result.size,
                duration=result.duration,
                channels=result.channels,
            )
        else:
            notifier.recording(sid, status="failed", reason=result.reason)


async def run(settings: Settings) -> None:
    notifier = Notifier(callback_url(settings), settings.secret_key())
    notifier.start()
    carrier_ref: list[Carrier] = []

    async def leg_ended(sid: str, role: str, reason: str) -> None:
        await carrier_ref[0].on_leg_ended(sid, role, reason)

    engine = MediaEngine(
        legs_dir=settings.recordings_dir / "legs",
        media_hosts=settings.MEDIA_HOST,
        on_leg_ended=leg_ended,
        inactivity_timeout=WATCHDOG_SECONDS,
    )
    carrier = Carrier(engine, notifier, settings.recordings_dir)
    carrier_ref.append(carrier)
    await recover(settings, notifier)
    control = ControlServer(carrier, control_key(settings.secret_key()))
    server = await asyncio.start_server(control.handle, "127.0.0.1", settings.media_control_port)
    logger.info(
        "local media server listening on 127.0.0.1:%s (media hosts %s)",
        settings.media_control_port,
        settings.MEDIA_HOST,
    )

    stop = asyncio.Event()
    orphaned = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # SIGHUP: serve died without stopping us (its parent-death signal), or the terminal went away.
    loop.add_signal_handler(signal.SIGHUP, orphaned.set)
    watch = asyncio.create_task(_watch_parent(orphaned), name="parent-watch")
    await asyncio.wait(
        [asyncio.create_task(stop.wait()), asyncio.create_task(orphaned.wait())],
        return_when=asyncio.FIRST_COMPLETED,
    )
    watch.cancel()
    if orphaned.is_set() and not stop.is_set():
        # Nobody is left to take our callbacks: keep the leg files (flushed) for the next start to finalise
        # and report, exactly as after a crash, and go at once.
        logger.warning("media server: serve is gone; leaving %d call(s) to recovery", len(carrier.calls))
        engine.flush()
        server.close()
        os._exit(0)
    await stop_cleanly(carrier, engine, notifier, server)


async def stop_cleanly(
    carrier: Carrier, engine: MediaEngine, notifier: Notifier, server: asyncio.Server
) -> None:
    """Stop taking new calls, end every live call (recordings finalised), deliver the last callbacks."""
    carrier.draining = True
    logger.info("local media server stopping: ending %d call(s)", len(carrier.calls))
    await carrier.shutdown()
    await engine.close()
    if not await notifier.drain(CALLBACK_DRAIN_SECONDS):
        logger.error("%d callback(s) could not be delivered before shutdown", notifier.pending)
    server.close()
    await notifier.close()


async def _watch_parent(orphaned: asyncio.Event) -> None:
    """The parent-death signal covers serve dying; this covers the rest (e.g. started under another parent
    that died before we could ask for the signal)."""
    if os.environ.get(SUPERVISED_ENV) != "1":
        return
    watch = ParentWatch(orphaned.set)
    while not watch.check():
        await asyncio.sleep(0.5)
