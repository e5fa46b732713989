"""Tables the database keeps by itself (trigger-kept summaries): the application reads them and never writes them.

`derived(model, message)` makes any ORM write to such a table fail with `message`, whether through the unit of work
or a bulk statement, so a summary can only part from its source if someone edits tables by hand (and then
`flask ledger check` says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from billing.core.errors import NotAllowed

_REFUSED: dict[type, str] = {}

#: Planner settings of trigger functions. PL/pgSQL plans a statement once per session and keeps the plan, so a plan
#: made while a table was empty or never analyzed (a sequential scan of it for each row) was kept while an 835 grew
#: the table to thousands of rows: 835 posting went quadratic (8 s of 9,900 INSERTs at 10,000 claims, in the filing
#: deadline trigger: billing/payments/deadline_triggers.py). Where each lookup of a function's statements has an
#: index, ruling out scans and hash or merge joins makes its plan a few index probes per row the statement touches,
#: whatever the statistics say and however the tables grew since it was made.
INDEX_LOOKUPS_ONLY = {"enable_seqscan": "off", "enable_hashjoin": "off", "enable_mergejoin": "off"}


def index_lookups_only() -> str:
    """INDEX_LOOKUPS_ONLY as the options of a CREATE FUNCTION (`SET name = value ...`)."""
    return " ".join(f"SET {name} = {value}" for name, value in INDEX_LOOKUPS_ONLY.items())


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
    claims whose keys changed, `moved_claims`) finds none, so such a statement reads nothing but its two transition
    tables.

    Most updates move no claim (an 835's status changes among them), and the totals' statement behind the check is
    planned once per session and kept: planned while the ledger was small, it read all of it for every statement.
    """
    return f"IF NOT EXISTS ({moved}) THEN RETURN NULL; END IF; "


def moved_claims(keys: Sequence[str]) -> str:
    """A SELECT of the ids of the claims of a claim-UPDATE statement whose `keys` changed (NULL equal to NULL).

    A set difference, never a join of the two transition tables: they have no index, so a join is a hash join or
    a nested loop, and under EXISTS (one row wanted, many expected) the planner takes the nested loop, which
    compared all pairs when none had moved: 25 million for a 5,000-claim batch going Submitted, 2 to 5 s of the
    server's CPU in each of three triggers. EXCEPT has no nested-loop plan: one hash (or sort) of each side.
    """
    columns = ", ".join(("id", *keys))
    return (f"SELECT m.id FROM (SELECT {columns} FROM old_claims "  # noqa: S608 - the builders' own column names
            f"EXCEPT SELECT {columns} FROM new_claims) AS m")
