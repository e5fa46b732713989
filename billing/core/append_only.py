"""Tables whose rows are written once: the ORM refuses to edit or delete them (database triggers back it up).

History, the ledger, the PHI access log and follow-up notes all say what happened; a mistake is corrected by a new
row, never by changing an old one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session


def append_only(*models: type, refusal: Callable[[], Exception], include_collections: bool = True) -> None:
    """Refuse, with `refusal()`, any flush that edits or deletes a row of `models`, and any bulk UPDATE or DELETE
    statement on them (those bypass the flush).

    Args:
        include_collections: whether a change to a relationship collection counts as an edit of the row (the
            ledger's rows gain reversals through a collection without being edited).
    """

    @event.listens_for(Session, "before_flush")
    def _refuse_edits(session: Session, flush_context: Any, instances: Any) -> None:
        if any(isinstance(o, models) for o in session.deleted) or any(
            isinstance(o, models) and session.is_modified(o, include_collections=include_collections)
            for o in session.dirty
        ):
            raise refusal()

    @event.listens_for(Session, "do_orm_execute")
    def _refuse_bulk_edits(state: Any) -> None:
        if (state.is_update or state.is_delete) and any(m.class_ in models for m in state.all_mappers):
            raise refusal()
