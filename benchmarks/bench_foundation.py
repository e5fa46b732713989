"""Foundation benchmark: seed the demo practice at a scale, then time the sessions list page.

    .venv/bin/python benchmarks/bench_foundation.py                      # SQLite (temp file), scale 100
    .venv/bin/python benchmarks/bench_foundation.py --scale 100 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1/claimdesk_bench

The database is rebuilt from nothing (a fresh SQLite file, or PostgreSQL's public schema dropped
and recreated: never point this at a database you care about), the schema comes from the
migrations, and the demo is seeded and committed. Then the admin logs in through the test client
and `/admin/session/` is requested with 20 and 100 rows a page: two warm-ups, then the median of
`--runs` requests, with the SQL statements each request sends. The row for this backend and scale
in benchmarks/RESULTS.md is replaced (other rows are kept).
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402 - after the path fix, so the script runs from anywhere
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from machine import machine_label  # noqa: E402 - benchmarks/ is the script's own folder
from sqlalchemy import create_engine, event, func, make_url, select, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from app import create_app  # noqa: E402
from billing.core.db import db  # noqa: E402
from billing.core.unit_of_work import unit_of_work  # noqa: E402
from billing.sessions.models import TherapySession  # noqa: E402
from demo.catalog import DEMO_PASSWORD  # noqa: E402
from demo.seed import SeedResult, seed_demo  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN, END = "<!-- bench_foundation:begin -->", "<!-- bench_foundation:end -->"
CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
LIST_PAGE = "/admin/session/"
PAGE_SIZES = (20, 100)
WARM_UPS = 2
#: Transaction control is not a query; leaving it out keeps SQLite and PostgreSQL comparable.
NOT_QUERIES = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
HEADER = (
    "| Backend | Scale | Sessions | Seed (s) | Finalized into claims | Finalize (s) | Sessions / s "
    "| List, 20 rows: median ms | List, 100 rows: median ms | Queries / request (20 / 100 rows) | Machine | Date |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
)


@dataclass(frozen=True)
class PageTiming:
    median_ms: float
    fastest_ms: float
    queries: int
    rows: int


@dataclass(frozen=True)
class Result:
    backend: str
    scale: int
    sessions: int
    seed_seconds: float
    finalized: int
    finalize_seconds: float
    pages: dict[int, PageTiming]

    @property
    def finalize_rate(self) -> float:
        return self.finalized / self.finalize_seconds if self.finalize_seconds else 0.0

    def table_row(self) -> str:
        small, large = self.pages[PAGE_SIZES[0]], self.pages[PAGE_SIZES[1]]
        machine = machine_label()
        return (
            f"| {self.backend} | {self.scale} | {self.sessions:,} | {self.seed_seconds:.1f} | "
            f"{self.finalized:,} | {self.finalize_seconds:.1f} | {self.finalize_rate:,.0f} | "
            f"{small.median_ms:.0f} | {large.median_ms:.0f} | {small.queries} / {large.queries} | {machine} | "
            f"{date.today():%Y-%m-%d} |"
        )


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    with tempfile.TemporaryDirectory(prefix="claimdesk-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        if make_url(url).get_backend_name() == "postgresql":
            _fresh_postgres(url)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only", "CLAIMDESK_DEMO": True},
                         instance_path=tmp)
        with app.app_context():
            flask_migrate.upgrade()
            backend = _backend_label()
            seed_seconds, seeded = _seed(args.scale)
            sessions = db.session.scalar(select(func.count(TherapySession.id))) or 0
            db.session.remove()
            _settle(db.engine)
        # Requests run outside that app context, each in its own, as in production.
        client = _logged_in_client(app)
        pages = {size: _time_page(client, size, args.runs) for size in PAGE_SIZES}
        with app.app_context():
            db.engine.dispose()
    result = Result(backend, args.scale, sessions, seed_seconds, seeded.finalized, seeded.finalize_seconds, pages)
    _report(result)
    _update_results(result)
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100, help="seed-demo scale (default 100: ~100,000 sessions)")
    parser.add_argument("--database-url", help="PostgreSQL URL; its public schema is dropped first")
    parser.add_argument("--runs", type=int, default=9, help="measured requests per page size (default 9)")
    args = parser.parse_args(argv)
    if args.runs < 7:
        parser.error("--runs must be at least 7")
    return args


def _fresh_postgres(url: str) -> None:
    """Create the database if it is missing, then start from an empty public schema."""
    target = make_url(url)
    maintenance = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with maintenance.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    maintenance.dispose()
    engine = create_engine(target)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def _settle(engine: Engine) -> None:
    """On PostgreSQL, do now what autovacuum would do soon after a 100,000-row load.

    Without it the first minutes after seeding measure a table with no visibility map or
    statistics (COUNT(*) then scans the heap: ~15 ms instead of ~7 ms at scale 100), and
    autovacuum may start in the middle of the timed requests.
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def _backend_label() -> str:
    if db.engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    version = db.session.scalar(text("SHOW server_version")) or ""
    return f"PostgreSQL {version.split()[0]}"


def _seed(scale: int) -> tuple[float, SeedResult]:
    started = time.perf_counter()
    with unit_of_work():
        result = seed_demo(scale)
    if not result.created:
        raise SystemExit(f"expected an empty database, but: {result.summary(0)}")
    return time.perf_counter() - started, result


def _logged_in_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    match = CSRF_INPUT.search(html)
    if match is None:
        raise SystemExit("no csrf_token on /login")
    response = client.post(
        "/login",
        data={"email": "admin@example.com", "password": DEMO_PASSWORD, "csrf_token": match.group(1) or match.group(2)},
    )
    if response.status_code != 302:
        raise SystemExit(f"login failed with {response.status_code}")
    return client


def _time_page(client: FlaskClient, page_size: int, runs: int) -> PageTiming:
    path = f"{LIST_PAGE}?page_size={page_size}" if page_size != PAGE_SIZES[0] else LIST_PAGE
    timings, counts, rows = [], [], 0
    for attempt in range(WARM_UPS + runs):
        with _counting_queries() as statements:
            started = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        if attempt >= WARM_UPS:
            timings.append(elapsed * 1000)
            counts.append(len(statements))
            rows = response.get_data(as_text=True).count('name="rowid"')
    if len(set(counts)) != 1:
        print(f"note: {path} sent between {min(counts)} and {max(counts)} queries per request")
    return PageTiming(statistics.median(timings), min(timings), max(counts), rows)


@contextmanager
def _counting_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(NOT_QUERIES):
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def _report(result: Result) -> None:
    print(f"{result.backend}, scale {result.scale}: {result.sessions:,} sessions seeded in {result.seed_seconds:.1f} s")
    print(
        f"  finalized {result.finalized:,} notes into claims in {result.finalize_seconds:.1f} s: "
        f"{result.finalize_rate:,.0f} sessions/s (target on SQLite: 2,000)"
    )
    for size, page in result.pages.items():
        print(
            f"  {LIST_PAGE} with {size} rows a page ({page.rows} rows shown): median {page.median_ms:.1f} ms, "
            f"fastest {page.fastest_ms:.1f} ms, {page.queries} queries per request"
        )


def _update_results(result: Result) -> None:
    """Replace this backend-and-scale row in the RESULTS.md section, keeping every other row."""
    text_ = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    if BEGIN not in text_:
        text_ = text_.rstrip("\n") + "\n\n" + _section_intro() + f"{BEGIN}\n{HEADER}\n{END}\n"
    head, rest = text_.split(BEGIN, 1)
    body, tail = rest.split(END, 1)
    key = _row_key(result.table_row())
    rows = [r for r in body.strip().splitlines()[2:] if r.startswith("|") and _row_key(r) != key]
    rows = sorted([*rows, result.table_row()], key=_row_key)
    RESULTS.write_text(f"{head}{BEGIN}\n{HEADER}\n" + "\n".join(rows) + f"\n{END}{tail}")
    print(f"updated {RESULTS.relative_to(ROOT)}")


def _row_key(row: str) -> tuple[str, int]:
    cells = [c.strip() for c in row.strip("|").split("|")]
    return cells[0].split()[0], int(cells[1])  # backend name without its version, and scale


def _section_intro() -> str:
    return (
        "## Foundation: `seed-demo` and the sessions list\n\n"
        "`benchmarks/bench_foundation.py` builds a fresh database with the migrations, times "
        "`seed_demo(scale)` until committed, then requests `/admin/session/` as the demo admin through the "
        "Flask test client: two warm-ups, then the median of 9 requests, with 20 and with 100 rows a page "
        "(on PostgreSQL after a `VACUUM ANALYZE`, as autovacuum would run after the load). "
        "Queries are SQL statements sent per request (transaction control not counted).\n\n"
        "```sh\n.venv/bin/python benchmarks/bench_foundation.py --scale 100\n"
        ".venv/bin/python benchmarks/bench_foundation.py --scale 100 "
        "--database-url postgresql+psycopg://postgres@127.0.0.1/claimdesk_bench\n```\n\n"
    )



if __name__ == "__main__":
    raise SystemExit(main())
