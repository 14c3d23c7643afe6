"""Numbers, dates, durations and plurals in the page's language, through Babel (CLDR), not by hand.

- Languages map to CLDR locales: Arabic is Egyptian Arabic (`ar_EG`), English is `en`.
- Digits: Western (0-9) unless asked for Arabic-Indic (٠-٩), a per-agent choice (`Agent.digits`); Egyptian
  offices mostly write Western digits, so that is the default. Babel formats with the locale's symbols
  (for Arabic-Indic: the Arabic decimal and group separators, ٪) and we swap the digits, which Babel
  leaves Latin.
- Plurals: CLDR's rules pick the form (Arabic has six: zero, one, two, few, many, other); each phrase
  gives its forms in `PLURALS`, with `{n}` where the number goes.
- Times are shown in TIMEZONE (`Settings.zone`).
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache

from babel import Locale, dates, numbers

LOCALES = {"ar": "ar_EG", "en": "en"}
DIGITS = ("latn", "arab")  # Western, Arabic-Indic
_TO_ARAB = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

# key: {language: {CLDR plural category: text}}; "other" is required, the rest fall back to it. "=0" is an
# exact match (ICU's), for languages whose rules have no "zero" (English).
PLURALS: dict[str, dict[str, dict[str, str]]] = {
    "count.calls": {
        "ar": {
            "zero": "لا توجد مكالمات",
            "one": "مكالمة واحدة",
            "two": "مكالمتان",
            "few": "{n} مكالمات",
            "many": "{n} مكالمة",
            "other": "{n} مكالمة",
        },
        "en": {"=0": "no calls", "one": "1 call", "other": "{n} calls"},
    },
    "count.calls_more": {  # the history counts up to a cap, then says "more than N"
        "ar": {"other": "أكثر من {n} مكالمة"},
        "en": {"other": "more than {n} calls"},
    },
    "count.contacts": {
        "ar": {
            "zero": "لا توجد جهات اتصال",
            "one": "جهة اتصال واحدة",
            "two": "جهتا اتصال",
            "few": "{n} جهات اتصال",
            "many": "{n} جهة اتصال",
            "other": "{n} جهة اتصال",
        },
        "en": {"=0": "no contacts", "one": "1 contact", "other": "{n} contacts"},
    },
    "count.waiting": {
        "ar": {
            "zero": "لا أحد في الانتظار",
            "one": "متصل واحد في الانتظار",
            "two": "متصلان في الانتظار",
            "few": "{n} متصلين في الانتظار",
            "many": "{n} متصلًا في الانتظار",
            "other": "{n} متصل في الانتظار",
        },
        "en": {"=0": "nobody waiting", "one": "1 caller waiting", "other": "{n} callers waiting"},
    },
}


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(LOCALES.get(lang, LOCALES["ar"]))


def digits_of(lang: str, digits: str | None) -> str:
    """The digits to write: Arabic-Indic only when asked for and the page is Arabic."""
    return "arab" if lang == "ar" and digits == "arab" else "latn"


def _digits(text: str, lang: str, digits: str | None) -> str:
    return text.translate(_TO_ARAB) if digits_of(lang, digits) == "arab" else text


def number(value: float | int | Decimal, lang: str, digits: str | None = None, *, places: int = 0) -> str:
    """1234 -> "1,234"; Arabic-Indic digits "١٬٢٣٤"."""
    system = digits_of(lang, digits)
    pattern = "#,##0" + ("." + "0" * places if places else "")
    text = numbers.format_decimal(value, pattern, locale=_locale(lang), numbering_system=system)
    return _digits(text, lang, digits)


def percent(ratio: float | None, lang: str, digits: str | None = None, *, places: int = 1) -> str:
    """0.853 -> "85.3%" (None: "—", a rate with nothing to divide by)."""
    if ratio is None:
        return "—"
    system = digits_of(lang, digits)
    pattern = "#,##0" + ("." + "0" * places if places else "") + "%"
    text = numbers.format_percent(ratio, pattern, locale=_locale(lang), numbering_system=system)
    if system == "arab":  # (Babel keeps "%" here)
        text = text.replace("%", _locale(lang).number_symbols["arab"]["percentSign"])
    return _digits(text, lang, digits)


def plural(key: str, count: int, lang: str, digits: str | None = None) -> str:
    """The phrase for `count` things in the right plural form: plural("count.calls", 11, "ar") ->
    "11 مكالمة", plural("count.calls", 3, "ar") -> "3 مكالمات"."""
    forms = PLURALS[key].get(lang) or PLURALS[key]["ar"]
    exact = forms.get(f"={count}")
    form = exact or forms.get(_locale(lang).plural_form(abs(count)), forms["other"])
    return form.replace("{n}", number(count, lang, digits))


def datetime_text(
    value: datetime, lang: str, zone: tzinfo, digits: str | None = None, *, style: str = "short"
) -> str:
    """A moment in TIMEZONE: style "short" (3 ديسمبر 2026 14:05 / Dec 3, 2026 14:05), "time" (14:05:10),
    "day" (3 ديسمبر 2026), "month" (ديسمبر 2026), "weekday" (الخميس)."""
    pattern = {
        "short": "d MMM y HH:mm" if lang == "en" else "d MMMM y HH:mm",
        "time": "HH:mm:ss",
        "day": "d MMMM y",
        "month": "MMMM y",
        "weekday": "EEEE",
        "hm": "HH:mm",
    }[style]
    text = dates.format_datetime(value, pattern, tzinfo=zone, locale=_locale(lang))
    return _digits(text, lang, digits)


def day_label(day: date, lang: str, digits: str | None = None) -> str:
    """A day on a chart's axis: "3 ديسمبر" / "3 Dec"."""
    text = dates.format_date(day, "d MMMM" if lang == "ar" else "d MMM", locale=_locale(lang))
    return _digits(text, lang, digits)


def weekday_names(lang: str) -> list[str]:
    """Monday first (as datetime.weekday() counts)."""
    names = _locale(lang).days["format"]["wide"]
    return [names[i] for i in range(7)]


def duration(seconds: float | int | None, lang: str, digits: str | None = None) -> str:
    """A call's length on a clock: 02:35, 1:02:35 (empty when unknown)."""
    if seconds is None:
        return ""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
    return _digits(text, lang, digits)
