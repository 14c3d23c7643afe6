"""Helpers for the pages' background tasks (live history, session watch)."""

from __future__ import annotations

import contextlib


async def connected(token: str) -> bool:
    """Whether the page's websocket is still connected (to any worker, when Redis is used)."""
    from reflex.utils.prerequisites import get_and_validate_app

    with contextlib.suppress(Exception):
        namespace = get_and_validate_app().app.event_namespace
        if namespace is None:
            return False
        manager = getattr(namespace, "_token_manager", None)
        if manager is not None:
            return bool(await manager.is_token_connected(token))
        return token in namespace.token_to_sid
    return True
