"""What /api/metrics reports, in Prometheus' text format: read from the database and the media server at
scrape time (nothing is kept in this process, so every worker answers the same)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlmodel import Session, col

from call_center.core.config import get_settings
from call_center.models import (
    Agent,
    Call,
    CallStatus,
    DevicePresence,
    QueueEntry,
    QueueOutcome,
    Recording,
    RecordingJob,
    RecordingStatus,
)
from call_center.models.base import utcnow
from call_center.services import inbox
from call_center.services.presence import ONLINE_WINDOW

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MEDIA_TIMEOUT_SECONDS = 2.0
LIVE = tuple(s for s in CallStatus.ALL if s not in CallStatus.TERMINAL)
# A live call older than this is not live any more: it lost its end (a crash); the janitor closes it.
STALE_AFTER = timedelta(hours=12)


def exposition(db: Session, media: dict[str, Any] | None) -> bytes:
    """The whole scrape. `media` is the local media server's `stats` (None: not the local provider, or
    it did not answer: then almasar_media_up is 0)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(db, media))
    return generate_latest(registry)


def media_stats() -> dict[str, Any] | None:
    """The local media server's counters, or None (Twilio, or the media server is down: said in the log)."""
    settings = get_settings()
    if settings.TELEPHONY_PROVIDER != "local":
        return None
    from call_center.telephony.local.protocol import CarrierClient, CarrierError

    try:
        client = CarrierClient(settings.media_control_port, settings.secret_key(), MEDIA_TIMEOUT_SECONDS)
        return client.request("stats")
    except CarrierError as exc:
        logger.warning("metrics: the media server did not answer: %s", exc.message)
        return {}


class _Collector:
    def __init__(self, db: Session, media: dict[str, Any] | None) -> None:
        self.db = db
        self.media = media

    def collect(self) -> Iterator[Metric]:
        yield from self._calls()
        yield from self._agents()
        yield from self._recordings()
        yield from self._inbox()
        if self.media is not None:
            yield from self._media(self.media)

    def _calls(self) -> Iterator[Metric]:
        db = self.db
        since = utcnow() - STALE_AFTER
        live = GaugeMetricFamily(
            "almasar_calls_live",
            "Calls not yet ended, by status (queued, ringing, in-progress ...)",
            labels=["status"],
        )
        rows = dict(
            db.execute(
                sa.select(col(Call.status), sa.func.count())
                .where(col(Call.status).in_(LIVE), col(Call.created_at) >= since)
                .group_by(col(Call.status))
            ).all()
        )
        for status in LIVE:
            live.add_metric([status], rows.get(status, 0))
        yield live
        waiting = GaugeMetricFamily(
            "almasar_queue_waiting", "Callers waiting in each queue", labels=["queue"]
        )
        for name, count in db.execute(
            sa.select(col(QueueEntry.queue), sa.func.count())
            .where(col(QueueEntry.outcome) == QueueOutcome.WAITING, col(QueueEntry.entered_at) >= since)
            .group_by(col(QueueEntry.queue))
        ).all():
            waiting.add_metric([name], count)
        yield waiting

    def _agents(self) -> Iterator[Metric]:
        db = self.db
        connected = db.execute(
            sa.select(sa.func.count(sa.distinct(col(DevicePresence.agent_id)))).where(
                col(DevicePresence.agent_id).is_not(None),
                col(DevicePresence.identity).like("agent\\_%", escape="\\"),
                col(DevicePresence.last_seen_at) >= utcnow() - ONLINE_WINDOW,
            )
        ).scalar_one()
        yield GaugeMetricFamily(
            "almasar_agents_connected", "Agents whose softphone is connected now", value=connected
        )
        chosen = GaugeMetricFamily(
            "almasar_agents",
            "Active agents by what they chose (available, away, offline)",
            labels=["availability"],
        )
        for availability, count in db.execute(
            sa.select(col(Agent.availability), sa.func.count())
            .where(col(Agent.is_active).is_(True))
            .group_by(col(Agent.availability))
        ).all():
            chosen.add_metric([availability], count)
        yield chosen

    def _recordings(self) -> Iterator[Metric]:
        db = self.db
        jobs = GaugeMetricFamily(
            "almasar_recording_jobs",
            "Downloads of provider recordings not done: pending (never tried) or retrying (failed before)",
            labels=["state"],
        )
        pending, retrying = db.execute(
            sa.select(
                sa.func.count().filter(col(RecordingJob.attempts) == 0),
                sa.func.count().filter(col(RecordingJob.attempts) > 0),
            ).where(col(RecordingJob.done).is_(False))
        ).one()
        jobs.add_metric(["pending"], pending)
        jobs.add_metric(["retrying"], retrying)
        yield jobs
        recordings = GaugeMetricFamily(
            "almasar_recordings",
            "Recordings by status (processing, ready, failed, expired, deleted)",
            labels=["status"],
        )
        rows = dict(
            db.execute(
                sa.select(col(Recording.status), sa.func.count()).group_by(col(Recording.status))
            ).all()
        )
        for status in RecordingStatus.ALL:
            recordings.add_metric([status], rows.get(status, 0))
        yield recordings

    def _inbox(self) -> Iterator[Metric]:
        figures = inbox.stats(self.db)
        yield GaugeMetricFamily(
            "almasar_webhook_inbox_pending", "Signed callbacks stored and acknowledged, not applied yet",
            value=figures.pending,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "almasar_webhook_inbox_lag_seconds",
            "How long the oldest callback not applied yet has waited (0 when none waits)",
            value=round(figures.lag_seconds, 3),
        )
        yield GaugeMetricFamily(
            "almasar_webhook_inbox_failed",
            "Callbacks given up on (refused by their handler or failing every try) in the last two days",
            value=figures.failed,
        )

    def _media(self, media: dict[str, Any]) -> Iterator[Metric]:
        totals = (media.get("engine") or {}).get("totals") or {}
        yield GaugeMetricFamily(
            "almasar_media_up", "1 when the local media server answered this scrape", value=1 if totals else 0
        )
        if not totals:
            return
        yield GaugeMetricFamily(
            "almasar_media_calls", "Calls on the media server", value=totals.get("calls", 0)
        )
        yield GaugeMetricFamily(
            "almasar_media_legs", "Browser legs with live media", value=totals.get("live_legs", 0)
        )
        for name, key, text in (
            ("almasar_media_packets_received", "packets_in", "RTP packets received from browsers"),
            ("almasar_media_packets_sent", "packets_out", "RTP packets sent to browsers"),
            ("almasar_media_legs_started", "legs", "Browser legs started"),
            (
                "almasar_media_legs_dropped",
                "legs_timed_out",
                "Legs ended by the RTP watchdog (the browser stopped sending: a dropped connection)",
            ),
        ):
            yield CounterMetricFamily(name, text, value=totals.get(key, 0))
