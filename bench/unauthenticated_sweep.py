"""Open the app's event websocket with no cookie and call every Reflex event handler it has.

Nothing may come back but the guard's redirect to the login page (and, for the few public handlers, their
harmless answers). Prints one line per handler and exits 1 if any private handler answered.

    .venv/bin/python bench/unauthenticated_sweep.py http://127.0.0.1:3000
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from call_center.state.guard import Access  # noqa: E402
from call_center.testing.reflex_client import ReflexClient  # noqa: E402
from tests.support.sweep import sweep  # noqa: E402


async def main(url: str) -> int:
    async with ReflexClient(url, path="/login") as client:
        outcomes = await sweep(client)
    answered = 0
    for outcome in outcomes:
        public = outcome.handler.level == Access.PUBLIC
        verdict = "public" if public else ("refused" if outcome.refused else "ANSWERED")
        answered += verdict == "ANSWERED"
        print(f"{verdict:8} {outcome.handler.event[-90:]}  {str(outcome.data)[:60] if not public else ''}")
    print(f"\n{len(outcomes)} handlers called without a cookie; {answered} private handler(s) answered")
    return 1 if answered else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000")))
