"""Numbers, dates, durations and plurals through Babel, in Arabic (six plural forms) and English."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from call_center.core import locale

CAIRO = ZoneInfo("Africa/Cairo")


@pytest.mark.parametrize(
    ("count", "arabic", "english"),
    [
        (0, "لا توجد مكالمات", "no calls"),
        (1, "مكالمة واحدة", "1 call"),
        (2, "مكالمتان", "2 calls"),
        (3, "3 مكالمات", "3 calls"),
        (10, "10 مكالمات", "10 calls"),
        (11, "11 مكالمة", "11 calls"),
        (99, "99 مكالمة", "99 calls"),
        (100, "100 مكالمة", "100 calls"),
        (103, "103 مكالمات", "103 calls"),
        (111, "111 مكالمة", "111 calls"),
        (1000, "1,000 مكالمة", "1,000 calls"),
    ],
)
def test_call_counts_read_correctly_in_both_languages(count: int, arabic: str, english: str) -> None:
    assert locale.plural("count.calls", count, "ar") == arabic
    assert locale.plural("count.calls", count, "en") == english


def test_every_phrase_has_an_other_form_and_only_cldr_categories() -> None:
    categories = {"zero", "one", "two", "few", "many", "other"}
    for key, by_language in locale.PLURALS.items():
        assert set(by_language) == {"ar", "en"}, key
        for forms in by_language.values():
            assert "other" in forms and set(forms) <= categories | {"=0"}, key


def test_arabic_indic_digits_are_a_choice_and_only_on_arabic_pages() -> None:
    assert locale.number(1234567, "ar") == "1,234,567"
    assert locale.number(1234567, "ar", "arab") == "١٬٢٣٤٬٥٦٧"
    assert locale.number(1234567, "en", "arab") == "1,234,567"
    assert locale.plural("count.calls", 11, "ar", "arab") == "١١ مكالمة"
    assert locale.duration(155, "ar", "arab") == "٠٢:٣٥"
    assert locale.percent(0.853, "ar", "arab") == "٨٥٫٣٪؜"
    assert locale.percent(0.853, "en") == "85.3%"
    assert locale.percent(None, "en") == "—"


def test_dates_are_in_timezone_with_the_languages_month_names() -> None:
    moment = datetime(2026, 12, 3, 22, 30, tzinfo=UTC)  # 00:30 on the 4th in Cairo (UTC+2)
    assert locale.datetime_text(moment, "ar", CAIRO) == "4 ديسمبر 2026 00:30"
    assert locale.datetime_text(moment, "en", CAIRO) == "4 Dec 2026 00:30"
    assert locale.datetime_text(moment, "ar", CAIRO, "arab", style="time") == "٠٠:٣٠:٠٠"
    assert locale.datetime_text(moment, "ar", CAIRO, style="weekday") == "الجمعة"
    assert locale.weekday_names("en")[0] == "Monday" and locale.weekday_names("ar")[4] == "الجمعة"


def test_durations_on_a_clock() -> None:
    assert locale.duration(None, "en") == ""
    assert locale.duration(5, "en") == "00:05"
    assert locale.duration(3725, "en") == "1:02:05"
