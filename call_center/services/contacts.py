"""Contacts: the company's customers by phone number; their names show on calls and in the history."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, update
from sqlmodel import Session, col, select

from call_center.core.config import get_settings
from call_center.models import Call, Contact
from call_center.models.base import utcnow
from call_center.services import numbers
from call_center.services.errors import Conflict, InvalidInput, NotFound


def _clean(name: str, phone: str, notes: str) -> tuple[str, str, str]:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise InvalidInput("contacts.error.name", "a name of 1 to 120 characters is required")
    e164 = numbers.to_e164(phone, get_settings().DEFAULT_REGION)
    return name, e164, (notes or "").strip()[:2000]


def search(db: Session, term: str = "", *, limit: int = 50, offset: int = 0) -> tuple[list[Contact], int]:
    """Contacts whose name or number contains `term` (digits match numbers), by name."""
    query = select(Contact)
    term = (term or "").strip()
    if term:
        digits = "".join(ch for ch in term if ch.isdigit())
        options: list[ColumnElement[bool]] = [col(Contact.name).ilike(f"%{term}%")]
        if digits:
            options.append(col(Contact.phone).contains(digits))
        query = query.where(or_(*options))
    total = int(db.exec(select(func.count()).select_from(query.subquery())).one())
    rows = list(db.exec(query.order_by(col(Contact.name)).offset(offset).limit(limit)))
    return rows, total


def _link_calls(db: Session, contact: Contact) -> None:
    """Calls with this number show the contact's name from now on (old calls included)."""
    db.execute(update(Call).where(col(Call.customer_number) == contact.phone).values(contact_id=contact.id))


def create(db: Session, *, name: str, phone: str, notes: str = "") -> Contact:
    name, e164, notes = _clean(name, phone, notes)
    if db.exec(select(Contact).where(Contact.phone == e164)).first() is not None:
        raise Conflict("contacts.error.duplicate", f"{e164} is already a contact")
    contact = Contact(name=name, phone=e164, notes=notes)
    db.add(contact)
    db.flush()
    _link_calls(db, contact)
    return contact


def update_contact(db: Session, contact_id: int, *, name: str, phone: str, notes: str = "") -> Contact:
    contact = db.get(Contact, contact_id)
    if contact is None:
        raise NotFound("error.not_found", f"no contact {contact_id}")
    name, e164, notes = _clean(name, phone, notes)
    clash = db.exec(select(Contact).where(Contact.phone == e164, Contact.id != contact_id)).first()
    if clash is not None:
        raise Conflict("contacts.error.duplicate", f"{e164} is already a contact")
    if e164 != contact.phone:
        db.execute(update(Call).where(col(Call.contact_id) == contact_id).values(contact_id=None))
    contact.name, contact.phone, contact.notes, contact.updated_at = name, e164, notes, utcnow()
    db.add(contact)
    db.flush()
    _link_calls(db, contact)
    return contact


def delete(db: Session, contact_id: int) -> None:
    contact = db.get(Contact, contact_id)
    if contact is None:
        raise NotFound("error.not_found", f"no contact {contact_id}")
    db.execute(update(Call).where(col(Call.contact_id) == contact_id).values(contact_id=None))
    db.delete(contact)
    db.flush()
