"""Every admin list page, timed on PostgreSQL with its big tables grown to `--rows` rows each.

    .venv/bin/python benchmarks/bench_list_pages.py --rows 1000000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1/claimdesk_bench

The database's public schema is dropped and rebuilt by the migrations (never point this at a database you care
about). One small world gives every grid a row (tests/worlds/big_tables.seed_rows); each growing table (claims,
lines, sessions, ledger entries, remittances, failed charges, billing runs, the access log, clients, policies...)
is then copied to `--rows` rows inside the database and the whole database is VACUUM ANALYZEd, as autovacuum would
after such a load. Each grid's list page (read from the admin, so a new grid is timed too) is requested as an admin
through the Flask test client: two warm-ups, then the median of `--runs` requests, with the statements each sends
and the count its tab shows ("about N" past 10,000 rows). The rows for this backend and size in
benchmarks/RESULTS.md are replaced.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402 - after the path fix, so the script runs from anywhere
from bench_foundation import CSRF_INPUT, _counting_queries, _fresh_postgres, _settle  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from harness import update_section  # noqa: E402
from machine import machine_label  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from app import create_app  # noqa: E402
from billing.core.db import db  # noqa: E402
from billing.people.models import Role  # noqa: E402
from tests.admin_views.list_pages import list_views  # noqa: E402
from tests.worlds.big_tables import fill_growing_tables, seed_rows  # noqa: E402
from tests.worlds.factories import TEST_PASSWORD, UserFactory  # noqa: E402

WARM_UPS = 2
COUNT_TAB = re.compile(r"List \(([^)]*)\)")
HEADER = ("| Backend | Rows per big table | Page | Median ms | of which SQL ms | App CPU ms | Fastest ms | Statements "
          "| Count shown | Load (1 min) | Machine | Date |\n|---|---:|---|---:|---:|---:|---:|---:|---|---:|---|---|")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    _fresh_postgres(args.database_url)
    with tempfile.TemporaryDirectory(prefix="claimdesk-bench-") as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "SECRET_KEY": "bench-only",
                          "CLAIMDESK_MFA_REQUIRED": False, "CLAIMDESK_LOGIN_THROTTLE": False}, instance_path=tmp)
        with app.app_context():
            flask_migrate.upgrade()
            version = (db.session.scalar(text("SHOW server_version")) or "").split()[0]
            client_id = seed_rows().client_id
            admin = UserFactory(role=Role.ADMIN)
            db.session.commit()
            email = admin.email
        client = _logged_in_client(app, email)
        client.get(f"/admin/client/details/?id={client_id}")  # the access log's first row
        with app.app_context():
            started = time.perf_counter()
            filled = fill_growing_tables(args.rows)
            db.session.commit()
            db.session.remove()
            _settle(db.engine)
            print(f"{len(filled)} tables grown by {args.rows:,} rows each in {time.perf_counter() - started:.0f} s "
                  f"(with VACUUM ANALYZE): {', '.join(sorted(filled))}")
            urls = [f"{view.url}/" for view in list_views(app)]
        rows = [_time(client, url, args, f"PostgreSQL {version}") for url in urls]
        with app.app_context():
            db.engine.dispose()
    update_section("bench_list_pages", HEADER, _intro, rows, key_cells=3)
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1/claimdesk_bench",
                        help="PostgreSQL URL; its public schema is dropped first")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows added to each big table (default 1M)")
    parser.add_argument("--runs", type=int, default=7, help="measured requests per page (default 7)")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        parser.error("this benchmark measures PostgreSQL plans: give a postgresql+psycopg:// URL")
    return args


def _logged_in_client(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    match = CSRF_INPUT.search(client.get("/login").get_data(as_text=True))
    if match is None:
        raise SystemExit("no csrf_token on /login")
    token = match.group(1) or match.group(2)
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"login failed with {response.status_code}")
    return client


@contextmanager
def _sql_time() -> Iterator[list[float]]:
    """Wall time spent between sending each statement and its result coming back, in ms (the database's part)."""
    spent: list[float] = []
    starts: list[float] = []

    def before(*args: Any) -> None:
        starts.append(time.perf_counter())

    def after(*args: Any) -> None:
        spent.append((time.perf_counter() - starts.pop()) * 1000)

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    try:
        yield spent
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)


def _time(client: FlaskClient, url: str, args: argparse.Namespace, backend: str) -> str:
    timings, sql, cpu, statements, shown = [], [], [], 0, ""
    for attempt in range(WARM_UPS + args.runs):
        with _counting_queries() as sent, _sql_time() as spent:
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            cpu_ms = (time.process_time() - cpu_started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        if attempt >= WARM_UPS:
            timings.append(elapsed)
            sql.append(sum(spent))
            cpu.append(cpu_ms)
            statements = len(sent)
            tab = COUNT_TAB.search(response.get_data(as_text=True))
            shown = tab.group(1) if tab else "-"
    median, median_sql, median_cpu = statistics.median(timings), statistics.median(sql), statistics.median(cpu)
    print(f"  {url:<28} median {median:7.1f} ms (SQL {median_sql:6.1f}, app CPU {median_cpu:6.1f})  "
          f"fastest {min(timings):7.1f} ms  {statements} statements  count {shown}")
    load = os.getloadavg()[0]
    return (f"| {backend} | {args.rows:,} | `{url}` | {median:.1f} | {median_sql:.1f} | {median_cpu:.1f} "
            f"| {min(timings):.1f} | {statements} | {shown} | {load:.1f} | {machine_label()} "
            f"| {datetime.now(UTC):%Y-%m-%d} |")


def _intro() -> str:
    return (
        "## Every list page at size (issue 20)\n\n"
        "`benchmarks/bench_list_pages.py` grows every big table to `--rows` rows on PostgreSQL (copies of one "
        "seeded row per table, made inside the database, then VACUUM ANALYZE) and requests each grid's list page "
        "as an admin: two warm-ups, then the median of 7 (wall clock; the SQL part is the time from sending each "
        "statement to its result; app CPU is this process's CPU time for the request). "
        "The target is 50 ms per page at a million claims. "
        "Statements are those one request sends (transaction control not counted); the count is what the list's "
        "tab shows (exact up to 10,000 rows, then the planner's estimate). The machine is shared: the load "
        "average at the time of each page is in its row.\n\n"
        "```sh\n.venv/bin/python benchmarks/bench_list_pages.py --rows 1000000 "
        "--database-url postgresql+psycopg://postgres@127.0.0.1/claimdesk_bench\n```\n\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
