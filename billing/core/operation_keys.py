"""One-time operation keys: a money form posts once, however many times it is submitted.

Each money form carries a fresh random key. The operation inserts the key in the same transaction as what it
posts, under the table's primary key, so of two submits of one form (a double click, the back button, two tabs,
a retried request) exactly one commits; the other finds the key and shows the first one's outcome instead of
posting again. A refused operation rolls its key back with everything else, so the corrected form can be sent.

Concurrent submits of one key serialise on the key itself: PostgreSQL makes the second INSERT wait for the first
transaction and then fail on the primary key; SQLite gives the first its write lock and the second waits.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, Text, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from billing.core.db import db, utcnow
from billing.core.errors import Conflict, Invalid

#: What a key looks like: `new_operation_key()` output. Anything else is a tampered or truncated form.
_KEY = re.compile(r"[A-Za-z0-9_-]{20,64}", re.ASCII)


class OperationKey(db.Model):
    """A key that was used: what it did, to what, by whom, and what the person was told."""

    __tablename__ = "operation_key"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    operation: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(60))  # e.g. "claim:12": a key is good for one thing only
    actor: Mapped[str] = mapped_column(String(120))
    used_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(Text, default="")  # the message the first submit showed
    target: Mapped[str | None] = mapped_column(String(255))  # where the first submit went next


@dataclass(frozen=True)
class AlreadyDone:
    """The first submit of a key: the second shows this instead of doing anything."""

    outcome: str
    target: str | None


def new_operation_key() -> str:
    return secrets.token_urlsafe(24)


def is_operation_key(text: str) -> bool:
    return bool(_KEY.fullmatch(text))


def checked_key(text: str | None) -> str:
    """The key a form sent, or Invalid: a money form without its key cannot be told apart from its repeat."""
    key = (text or "").strip()
    if not _KEY.fullmatch(key):
        raise Invalid("This form is missing its one-time key (it may be out of date): reload the page and submit "
                      "it again.")
    return key


def previous_use(key: str, *, operation: str, subject: str) -> AlreadyDone | None:
    """What the key already did, if it was used; a key used for something else is refused."""
    used = db.session.scalar(select(OperationKey).where(OperationKey.key == key))
    if used is None:
        return None
    if (used.operation, used.subject) != (operation, subject):
        raise Conflict("This form's one-time key was already used for another operation: reload the page.")
    return AlreadyDone(used.outcome, used.target)


def claim_key(key: str, *, operation: str, subject: str, actor: str) -> OperationKey | None:
    """Take the key for this transaction: the row is written now, so a concurrent submit waits on it.

    Returns the new row (the caller records the outcome on it before committing), or None when another
    transaction committed the key first (the caller rolls back and shows that first outcome).
    """
    try:
        with db.session.begin_nested():
            db.session.execute(insert(OperationKey).values(
                key=key, operation=operation[:60], subject=subject[:60], actor=actor[:120], used_at=utcnow(),
                outcome="",
            ))
    except IntegrityError:
        return None
    return db.session.get(OperationKey, key)
