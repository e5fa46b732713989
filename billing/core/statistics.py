"""The query planner's table statistics, refreshed where the database does not refresh them itself.

SQLite keeps no statistics until ANALYZE runs. Without them it guesses, and it guesses wrong exactly where our
partial indexes matter: it walks every session whose class is unset (most of them) rather than the few draft notes
the front page counts, because `session_class_id IS NULL` looks as selective as an equality. ANALYZE with a row
limit per index takes tens of milliseconds even at a million rows, so the demo seed and a nightly job run it.
PostgreSQL's autovacuum analyzes tables as they change, so there it does nothing.
"""

from __future__ import annotations

from sqlalchemy import text

from billing.core.db import db

#: Rows SQLite reads per index (PRAGMA analysis_limit): enough for its estimates, bounded at any table size.
ANALYSIS_LIMIT = 1000


def refresh_planner_statistics() -> str:
    """Refresh the statistics now (SQLite), or say that the database keeps them itself (PostgreSQL)."""
    if db.session.get_bind().dialect.name != "sqlite":
        return "PostgreSQL's autovacuum keeps the planner statistics; nothing to do."
    # In the caller's transaction (a job's unit of work, the seed's): SQLite analyzes what that connection sees.
    db.session.execute(text(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}"))
    db.session.execute(text("ANALYZE"))
    return "Planner statistics refreshed (SQLite ANALYZE)."
