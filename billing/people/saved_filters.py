"""A user's saved list filters: a name and the query string of a list page (filters, search, tab, sort).

Only the person who saved a filter sees, applies or deletes it. Saving and deleting write history.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db, utcnow
from billing.core.errors import NotFound, Problem, ValidationFailed

NAME_MAX = 60
QUERY_MAX = 2000
#: Query arguments that say where the list stood, not what it holds: never saved.
NOT_SAVED = frozenset({"page", "csrf_token", "op_key", "saved_filter"})


class SavedFilter(db.Model):
    __table_args__ = (UniqueConstraint("user_id", "view", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: The list it belongs to (the view's endpoint, "claim"), so other lists can keep their own.
    view: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    query: Mapped[str] = mapped_column(String(QUERY_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def filter_query(pairs: list[tuple[str, str]]) -> str:
    """The list's arguments worth keeping, as a query string."""
    return urlencode([(k, v) for k, v in pairs if k not in NOT_SAVED and v != ""])


def saved_filters(user_id: int, view: str) -> list[SavedFilter]:
    return list(
        db.session.scalars(
            select(SavedFilter)
            .where(SavedFilter.user_id == user_id, SavedFilter.view == view)
            .order_by(SavedFilter.name)
        )
    )


def save_filter(*, user_id: int, view: str, name: str, query: str, actor: Actor) -> SavedFilter:
    """Save (or replace) the user's filter of that name."""
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed([Problem("Name", "give the saved filter a name.")])
    if len(name) > NAME_MAX:
        raise ValidationFailed([Problem("Name", f"at most {NAME_MAX} characters.")])
    pairs = filter_query(parse_qsl(query, keep_blank_values=False))
    if len(pairs) > QUERY_MAX:
        raise ValidationFailed([Problem("Filters", "too many to save; remove some first.")])
    found = db.session.scalar(
        select(SavedFilter)
        .where(SavedFilter.user_id == user_id, SavedFilter.view == view, SavedFilter.name == name)
        .with_for_update()
    )
    if found is None:
        found = SavedFilter(user_id=user_id, view=view, name=name, query=pairs)
        db.session.add(found)
    else:
        found.query = pairs
    db.session.flush()
    record_change("saved_filter", found.id, AuditAction.FILTER_SAVED, actor=actor, reason=name, data={"query": pairs})
    return found


def delete_filter(filter_id: int, *, user_id: int, actor: Actor) -> str:
    """Delete one of the user's own saved filters; another user's is "not found", never deleted."""
    found = db.session.scalar(
        select(SavedFilter).where(SavedFilter.id == filter_id, SavedFilter.user_id == user_id).with_for_update()
    )
    if found is None:
        raise NotFound("That saved filter does not exist.")
    name = found.name
    record_change("saved_filter", found.id, AuditAction.FILTER_DELETED, actor=actor, reason=name)
    db.session.delete(found)
    db.session.flush()
    return name
