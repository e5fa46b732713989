"""On PostgreSQL, every list page reads its big tables through an index, however large they grow.

One small world (a billed, paid claim, an unmatched claim, a failed charge, an access-log row) is copied about
100,000 times per table inside the database (INSERT ... SELECT over generate_series, with unique columns made
distinct and dates spread), the tables are ANALYZEd, and each grid's list page is requested as the admin. Every
SELECT it sent is EXPLAINed with its own parameters; a sequential scan of a table of 50,000 rows or more fails
the test, naming the page and the statement. The one scan allowed is an unfiltered one straight under a LIMIT:
it stops after that many rows (the bounded count of admin_views/list_counts.py).

PostgreSQL only: SQLite's planner is a different one, and the tables stay at their test size there. The test is
left out of a SQLite run (marker `postgresql`), not skipped, so CI's no-skip rule holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from billing.core.db import db
from tests.admin_views.list_pages import list_views, seed_every_grid, statements_sent
from tests.worlds.big_tables import fill_growing_tables

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]

COPIES = 100_000
BIG = 50_000  # a table this large must never be read whole for one page
@pytest.fixture
def big_tables(client: Any, login: Any) -> Iterator[set[str]]:
    seed_every_grid(client, login)
    filled = fill_growing_tables(COPIES)
    yield filled
    db.session.rollback()


def _plan(statement: str, parameters: Any) -> dict[str, Any]:
    cursor = db.session.connection().connection.cursor()
    cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
    return cursor.fetchone()[0][0]["Plan"]


#: Nodes that read all of their input before giving a row: below them a LIMIT no longer stops a scan early.
BLOCKING = {"Sort", "Incremental Sort", "Aggregate", "Hash", "Materialize", "WindowAgg", "SetOp", "Unique",
            "Group", "Gather Merge"}


def _whole_table_scans(node: dict[str, Any], big: dict[str, float], limited: bool = False) -> Iterator[str]:
    """Sequential scans of big tables that may read the whole table. A scan feeding a LIMIT with nothing blocking
    in between stops early, when it keeps (by the planner's estimate) at least half the table's rows."""
    kind = node["Node Type"]
    limited = (limited or kind == "Limit") and kind not in BLOCKING
    if kind == "Seq Scan" and node["Relation Name"] in big:
        table = node["Relation Name"]
        early = limited and ("Filter" not in node or node["Plan Rows"] >= big[table] / 2)
        if not early:
            yield f"Seq Scan on {table}" + (f" (filter {node['Filter']})" if "Filter" in node else "")
    for child in node.get("Plans", ()):
        yield from _whole_table_scans(child, big, limited)


#: Statements a page is known to send that still read a big table whole, with who is changing them. Each entry
#: is (page, table); remove it with the fix.
KNOWN: dict[tuple[str, str], str] = {
    ("/admin/claim/", "ledger_entry"): "the claims queue's totals (admin_views/claim_queue.py), being reworked",
}


def test_every_list_page_reads_big_tables_through_indexes(app: Flask, client: Any, big_tables: set[str]) -> None:
    assert {"claim", "ledger_entry", "remittance", "access_log"} <= big_tables, sorted(big_tables)
    sizes = dict(db.session.execute(text("SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'")).all())
    sizes = {name: rows for name, rows in sizes.items() if rows >= BIG}
    assert set(sizes) >= big_tables
    failures = []
    for view in list_views(app):
        url = f"{view.url}/"
        with statements_sent() as sent:
            response = client.get(url)
        assert response.status_code == 200, url
        for statement, parameters in sent:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            for scan in _whole_table_scans(_plan(statement, parameters), sizes):
                if (url, scan.split(" ")[3]) in KNOWN:
                    continue
                failures.append(f"{url}: {scan}\n    {' '.join(statement.split())[:400]}")
    assert not failures, "list pages that read a big table whole:\n" + "\n".join(failures)
