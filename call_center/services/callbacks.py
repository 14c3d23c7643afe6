"""The callback list: customers who called and were not answered, shared by the queue's agents.

- An inbound call that ends unanswered (abandoned in the queue, the wait ran out, nobody logged in)
  becomes an item; a number that tries again merges into its open item (attempts + 1, newest first).
  A caller who left a voicemail (the unanswered call's recording, on either provider) makes it a
  "voicemail" item, played and downloaded from the list.
- An agent claims an item (one atomic UPDATE: two agents cannot both claim it), and calls back with one
  click. The agent's next call to that number is the item's callback; when it ends, the item closes with
  its outcome (reached, busy, no-answer...). A customer who calls in again and is answered closes it too.
- Every change is published on `callback.updated`, so open lists update themselves.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from call_center.models import (
    Agent,
    Call,
    CallbackItem,
    CallbackReason,
    CallbackStatus,
    CallStatus,
    Contact,
    Direction,
    QueueOutcome,
    RecordingStatus,
)
from call_center.models.base import utcnow
from call_center.services.errors import Conflict, NotFound
from call_center.services.events import queue_event

logger = logging.getLogger(__name__)

TOPIC = "callback.updated"
REACHED = "reached"
CALLED_IN = "called-in"


def _voicemail_of(db: Session, item: CallbackItem) -> int | None:
    """The recording that holds the item's voicemail (ready), if it is one."""
    if item.reason != CallbackReason.VOICEMAIL or item.last_call_id is None:
        return None
    call = db.get(Call, item.last_call_id)
    return call.recording_id if call is not None and call.recording_status == RecordingStatus.READY else None


def _changed(db: Session, item: CallbackItem) -> None:
    """Publish the item as the list shows it (sent after commit): open pages apply it without a query."""
    contact = db.exec(select(Contact.name).where(Contact.phone == item.number)).first()
    claimer = (
        db.exec(select(Agent.name).where(col(Agent.id) == item.claimed_by)).first()
        if item.claimed_by
        else None
    )
    queue_event(
        db,
        TOPIC,
        {"id": item.id, "status": item.status, "number": item.number, "reason": item.reason,
         "attempts": item.attempts, "last_at": item.last_at.isoformat(), "claimed_by": item.claimed_by,
         "claimed_by_name": claimer or "", "contact": contact or "",
         "voicemail_id": _voicemail_of(db, item)},
    )  # fmt: skip


def _live_item(db: Session, number: str) -> CallbackItem | None:
    query = select(CallbackItem).where(
        CallbackItem.number == number, col(CallbackItem.status).in_(CallbackStatus.LIVE)
    )
    return db.exec(query).first()


def missed(db: Session, call: Call) -> CallbackItem | None:
    """An inbound call ended without an answer: the number's item (new, or one more attempt). Flushes."""
    if call.direction != Direction.INBOUND or call.answered_at is not None or call.agent_id is not None:
        return None
    if not call.customer_number.startswith("+"):
        return None  # no number to call back (withheld)
    from call_center.services import queue

    entry = queue.entry_of(db, call.id or 0)  # (another worker's queue round may have recorded it)
    abandoned = entry is not None and entry.outcome == QueueOutcome.ABANDONED
    reason = CallbackReason.ABANDONED if abandoned else CallbackReason.MISSED
    if call.recording_status == RecordingStatus.READY:  # (the message was ready before the call's end)
        reason = CallbackReason.VOICEMAIL
    at = call.ended_at or utcnow()
    for _ in range(2):  # a second worker may open the number's item at the same moment
        item = _live_item(db, call.customer_number)
        if item is not None:
            if item.last_call_id == call.id:
                return item  # the same call's end, reported again
            item.attempts += 1
            item.last_at, item.last_call_id, item.reason = max(at, item.last_at), call.id, reason
            db.add(item)
            db.flush()
            _changed(db, item)
            return item
        try:
            with db.begin_nested():
                item = CallbackItem(number=call.customer_number, reason=reason, first_at=at, last_at=at,
                                    last_call_id=call.id)  # fmt: skip
                db.add(item)
                db.flush()
        except IntegrityError:
            continue
        _changed(db, item)
        logger.info("call %s from %s: on the callback list (%s)", call.id, call.customer_number, reason)
        return item
    return None


def recording_changed(db: Session, call: Call) -> None:
    """An unanswered inbound call's recording is ready: the caller left a voicemail; their item says so
    (and plays it). Deleted (retention, an admin): the item stays, without its player. Flushes."""
    if call.direction != Direction.INBOUND or call.answered_at is not None or call.agent_id is not None:
        return
    item = db.exec(
        select(CallbackItem).where(
            CallbackItem.last_call_id == call.id, col(CallbackItem.status).in_(CallbackStatus.LIVE)
        )
    ).first()
    if item is None:
        return  # the call's end will make its item (missed() sees the ready recording)
    if item.reason != CallbackReason.VOICEMAIL and call.recording_status == RecordingStatus.READY:
        item.reason = CallbackReason.VOICEMAIL
        db.add(item)
        db.flush()
    _changed(db, item)
    logger.info("call %s: its callback item's voicemail is %s", call.id, call.recording_status)


def claim(db: Session, item_id: int, agent: Agent) -> CallbackItem:
    """Take an item; Conflict if another agent has it (or it is closed). Claiming one's own is fine."""
    result = db.execute(
        update(CallbackItem)
        .where(col(CallbackItem.id) == item_id, col(CallbackItem.status) == CallbackStatus.OPEN)
        .values(status=CallbackStatus.CLAIMED, claimed_by=agent.id, claimed_at=utcnow())
    )
    item = db.get(CallbackItem, item_id)
    if item is None:
        raise NotFound("error.not_found", f"no callback {item_id}")
    db.refresh(item)
    if not getattr(result, "rowcount", 0) and item.claimed_by != agent.id:
        raise Conflict("callback.error.taken", "another agent has this callback, or it is closed")
    _changed(db, item)
    return item


def release(db: Session, item_id: int, agent: Agent) -> None:
    """Give a claimed item back to the list (only its agent)."""
    db.execute(
        update(CallbackItem)
        .where(
            col(CallbackItem.id) == item_id,
            col(CallbackItem.status) == CallbackStatus.CLAIMED,
            col(CallbackItem.claimed_by) == agent.id,
        )
        .values(status=CallbackStatus.OPEN, claimed_by=None, claimed_at=None, callback_call_id=None)
    )
    item = db.get(CallbackItem, item_id)
    if item is not None:
        db.refresh(item)
        _changed(db, item)


def dialled(db: Session, agent_id: int, number: str, call: Call) -> None:
    """An agent's outbound call to a number whose item they claimed is that item's callback. Flushes."""
    db.execute(
        update(CallbackItem)
        .where(
            col(CallbackItem.number) == number,
            col(CallbackItem.status) == CallbackStatus.CLAIMED,
            col(CallbackItem.claimed_by) == agent_id,
        )
        .values(callback_call_id=call.id)
    )
    db.flush()


def call_ended(db: Session, call: Call) -> None:
    """A call ended: a callback closes with its outcome; an unanswered inbound call joins the list; an
    answered one closes its number's item (the customer reached us). Flushes."""
    if call.status not in CallStatus.TERMINAL:
        return
    if call.direction == Direction.OUTBOUND:
        item = db.exec(select(CallbackItem).where(CallbackItem.callback_call_id == call.id)).first()
        if item is not None and item.status == CallbackStatus.CLAIMED:
            reached = call.status == CallStatus.COMPLETED and call.answered_at is not None
            _close(db, item, REACHED if reached else call.status)
        return
    if call.answered_at is None and call.agent_id is None:
        missed(db, call)
        return
    item = _live_item(db, call.customer_number)
    if item is not None and item.last_call_id != call.id:
        _close(db, item, CALLED_IN)


def _close(db: Session, item: CallbackItem, outcome: str) -> None:
    item.status, item.outcome, item.closed_at = CallbackStatus.DONE, outcome, utcnow()
    db.add(item)
    db.flush()
    _changed(db, item)


def live_items(db: Session, limit: int = 50) -> list[dict[str, Any]]:
    """Open and claimed items, newest first, as the list shows them."""
    query = (
        select(CallbackItem, Contact.name, Agent.name)
        .outerjoin(Contact, col(Contact.phone) == col(CallbackItem.number))
        .outerjoin(Agent, col(Agent.id) == col(CallbackItem.claimed_by))
        .where(col(CallbackItem.status).in_(CallbackStatus.LIVE))
        .order_by(col(CallbackItem.last_at).desc(), col(CallbackItem.id).desc())
        .limit(limit)
    )
    return [
        {"item": item, "contact": contact or "", "claimed_by_name": claimed or "",
         "voicemail_id": _voicemail_of(db, item)}
        for item, contact, claimed in db.exec(query)
    ]  # fmt: skip
