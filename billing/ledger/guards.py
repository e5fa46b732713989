"""The ledger and the adjudications it follows only grow: the ORM refuses edits and deletes (triggers back it up)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from billing.core.errors import NotAllowed
from billing.ledger.models import Adjudication, AdjudicationAdjustment, AdjudicationLine, LedgerEntry

IMMUTABLE = (LedgerEntry, Adjudication, AdjudicationLine, AdjudicationAdjustment)


class LedgerIsAppendOnly(NotAllowed):
    def __init__(self) -> None:
        super().__init__("Ledger entries are corrected by a reversing entry, never edited or deleted.")


@event.listens_for(Session, "before_flush")
def _ledger_is_append_only(session: Session, flush_context: Any, instances: Any) -> None:
    if any(isinstance(o, IMMUTABLE) for o in session.deleted) or any(
        isinstance(o, IMMUTABLE) and session.is_modified(o, include_collections=False) for o in session.dirty
    ):
        raise LedgerIsAppendOnly


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_ledger_edits(state: Any) -> None:
    """`update(LedgerEntry)` / `delete(LedgerEntry)` statements bypass before_flush; refuse them too."""
    if (state.is_update or state.is_delete) and any(m.class_ in IMMUTABLE for m in state.all_mappers):
        raise LedgerIsAppendOnly
