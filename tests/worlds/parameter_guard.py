"""A guard that fails any statement binding more parameters than a backend can take in one go.

PostgreSQL refuses a statement past 65,535 parameters and SQLite past 32,766; long before that a list of ids
bound one by one makes every statement a new one to parse and plan. The guard counts what one execution binds
(for an executemany, one row's worth: each row is its own execution) and remembers the largest. SQLAlchemy's
"insertmanyvalues" pages (one INSERT of many rows) are its own, sized to the backend's limit, and not counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.interfaces import ExecuteStyle

from billing.core.db import db

LIMIT = 1000


@dataclass
class Bound:
    largest: int = 0
    statements: int = 0
    offenders: list[str] = field(default_factory=list)


@contextmanager
def parameter_guard(limit: int = LIMIT) -> Iterator[Bound]:
    """Within the block, record every statement; a statement over `limit` parameters fails the test at the end."""
    bound = Bound()
    engine = db.engine

    def count(_conn: Any, _cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if context is not None and context.execute_style is ExecuteStyle.INSERTMANYVALUES:
            return  # SQLAlchemy's own multi-row INSERT pages, sized by it to the backend's parameter limit
        row = parameters[0] if executemany and parameters else parameters
        size = len(row) if row else 0
        bound.statements += 1
        bound.largest = max(bound.largest, size)
        if size > limit:
            bound.offenders.append(f"{size} parameters: {statement[:200]}")

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield bound
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert not bound.offenders, "\n".join(bound.offenders[:5])
