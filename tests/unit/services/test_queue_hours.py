"""A queue's opening hours: parsing what the admin typed, and whether a moment is inside them (wall-clock
times in TIMEZONE, ranges past midnight, days it is closed)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from call_center.services import queues
from call_center.services.errors import InvalidInput

CAIRO = ZoneInfo("Africa/Cairo")
WEEK = ["09:00-17:00"] * 5 + ["", "10:00-14:00"]  # Monday-Friday, closed Saturday, Sunday mornings


def test_parsing_reads_ranges_empty_days_and_midnight() -> None:
    hours = queues.parse_hours(["9:00-17:30", "", " 22:00 - 06:00 ", "00:00-24:00", "", "", ""])
    assert hours[0] == (time(9), time(17, 30))
    assert hours[1] is None
    assert hours[2] == (time(22), time(6))
    assert hours[3] == (time(0), time(0))
    assert queues.hours_text(hours)[:4] == ["09:00-17:30", "", "22:00-06:00", "00:00-24:00"]
    assert queues.hours_text(None) == [""] * 7


@pytest.mark.parametrize("bad", ["9-5", "25:00-26:00", "09:60-10:00", "10:00-10:00", "10:00-24:30", "x"])
def test_parsing_refuses_what_is_not_a_range_naming_the_day(bad: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        queues.parse_hours(["", "", bad, "", "", "", ""])
    assert refused.value.code == "queues.error.hours" and "day 3" in refused.value.detail


def test_open_inside_the_days_range_in_the_companys_time_zone() -> None:
    hours = queues.parse_hours(WEEK)
    monday = datetime(2026, 11, 30, tzinfo=CAIRO)
    assert monday.weekday() == 0
    assert not queues.is_open(hours, monday.replace(hour=8, minute=59), CAIRO)
    assert queues.is_open(hours, monday.replace(hour=9), CAIRO)
    assert queues.is_open(hours, monday.replace(hour=16, minute=59), CAIRO)
    assert not queues.is_open(hours, monday.replace(hour=17), CAIRO)
    saturday = datetime(2026, 12, 5, 12, tzinfo=CAIRO)
    assert saturday.weekday() == 5 and not queues.is_open(hours, saturday, CAIRO)
    # the same instant seen in UTC: 07:30 UTC is 09:30 in Cairo
    assert queues.is_open(hours, datetime(2026, 11, 30, 7, 30, tzinfo=UTC), CAIRO)
    assert queues.is_open(None, saturday, CAIRO)  # no hours: always open


def test_a_range_past_midnight_opens_the_evening_and_the_next_mornings_early_hours() -> None:
    hours = queues.parse_hours(["22:00-06:00", "", "", "", "", "", ""])
    monday = datetime(2026, 11, 30, tzinfo=CAIRO)
    assert queues.is_open(hours, monday.replace(hour=23), CAIRO)
    assert not queues.is_open(hours, monday.replace(hour=5), CAIRO)  # (that is Sunday night's: closed)
    tuesday = datetime(2026, 12, 1, tzinfo=CAIRO)
    assert queues.is_open(hours, tuesday.replace(hour=5, minute=59), CAIRO)
    assert not queues.is_open(hours, tuesday.replace(hour=6), CAIRO)
    assert not queues.is_open(hours, tuesday.replace(hour=23), CAIRO)


@given(
    st.lists(st.one_of(st.just(""), st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 23),
                                              st.integers(0, 59))), min_size=7, max_size=7),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1)),
)  # fmt: skip
def test_open_is_exactly_membership_in_todays_or_yesterdays_overnight_range(days, moment) -> None:
    texts = ["" if d == "" else f"{d[0]:02}:{d[1]:02}-{d[2]:02}:{d[3]:02}" for d in days]
    texts = ["" if t and t[:5] == t[6:] else t for t in texts]  # (an empty range is refused)
    hours = queues.parse_hours(texts)
    local = moment.replace(tzinfo=CAIRO)
    minute = local.hour * 60 + local.minute
    today, yesterday = hours[local.weekday()], hours[(local.weekday() - 1) % 7]

    def m(t: time) -> int:
        return t.hour * 60 + t.minute

    expected = False
    if today is not None:
        start, end = m(today[0]), m(today[1])
        expected = start <= minute < end if end > start else minute >= start
    if yesterday is not None and m(yesterday[1]) <= m(yesterday[0]) and m(yesterday[1]) != 0:
        expected = expected or minute < m(yesterday[1])
    assert queues.is_open(hours, local, CAIRO) == expected
