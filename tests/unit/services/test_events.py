from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
from sqlalchemy import text
from sqlmodel import Session

from call_center.core.db import get_engine
from call_center.services import events
from call_center.services.events import EventBus, RedisEventBus, queue_event
from tests.conftest import REDIS_TEST_URL


async def test_in_process_fan_out_by_topic():
    bus = EventBus()
    await bus.start()
    async with bus.subscribe("call") as calls, bus.subscribe() as everything:
        bus.publish("call.updated", {"id": 1})
        bus.publish("device.agent_1", {"type": "incoming"})
        assert (await calls.get(1)).data == {"id": 1}
        assert await calls.get(0.05) is None
        assert [(await everything.get(1)).topic for _ in range(2)] == ["call.updated", "device.agent_1"]
    assert bus.subscriber_count == 0


async def test_topics_match_exactly_or_after_a_dot_never_by_prefix():
    """Agent 1's stream must not hear agents 10-19 (it did when topics matched with startswith)."""
    bus = EventBus()
    await bus.start()
    async with bus.subscribe("device.agent_1") as one, bus.subscribe("device.agent_10") as ten:
        for topic in ("device.agent_10", "device.agent_1", "device.agent_19", "device.agent_1.call"):
            bus.publish(topic, {"to": topic})
        got_one = [(await one.get(1)).topic for _ in range(2)]
        got_ten = [(await ten.get(1)).topic]
        assert await one.get(0.05) is None and await ten.get(0.05) is None
    assert got_one == ["device.agent_1", "device.agent_1.call"]
    assert got_ten == ["device.agent_10"]
    assert events.topic_matches("account.1", "account.1")
    assert not events.topic_matches("account.1", "account.12")
    assert not events.topic_matches("account.1", "account.1x")


async def test_publish_from_another_thread_reaches_the_loop():
    bus = EventBus()
    await bus.start()
    async with bus.subscribe("x") as sub:
        thread = threading.Thread(target=bus.publish, args=("x.y", {"n": 1}))
        thread.start()
        thread.join()
        assert (await sub.get(1)).data == {"n": 1}


async def test_a_slow_subscriber_loses_the_oldest_events_not_the_newest(monkeypatch):
    monkeypatch.setattr(events, "QUEUE_SIZE", 3)
    bus = EventBus()
    await bus.start()
    async with bus.subscribe() as sub:
        for n in range(5):
            bus.publish("t", {"n": n})
        got = [(await sub.get(1)).data["n"] for _ in range(3)]
    assert got == [2, 3, 4] and sub.dropped == 2


async def test_events_are_published_only_after_commit(sqlite_db):
    bus = EventBus()
    await bus.start()
    events.set_bus(bus)
    try:
        async with bus.subscribe() as sub:
            with Session(get_engine()) as db:
                db.exec(text("SELECT 1"))  # events are queued inside a transaction's work
                queue_event(db, "rolled.back", {})
                db.rollback()
                queue_event(db, "committed", {"ok": True})
                assert await sub.get(0.05) is None  # not before the commit
                db.commit()
            assert (await sub.get(1)).topic == "committed"
            assert await sub.get(0.05) is None
    finally:
        events.set_bus(None)


@pytest.mark.redis
async def test_redis_bus_reaches_subscribers_of_another_bus():
    # two buses = two workers sharing one Redis
    channel_suffix = uuid.uuid4().hex
    a, b = RedisEventBus(REDIS_TEST_URL), RedisEventBus(REDIS_TEST_URL)
    await a.start()
    await b.start()
    try:
        async with b.subscribe(f"test.{channel_suffix}") as sub:
            a.publish(f"test.{channel_suffix}", {"from": "a"})
            got = await sub.get(3)
            assert got is not None and got.data == {"from": "a"}
    finally:
        await a.close()
        await b.close()


async def test_redis_outage_still_delivers_locally():
    bus = RedisEventBus("redis://127.0.0.1:1/0")  # nothing listens there
    bus._loop = asyncio.get_running_loop()
    async with bus.subscribe() as sub:
        bus.publish("t", {"n": 1})
        assert (await sub.get(1)).data == {"n": 1}
    bus._sync.close()
