"""Each KPI over hand-built calls with known answers, and the edge cases: no calls, all abandoned, calls
across midnight, short abandons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from call_center.services.reports import CallFact, Span, report, summary

CAIRO = ZoneInfo("Africa/Cairo")  # UTC+2 in December
DAY = datetime(2026, 12, 1, tzinfo=CAIRO)  # a Tuesday
SINCE, UNTIL = DAY, DAY + timedelta(days=1)
_ids = iter(range(1, 10_000))


def inbound(at: datetime, outcome: str, wait: float, **fields) -> CallFact:
    answered = outcome == "answered"
    agent = fields.pop("agent_id", 1 if answered else None)
    return CallFact(
        id=next(_ids), direction="inbound", created_at=at, queue="default", queue_outcome=outcome,
        wait_seconds=wait, answered=answered, agent_id=agent, **fields,
    )  # fmt: skip


def outbound(at: datetime, **fields) -> CallFact:
    return CallFact(
        id=next(_ids), direction="outbound", created_at=at, agent_id=fields.pop("agent_id", 1), **fields
    )


def run(facts, spans=(), offers=(), **kw):
    return report(
        facts, spans, offers, since=SINCE, until=UNTIL, zone=CAIRO, sl_threshold=20, short_abandon=5, **kw
    )


def test_no_calls_means_no_rates_rather_than_zero() -> None:
    figures = summary(run([]))
    assert figures["offered"] == figures["answered"] == figures["handled"] == 0
    for rate in ("service_level", "service_level_with_abandons", "asa", "abandonment", "aht", "occupancy"):
        assert figures[rate] is None, rate


def test_a_known_day() -> None:
    at = DAY + timedelta(hours=10)
    facts = [
        inbound(
            at, "answered", 5, duration_seconds=300, hold_seconds=60, wrapup_seconds=30, disposition="sale"
        ),
        inbound(at, "answered", 20, duration_seconds=120, disposition="sale"),  # exactly the threshold: in
        inbound(at, "answered", 45, duration_seconds=60, wrapup_seconds=15, disposition="complaint"),
        inbound(at, "abandoned", 30),
        inbound(at, "abandoned", 3),  # short: left out of abandoned and offered
        inbound(at, "timeout", 300),
        inbound(at, "closed", 0),  # outside the hours: never offered
        outbound(at, answered=True, duration_seconds=90),
        outbound(at, answered=False),  # the customer did not answer: not handled
    ]
    rep = run(facts)
    figures = summary(rep)
    assert figures["offered"] == 5  # 3 answered + 1 abandoned + 1 timeout
    assert (figures["answered"], figures["abandoned"], figures["short_abandoned"], figures["missed"]) == (
        3,
        1,
        1,
        1,
    )
    assert figures["service_level"] == pytest.approx(2 / 3)
    assert figures["service_level_with_abandons"] == pytest.approx(2 / 4)
    assert figures["asa"] == pytest.approx((5 + 20 + 45) / 3)
    assert figures["abandonment"] == pytest.approx(1 / 5)
    # handled: the 3 answered inbound and the answered outbound; talk excludes hold
    assert figures["handled"] == 4
    assert figures["aht"] == pytest.approx(((240 + 60 + 30) + 120 + (60 + 15) + 90) / 4)
    assert figures["outbound"] == 2
    assert rep.dispositions == {"sale": 2, "complaint": 1}
    assert rep.by_hour[1][10] == 9 and sum(map(sum, rep.by_hour)) == 9  # Tuesday, 10:00 Cairo time


def test_all_abandoned() -> None:
    at = DAY + timedelta(hours=9)
    figures = summary(run([inbound(at, "abandoned", w) for w in (10, 40, 90)]))
    assert figures["offered"] == figures["abandoned"] == 3
    assert figures["abandonment"] == 1.0
    assert figures["service_level"] is None  # nothing answered
    assert figures["service_level_with_abandons"] == 0.0
    assert figures["asa"] is None and figures["aht"] is None


def test_only_short_abandons_offer_nothing() -> None:
    figures = summary(run([inbound(DAY + timedelta(hours=9), "abandoned", w) for w in (0, 2, 4.9)]))
    assert (figures["offered"], figures["short_abandoned"], figures["abandonment"]) == (0, 3, None)


def test_a_call_belongs_to_the_day_and_hour_it_started_in_timezone() -> None:
    # 23:58 Cairo on the 1st = 21:58 UTC; it lasts past midnight
    late = inbound(datetime(2026, 12, 1, 21, 58, tzinfo=UTC), "answered", 10, duration_seconds=600)
    after = inbound(datetime(2026, 12, 1, 22, 1, tzinfo=UTC), "answered", 10)  # 00:01 on the 2nd: not ours
    rep = run([late, after])
    assert rep.totals.answered == 1
    assert list(rep.by_day) == [DAY.date()]
    assert rep.by_hour[1][23] == 1
    two_days = report(
        [late, after],
        [],
        [],
        since=SINCE,
        until=UNTIL + timedelta(days=1),
        zone=CAIRO,
        sl_threshold=20,
        short_abandon=5,
    )
    assert [d.day for d in two_days.by_day] == [1, 2] and two_days.by_hour[2][0] == 1


def test_occupancy_and_time_per_state_are_clipped_to_the_range() -> None:
    spans = [
        Span(1, "available", DAY - timedelta(hours=1), DAY + timedelta(hours=1)),  # 1 h inside
        Span(1, "on-call", DAY + timedelta(hours=1), DAY + timedelta(hours=2)),
        Span(1, "wrap-up", DAY + timedelta(hours=2), DAY + timedelta(hours=2, minutes=30)),
        Span(1, "away", DAY + timedelta(hours=3), DAY + timedelta(hours=4)),  # not working time
        Span(2, "available", DAY + timedelta(hours=23), DAY + timedelta(hours=25)),  # 1 h inside
    ]
    rep = run([], spans, offers=[(1, "missed"), (1, "answered"), (2, "missed"), (2, "missed")])
    one, two = rep.agents[1], rep.agents[2]
    assert one.seconds["available"] == 3600 and one.seconds["on-call"] == 3600 and one.seconds["away"] == 3600
    assert one.occupancy == pytest.approx(1.5 / 2.5)
    assert two.seconds["available"] == 3600 and two.occupancy == 0.0
    assert rep.occupancy == pytest.approx(1.5 / 3.5)
    assert (one.missed_offers, two.missed_offers) == (1, 2)


def test_per_agent_handle_time() -> None:
    at = DAY + timedelta(hours=12)
    facts = [
        inbound(at, "answered", 5, agent_id=7, duration_seconds=100, wrapup_seconds=20),
        outbound(at, agent_id=7, answered=True, duration_seconds=50, hold_seconds=10),
        inbound(at, "answered", 5, agent_id=8, duration_seconds=30),
    ]
    rep = run(facts)
    seven = rep.agents[7].totals
    assert (seven.handled, seven.talk, seven.hold, seven.wrapup) == (2, 140, 10, 20)
    assert seven.aht == pytest.approx(85)
    assert rep.agents[8].totals.aht == 30
