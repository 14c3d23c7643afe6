"""Call every Reflex event handler of the app over its real event websocket (the access-matrix test, and
bench/unauthenticated_sweep.py against any running app).

Handlers are found by introspection of the app's state tree, so a new one is swept without anyone listing
it. Each is called with harmless arguments of the types its signature declares.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from call_center.testing.reflex_client import ReflexClient, Update

DUMMY_BY_TYPE = {"int": 0, "float": 0.0, "bool": False, "str": "x", "dict": {}, "list": []}


@dataclass(frozen=True)
class Handler:
    state: str  # the state's full name
    name: str
    level: str
    params: tuple[tuple[str, str], ...]  # (name, annotation)

    @property
    def event(self) -> str:
        return f"{self.state}.{self.name}"

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, annotation in self.params:
            base = annotation.split("[", 1)[0].split("|", 1)[0].strip()
            out[name] = DUMMY_BY_TYPE.get(base, "x")
        return out


def handlers() -> list[Handler]:
    """Every handler of every state of the app (importing the app registers them all)."""
    import call_center.call_center  # noqa: F401 (the app module imports every page and state)
    from call_center.state.guard import all_handlers

    found = []
    for cls, name, level in all_handlers():
        fn = cls.event_handlers[name].fn
        params = tuple(
            (p.name, str(p.annotation) if p.annotation is not inspect.Parameter.empty else "")
            for p in list(inspect.signature(fn).parameters.values())[1:]
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        )
        found.append(Handler(cls.get_full_name(), name, level, params))
    return found


@dataclass
class Outcome:
    handler: Handler
    updates: list[Update]

    @property
    def refused(self) -> bool:
        """The guard's answer: a redirect to the login page and nothing else."""
        return any(
            path.startswith("/login?error=") for u in self.updates for path in u.redirects
        ) and not any(u.delta for u in self.updates)

    @property
    def data(self) -> dict[str, Any]:
        """Every var value that came back."""
        values: dict[str, Any] = {}
        for update in self.updates:
            values.update(update.values())
        return values


async def sweep(client: ReflexClient, only: list[Handler] | None = None) -> list[Outcome]:
    """Call each handler once (setvar with a var of the app that would matter)."""
    outcomes = []
    for handler in only if only is not None else handlers():
        payload = handler.payload()
        if handler.name == "setvar":
            payload = {"var_name": "agent_id", "value": 1}
        outcomes.append(Outcome(handler, await client.call(handler.event, payload)))
    return outcomes
