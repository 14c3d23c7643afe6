"""The call center's testing kit: write Playwright flows against the app with real calls, fake voices and
checked recordings (docs/testing.md). `pip install -e .` registers its pytest plugin (fixtures
`call_center_app`, `agent_page`, `admin_page`, `test_phone`, ...); the names below are the public API.

Imports are lazy: the plugin is loaded by every pytest run in the environment and must not drag the app,
Playwright or PyAV in before a test asks for them.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "say": "audio",
    "agent_voice": "audio",
    "customer_voice": "audio",
    "colleague_voice": "audio",
    "supervisor_voice": "audio",
    "sounds_like": "audio",
    "tone_share": "audio",
    "HOLD_TONE": "audio",
    "HOLD_TONE_PERIOD": "audio",
    "NOTICE_TONE": "audio",
    "listen": "pages",
    "decode": "audio",
    "channel_matches": "audio",
    "chromium_path": "browser",
    "chromium_args": "browser",
    "ChromiumNotFound": "browser",
    "heard": "pages",
    "ring_wait_ms": "pages",
    "log_in": "pages",
    "Softphone": "pages",
    "IncomingCall": "pages",
    "History": "pages",
    "HistoryRow": "pages",
    "CallDetail": "pages",
    "Contacts": "pages",
    "Reports": "pages",
    "Wallboard": "pages",
    "TestPhone": "pages",
    "WrapUp": "pages",
    "QueuesAdmin": "pages",
    "Recording": "recordings",
    "recording_of": "recordings",
    "Account": "server",
    "CallCenterApp": "server",
    "DisposableApp": "server",
    "connect": "server",
    "start_app": "server",
    "ReflexClient": "reflex_client",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'call_center.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(f"call_center.testing.{module}"), name)
