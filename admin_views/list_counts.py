"""Row counts for list pages that cost the same at a thousand rows and at millions.

Flask-Admin counts the rows of every list page it shows (for the "List (N)" tab and the pager). An exact
COUNT(*) visits every matching row, so at a million claims it costs more than the page itself. On PostgreSQL a
grid counts exactly only up to `EXACT_COUNT_LIMIT` rows (a count over a LIMIT subquery, which stops early) and
beyond that shows the planner's estimate, read as "about N". SQLite keeps exact counts: it holds demo and test
data, never millions of rows.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Query
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

#: Up to this many rows a list shows its exact count; past it, an estimate.
EXACT_COUNT_LIMIT = 10_000


class AboutCount(int):
    """A row count known only roughly: an int for Flask-Admin's pager, "about N" wherever a page prints it."""

    def __str__(self) -> str:
        return f"about {int(self):,}"

    def __html__(self) -> str:
        return str(self)


class Explain(Executable, ClauseElement):
    """`EXPLAIN (FORMAT JSON) <statement>` (PostgreSQL), with the statement's parameters bound as usual."""

    # Not cached: a cached compilation would be reused for a later EXPLAIN, and SQLAlchemy then adapts the result to
    # the new statement through its selected columns, which an EXPLAIN does not have (NotImplementedError).
    inherit_cache = False

    def __init__(self, statement: Any) -> None:
        self.statement = statement


@compiles(Explain, "postgresql")
def _explain(element: Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


class BoundedCountQuery(Query[Any]):
    """The COUNT(*) query of a list page. Filters, search and joins build on it as on any Query (each step clones
    the class), so only the final `scalar()` changes: exact up to the limit, then the planner's estimate."""

    exact_limit: int = EXACT_COUNT_LIMIT

    def scalar(self) -> Any:
        if self.session.get_bind().dialect.name != "postgresql":
            return super().scalar()
        rows = self.with_entities(literal_column("1")).limit(self.exact_limit + 1)
        capped = self.session.scalar(select(func.count()).select_from(rows.subquery()))
        if capped is None or capped <= self.exact_limit:
            return capped
        return AboutCount(max(self._planned_rows(rows.limit(None)), capped))

    def _planned_rows(self, rows: Query[Any]) -> int:
        """The planner's row estimate for the filtered list: EXPLAIN plans it from statistics, reading no rows."""
        plan = self.session.execute(Explain(rows.statement)).scalar_one()
        document = json.loads(plan) if isinstance(plan, str) else plan
        return int(document[0]["Plan"]["Plan Rows"])


def bounded_count_query(session: Any, model: type[Any]) -> BoundedCountQuery:
    """Flask-Admin's own count query (COUNT(*) from the model's table), as a BoundedCountQuery."""
    return BoundedCountQuery([func.count("*")], session=session).select_from(model)
