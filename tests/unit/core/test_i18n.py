from __future__ import annotations

import re
from pathlib import Path

from call_center.core import i18n

ROOT = Path(__file__).resolve().parents[3] / "call_center"


def test_every_string_has_arabic_and_english():
    for key, (ar, en) in i18n.STRINGS.items():
        assert ar.strip() and en.strip(), key
        assert re.search(r"[\u0600-\u06FF]", ar) or key == "frame.switch_language", f"{key} is not Arabic"


def test_every_key_the_ui_uses_exists():
    used: set[str] = set()
    for path in ROOT.rglob("*.py"):
        used |= set(re.findall(r'T\["([a-z_.]+)"\]', path.read_text()))
        used |= set(re.findall(r'"((?:login|error|agents|page|frame|nav)\.[a-z_.]+)"', path.read_text()))
    missing = sorted(k for k in used if k not in i18n.STRINGS and not k.endswith("."))
    assert not missing, missing


def test_direction_and_catalog():
    assert i18n.direction("ar") == "rtl" and i18n.direction("en") == "ltr"
    assert i18n.catalog("en")["nav.history"] == "Call history"
    assert i18n.catalog("ar")["nav.history"] == "سجل المكالمات"
    assert i18n.normalise_language("fr") == "ar"
