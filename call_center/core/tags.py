"""Free-form call tags: normalised (trimmed, lower case, inner spaces as "-"), stored as ",a,b," so that
one tag is a `LIKE '%,tag,%'` filter on both databases."""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_TAGS = 12
MAX_TAG_LENGTH = 32
_SPACE = re.compile(r"\s+")


def normalise_one(tag: str) -> str:
    text = _SPACE.sub("-", str(tag).strip().lower()).replace(",", "")
    return text.strip("-")[:MAX_TAG_LENGTH]


def normalise(tags: Iterable[str] | str) -> list[str]:
    """Unique tags in the order given; a string is split on commas ("vip, refund")."""
    items = tags.split(",") if isinstance(tags, str) else list(tags)
    found = [t for t in (normalise_one(item) for item in items) if t]
    return list(dict.fromkeys(found))[:MAX_TAGS]


def store(tags: Iterable[str] | str) -> str | None:
    found = normalise(tags)
    return "," + ",".join(found) + "," if found else None


def parse(stored: str | None) -> list[str]:
    return [t for t in (stored or "").split(",") if t]
