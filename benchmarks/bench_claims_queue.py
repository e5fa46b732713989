"""Claims queue benchmark: the claims list's server time at `seed-demo --scale 100` (target 60 ms).

    .venv/bin/python benchmarks/bench_claims_queue.py              # scale 100, fresh SQLite file
    .venv/bin/python benchmarks/bench_claims_queue.py --scale 10 --runs 7

A fresh SQLite database is built with the migrations and seeded with the demo practice (`seed_demo`, which
finalizes the sessions into claims). The demo admin logs in through the Flask test client; each page is asked
for once to warm up, then timed `--runs` times (median reported). Server time is the test client's request time:
routing, every query (tab counts, the page, its figures, the totals of the whole filtered list) and the template.
benchmarks/RESULTS.md gets this script's section rewritten.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_foundation import _logged_in_client
from harness import scratch_app, update_section
from machine import machine_label
from sqlalchemy import event, func, select

from billing.claims.models import Claim
from billing.core.db import db
from billing.core.unit_of_work import unit_of_work
from demo.seed import seed_demo

TARGET_MS = 60.0
PAGES = {
    "Ready tab (default), 20 rows": "/admin/claim/",
    "Ready tab, 100 rows": "/admin/claim/?page_size=100",
    "All claims, 20 rows": "/admin/claim/?status=all",
    'Search "935" in All': "/admin/claim/?status=all&search=935",
    # Calibration: the sessions list measured in the same run, on the same (possibly busy) machine.
    "Sessions list, 20 rows (for comparison)": "/admin/session/",
}
HEADER = (
    "| Backend | Scale | Claims | Page | Median ms | Min ms | Queries | Target | Machine | Date |\n"
    "|---|---:|---:|---|---:|---:|---:|---|---|---|"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    with scratch_app():
        from flask import current_app

        current_app.config["CLAIMDESK_MFA_REQUIRED"] = False  # the demo admin has no second factor enrolled
        started = time.perf_counter()
        with unit_of_work():
            seed_demo(args.scale)
        print(f"seeded scale {args.scale} in {time.perf_counter() - started:.1f} s")
        claims = db.session.scalar(select(func.count()).select_from(Claim)) or 0
        client = _logged_in_client(current_app)
        rows = []
        for label, path in PAGES.items():
            median, low, queries = _time(client, path, args.runs)
            verdict = "met" if median <= TARGET_MS else "missed"
            print(f"{label}: median {median:.1f} ms (min {low:.1f}), {queries} queries")
            rows.append(
                f"| SQLite {sqlite3.sqlite_version} | {args.scale} | {claims:,} | {label} | {median:.0f} | "
                f"{low:.0f} | {queries} | ≤ {TARGET_MS:.0f} ms: {verdict} | {machine_label()} | "
                f"{datetime.now(UTC):%Y-%m-%d} |"
            )
    update_section("bench_claims_queue", HEADER, _intro, rows, key_cells=4)
    return 0


def _intro() -> str:
    return (
        "## Claims queue: the claims list at `seed-demo --scale 100`\n\n"
        "`benchmarks/bench_claims_queue.py` seeds the demo practice into a fresh SQLite file (the migrations), logs "
        "in as the demo admin through the Flask test client and times each page: one warm-up, then the median of 7. "
        "The figures (CPT, units, paid, balance, days in status) cost two queries a page and the totals of the whole "
        "filtered list one, whatever the page size.\n\n"
        "```sh\n.venv/bin/python benchmarks/bench_claims_queue.py --scale 100\n```\n\n"
    )


def _time(client: Any, path: str, runs: int) -> tuple[float, float, int]:
    timings: list[float] = []
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    for attempt in range(runs + 1):
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        event.remove(db.engine, "before_cursor_execute", count)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        if attempt:  # the first request warms SQLite's page cache and Jinja's templates
            timings.append(elapsed)
    return statistics.median(timings), min(timings), len(statements)


if __name__ == "__main__":
    raise SystemExit(main())
