"""Single-use nonces of signed internal requests (the local media server's callbacks), shared by workers."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, delete

from call_center.core.db import dialect_insert
from call_center.models import UsedNonce
from call_center.models.base import utcnow

KEEP = timedelta(minutes=10)  # well past the signatures' timestamp window


def first_use(db: Session, nonce: str) -> bool:
    """Record `nonce`; False if it was used before (a replay). One statement; the caller commits."""
    table = UsedNonce.__table__  # type: ignore[attr-defined]
    statement = (
        dialect_insert(db, table)
        .values(nonce=nonce, seen_at=utcnow())
        .on_conflict_do_nothing(index_elements=["nonce"])
    )
    return db.execute(statement.returning(table.c.nonce)).first() is not None


def purge(db: Session) -> None:
    db.exec(delete(UsedNonce).where(col(UsedNonce.seen_at) < utcnow() - KEEP))
