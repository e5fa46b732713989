"""Writing a chunk's changed claims with one UPDATE per set of changed columns, instead of one per claim.

Posting an 835 changes thousands of loaded Claim objects (status, needs_review, the payer's claim number).
Because Claim carries a version column, the ORM's flush sends one UPDATE per claim; here the claims that
changed the same columns share one statement: on PostgreSQL one UPDATE ... FROM unnest(one array per column),
since an executemany is still one UPDATE per row there, and each ran the claim's statement-level triggers
(the kept day counts and totals); on SQLite, which runs them per row anyway, one executemany. Each row still
matches on its id AND the version that was read, and gets the version bumped, exactly as the ORM's own UPDATE
would: a claim someone else changed meanwhile makes the whole import fail instead of being overwritten. The
objects are then marked as written, so the ORM's next flush finds nothing left to send for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Column, Table, bindparam, inspect, text, update
from sqlalchemy.orm import ColumnProperty

from billing.claims.models import Claim
from billing.core.db import db
from billing.core.errors import Conflict
from billing.payments.deadline_triggers import deadline_with_answer_sql


class ClaimChangedMeanwhile(Conflict):
    """A claim of the file was changed by someone else while the file was being posted."""


def write_claims(claims: Iterable[Claim], *, answered_on: Mapping[int, date] | None = None) -> int:
    """Send the column changes of `claims` in bulk; returns how many claims were written.

    A claim that is new, deleted, or has changes beyond plain columns (a relationship) is left to the ORM.
    `answered_on`: per claim id, the date of the standing adjudication the caller inserts next; on PostgreSQL the
    same UPDATE then sets the filing deadline that adjudication gives (`deadline_with_answer_sql`), so its trigger
    does not write the claim again.
    """
    groups: dict[tuple[str, ...], list[tuple[Claim, dict[str, Any]]]] = {}
    for claim in claims:
        changed = _column_changes(claim)
        if changed:
            groups.setdefault(tuple(sorted(changed)), []).append((claim, changed))
    for keys, members in groups.items():
        _write_group(keys, members, answered_on or {})
    return sum(len(members) for members in groups.values())


def _column_changes(claim: Claim) -> dict[str, Any] | None:
    state = inspect(claim)
    if not state.persistent or not state.modified or not state.committed_state:
        return None
    props = state.mapper.attrs
    keys = list(state.committed_state)
    if any(not isinstance(props.get(key), ColumnProperty) or key == "version" for key in keys):
        return None  # a relationship or the version itself changed: the ORM knows how to write that
    changed = {key: state.dict[key] for key in keys
               if key in state.dict and state.committed_state[key] != state.dict[key]}
    if not changed:
        return None
    return changed


def _write_group(keys: tuple[str, ...], members: list[tuple[Claim, dict[str, Any]]],
                 answered_on: Mapping[int, date]) -> None:
    table: Table = Claim.__table__  # type: ignore[assignment]
    mapper = inspect(Claim)
    columns: dict[str, Column[Any]] = {key: mapper.get_property(key).columns[0] for key in keys}  # type: ignore[attr-defined]
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        written = _update_from_arrays(table, columns, members, answered_on)
    else:
        written = _update_each(table, columns, members)
    if written >= 0 and written != len(members):
        raise ClaimChangedMeanwhile("Some of the file's claims were changed by someone else while it was being "
                                    "posted; nothing was posted. Import the file again.")
    identity_map = db.session.identity_map
    for claim, _ in members:
        state = inspect(claim)
        state.dict["version"] = claim.version + 1
        # Every change of the object is now in the database: mark it clean, as the ORM's own flush does, so the
        # next flush neither writes it again nor walks its attributes looking for changes. (Private API, but
        # the one the ORM uses after its UPDATE; `set_committed_value` would leave the object on the dirty list.)
        state._commit_all(state.dict, identity_map)


def _update_each(table: Table, columns: dict[str, Column[Any]], members: list[tuple[Claim, dict[str, Any]]]) -> int:
    statement = (
        update(table)
        .where(table.c.id == bindparam("w_id"), table.c.version == bindparam("w_version"))
        .values({column.name: bindparam(f"w_{key}") for key, column in columns.items()}
                | {table.c.version.name: bindparam("w_new_version")})
    )
    params = [{"w_id": claim.id, "w_version": claim.version, "w_new_version": claim.version + 1,
               **{f"w_{key}": value for key, value in changed.items()}} for claim, changed in members]
    return db.session.connection().execute(statement, params).rowcount


def _update_from_arrays(table: Table, columns: dict[str, Column[Any]],
                        members: list[tuple[Claim, dict[str, Any]]], answered_on: Mapping[int, date]) -> int:
    """One UPDATE for the group on PostgreSQL: a typed array per column, so a statement has as many parameters
    (and one plan) whatever the number of claims; with the filing deadline when a member is about to be answered."""
    connection = db.session.connection()
    dialect = connection.dialect
    targets = [(table.c.id, [claim.id for claim, _ in members]),
               (table.c.version, [claim.version for claim, _ in members]),
               *((column, [changed[key] for _, changed in members]) for key, column in columns.items())]
    arrays, params = [], {}
    for n, (column, values) in enumerate(targets):
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        params[f"a{n}"] = values if process is None else [None if v is None else process(v) for v in values]
        arrays.append(f"CAST(:a{n} AS {column.type.compile(dialect)}[])")
    names = [column.name for column, _ in targets]
    assignments = [f"{column.name} = v.{column.name}" for column in columns.values()]
    answers = [answered_on.get(claim.id) for claim, _ in members]
    if any(answers):
        params[f"a{len(targets)}"] = answers
        arrays.append(f"CAST(:a{len(targets)} AS DATE[])")
        names.append("answered_on")
        # Read from the row as it was: an 835 changes none of the columns the deadline is worked out from. Were one
        # in the group, the claim's BEFORE UPDATE trigger would set the deadline instead, and the adjudication
        # trigger would still correct it after the INSERT: a wrong guess here costs a write, never a wrong date.
        assignments.append(f"filing_deadline = CASE WHEN v.answered_on IS NULL THEN {table.name}.filing_deadline "
                           f"ELSE {deadline_with_answer_sql(table.name, 'v.answered_on')} END")
    # Column names come from the table, never from input. The rows are locked already (the chunk read them FOR
    # UPDATE in id order), so this waits on nobody.
    statement = (f"UPDATE {table.name} SET {', '.join(assignments)}, version = v.version + 1 "  # noqa: S608
                 f"FROM unnest({', '.join(arrays)}) AS v({', '.join(names)}) "
                 f"WHERE {table.name}.id = v.id AND {table.name}.version = v.version")
    return connection.execute(text(statement), params).rowcount
