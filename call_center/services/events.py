"""The event bus: committed changes are pushed to every open page, never polled.

Backends: in-process asyncio fan-out (default, one worker) and Redis pub/sub (REDIS_URL: every worker's
pages see every event). Services queue events on their database session with `queue_event`; they are
published only after that session commits (`after_commit`), so nobody sees a change that was rolled back.
`publish` is safe from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as OrmSession

logger = logging.getLogger(__name__)

CHANNEL = "call_center:events"
QUEUE_SIZE = 1000
# Offered to every subscriber of this process when it is stopping: long-lived streams end at once.
STOPPING = "server.stopping"


@dataclass(frozen=True)
class BusEvent:
    topic: str
    data: dict[str, Any]
    published_at: float = field(default_factory=time.time)

    def to_json(self) -> str:
        return json.dumps(
            {"topic": self.topic, "data": self.data, "published_at": self.published_at}, default=str
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> BusEvent:
        body = json.loads(raw)
        return cls(body["topic"], body["data"], body.get("published_at", time.time()))


def topic_matches(pattern: str, topic: str) -> bool:
    """A subscription to `pattern` gets `topic` if they are equal or `topic` continues `pattern` after a
    dot: "device.agent_1" gets "device.agent_1" and "device.agent_1.x", never "device.agent_10"."""
    return topic == pattern or topic.startswith(pattern + ".")


class Subscription:
    """One subscriber's queue; iterate it with `async for`. Slow consumers lose the oldest events."""

    def __init__(self, topics: tuple[str, ...]):
        self.topics = topics
        self.queue: asyncio.Queue[BusEvent] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.loop = asyncio.get_running_loop()  # the queue's: it is only touched from there
        self.dropped = 0

    def wants(self, topic: str) -> bool:
        return not self.topics or any(topic_matches(pattern, topic) for pattern in self.topics)

    def offer(self, item: BusEvent) -> None:
        """Queue an event (from any thread: another loop's or a worker thread's offer is handed over)."""
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is self.loop:
            self._put(item)
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._put, item)

    def _put(self, item: BusEvent) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> BusEvent:
        return await self.queue.get()

    def ready(self) -> list[BusEvent]:
        """Every event already queued, without waiting (a consumer that fell behind takes them together)."""
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items

    async def get(self, timeout: float | None = None) -> BusEvent | None:
        """The next event, or None after `timeout` seconds."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


class EventBus:
    """In-process fan-out to the subscribers of this process's event loop."""

    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def close(self) -> None:
        self._subscribers.clear()

    def _fan_out(self, item: BusEvent) -> None:
        for sub in list(self._subscribers):
            if sub.wants(item.topic):
                sub.offer(item)

    def _deliver_local(self, item: BusEvent) -> None:
        # Each subscription takes the event on its own loop (Subscription.offer), whatever thread this is.
        self._fan_out(item)

    def publish(self, topic: str, data: dict[str, Any]) -> None:
        """Send an event to every subscriber (from any thread)."""
        self._deliver_local(BusEvent(topic, data))

    def stopping(self) -> None:
        """Tell every subscriber of this process, whatever its topics, that the server is stopping."""
        item = BusEvent(STOPPING, {})
        for sub in list(self._subscribers):
            sub.offer(item)

    @contextlib.asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Subscription]:
        """Receive events of these topics, or under them after a dot (all events if none)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        sub = Subscription(topics)
        self._subscribers.add(sub)
        try:
            yield sub
        finally:
            self._subscribers.discard(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)


class RedisEventBus(EventBus):
    """Redis pub/sub between workers; each worker fans out to its own subscribers."""

    def __init__(self, url: str) -> None:
        super().__init__()
        import redis

        self.url = url
        self._sync = redis.Redis.from_url(url)
        self._listener: asyncio.Task[None] | None = None
        self._ready = threading.Event()

    async def start(self) -> None:
        await super().start()
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="event-bus-redis")
            await asyncio.get_running_loop().run_in_executor(None, self._ready.wait, 5)

    async def _listen(self) -> None:
        import redis.asyncio as aioredis

        backoff = 0.5
        while True:
            client = aioredis.Redis.from_url(self.url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._ready.set()
                    backoff = 0.5
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._fan_out(BusEvent.from_json(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # reconnect on any Redis/network error
                logger.warning("event bus: Redis listener lost (%s); reconnecting", exc.__class__.__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
            finally:
                await client.aclose()

    def publish(self, topic: str, data: dict[str, Any]) -> None:
        item = BusEvent(topic, data)
        try:
            self._sync.publish(CHANNEL, item.to_json())
        except Exception as exc:  # Redis down: at least this worker's pages still hear it
            logger.error(
                "event bus: Redis publish failed (%s); delivering locally only", exc.__class__.__name__
            )
            self._deliver_local(item)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        self._sync.close()
        await super().close()


_bus: EventBus | None = None
_bus_lock = threading.Lock()


def get_bus() -> EventBus:
    """This process's bus: Redis when REDIS_URL is set, in-process otherwise."""
    global _bus
    with _bus_lock:
        if _bus is None:
            from call_center.core.config import get_settings

            url = get_settings().REDIS_URL
            _bus = RedisEventBus(url) if url else EventBus()
        return _bus


def set_bus(bus: EventBus | None) -> None:
    """Replace the process's bus (tests)."""
    global _bus
    with _bus_lock:
        _bus = bus


# Publishing after commit -------------------------------------------------------------------------------

_PENDING = "call_center_events"


def queue_event(db: OrmSession, topic: str, data: dict[str, Any]) -> None:
    """Publish `topic` once `db` commits (dropped on rollback)."""
    db.info.setdefault(_PENDING, []).append((topic, data))


@sa_event.listens_for(OrmSession, "after_commit")
def _publish_after_commit(session: OrmSession) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    bus = get_bus()
    for topic, data in pending:
        try:
            bus.publish(topic, data)
        except Exception:  # never let a publish failure undo a committed change
            logger.exception("event bus: could not publish %s", topic)


@sa_event.listens_for(OrmSession, "after_soft_rollback")
def _drop_after_rollback(session: OrmSession, previous_transaction: object) -> None:
    # A rolled-back savepoint keeps what was queued before it; a real rollback drops everything.
    if not getattr(previous_transaction, "nested", False):
        session.info.pop(_PENDING, None)
