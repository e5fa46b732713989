"""Tables the database keeps by itself (trigger-kept summaries): the application reads them and never writes them.

`derived(model, message)` makes any ORM write to such a table fail with `message`, whether through the unit of work
or a bulk statement, so a summary can only part from its source if someone edits tables by hand (and then
`flask ledger check` says so).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from billing.core.errors import NotAllowed

_REFUSED: dict[type, str] = {}


class DerivedTable(NotAllowed):
    """A write to a table the database keeps itself."""


def derived(model: type, message: str) -> None:
    _REFUSED[model] = message


@event.listens_for(Session, "before_flush")
def _refuse_writes(session: Session, flush_context: Any, instances: Any) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        if type(instance) in _REFUSED:
            raise DerivedTable(_REFUSED[type(instance)])


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_writes(state: Any) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    for mapper in state.all_mappers:
        if mapper.class_ in _REFUSED:
            raise DerivedTable(_REFUSED[mapper.class_])


def unless_any(moved: str) -> str:
    """PL/pgSQL ending a claim-UPDATE trigger at once when `moved` (a SELECT over old_claims and new_claims of the
    claims whose keys changed) finds none, so such a statement reads nothing but its two transition tables.

    Most updates move no claim (an 835's status changes among them), and the totals' statement behind the check is
    planned once per session and kept: planned while the ledger was small, it read all of it for every statement.
    """
    return f"IF NOT EXISTS ({moved}) THEN RETURN NULL; END IF; "
