"""The dispositions agents pick in wrap-up: an admin-managed list, named in Arabic and English.

A disposition is kept by its code on the calls that used it, so it is deactivated, never deleted: old calls
keep their meaning and the history can still filter by it."""

from __future__ import annotations

import re

from sqlalchemy import func
from sqlmodel import Session, col, select

from call_center.models import Disposition
from call_center.services.errors import Conflict, InvalidInput, NotFound

_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def list_dispositions(db: Session, *, active_only: bool = False) -> list[Disposition]:
    query = select(Disposition)
    if active_only:
        query = query.where(col(Disposition.is_active))
    return list(db.exec(query.order_by(col(Disposition.position), col(Disposition.id))))


def names(db: Session, lang: str) -> dict[str, str]:
    """code -> name in `lang`, for every disposition (inactive ones too: old calls show them)."""
    return {d.code: d.name_ar if lang == "ar" else d.name_en for d in list_dispositions(db)}


def check_usable(db: Session, code: str | None) -> str | None:
    """The code to store for a call: None (no disposition) or an active disposition's code."""
    if not code:
        return None
    found = db.exec(select(Disposition).where(Disposition.code == code)).first()
    if found is None or not found.is_active:
        raise InvalidInput("wrapup.error.disposition", f"unknown disposition {code!r}")
    return found.code


def _code_for(name_en: str) -> str:
    code = re.sub(r"[^a-z0-9]+", "-", name_en.strip().lower()).strip("-")[:40]
    if not _CODE.match(code):
        raise InvalidInput("dispositions.error.name", "an English name with letters or digits is required")
    return code


def create(db: Session, *, name_ar: str, name_en: str) -> Disposition:
    name_ar, name_en = name_ar.strip()[:80], name_en.strip()[:80]
    if not name_ar or not name_en:
        raise InvalidInput("dispositions.error.name", "both the Arabic and the English name are required")
    code = _code_for(name_en)
    if db.exec(select(Disposition).where(Disposition.code == code)).first() is not None:
        raise Conflict("dispositions.error.exists", f"a disposition {code!r} exists")
    position = int(db.exec(select(func.coalesce(func.max(Disposition.position), 0))).one()) + 1
    row = Disposition(code=code, name_ar=name_ar, name_en=name_en, position=position)
    db.add(row)
    db.flush()
    return row


def set_active(db: Session, code: str, active: bool) -> Disposition:
    row = db.exec(select(Disposition).where(Disposition.code == code)).first()
    if row is None:
        raise NotFound("error.not_found", f"no disposition {code!r}")
    row.is_active = active
    db.add(row)
    db.flush()
    return row
