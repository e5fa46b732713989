"""Filing-deadline benchmark: the Dashboard's "Filing deadlines this week" figure, the whole Dashboard and the
Filing deadlines page (its drill-down) on an existing seeded database.

    cp /tmp/s100/base.sqlite /tmp/me_s100.sqlite          # never a database you care about: it is migrated
    .venv/bin/python benchmarks/bench_filing.py --database-url sqlite:////tmp/me_s100.sqlite
    # the same figures with another checkout's code (e.g. main, before the kept deadline), not migrated:
    .venv/bin/python benchmarks/bench_filing.py --database-url sqlite:////tmp/old.sqlite --code-root /work/main \\
        --label before --no-migrate --runs 3

The database is brought to the head revision (unless --no-migrate), then in one app context each is called twice to
warm up and `--runs` times: `_filing` (the figure), `dashboard_figures` (the Dashboard's default range: the last
twelve months) and `near_deadline` at the figure's WEEK days (the page the figure links to), whose row count must
equal the figure's. Median wall-clock ms, the CPU seconds of the whole timed part and the load average are written
to this script's section of benchmarks/RESULTS.md (the machine is shared, so wall clock alone says little).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 60.0
HEADER = (
    "| Backend | Code | Claims | Figure: median ms (CPU ms) | Dashboard: median ms (CPU ms) "
    "| Filing page (7 days): median ms (CPU ms) | Rows "
    "| CPU s | Load (1 min) | Machine | Date |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
)


def _median_ms(call: Callable[[], Any], runs: int) -> tuple[str, Any]:
    """"wall ms (CPU ms)": the medians of `runs` calls after two warm-ups, and the last call's result."""
    walls, cpus, result = [], [], None
    for attempt in range(2 + runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = call()
        if attempt >= 2:
            walls.append((time.perf_counter() - started) * 1000)
            cpus.append((time.process_time() - cpu_started) * 1000)
    return f"{statistics.median(walls):.1f} ({statistics.median(cpus):.1f})", result


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # The code timed comes first on the path; the harness (which imports this checkout's) only once it is loaded.
    sys.path.insert(0, str(Path(args.code_root).resolve() if args.code_root else ROOT))
    import flask_migrate
    from sqlalchemy import func, make_url, select

    from app import create_app
    from billing.claims.models import Claim
    from billing.core.db import db
    from billing.core.time import practice_today
    from billing.dashboard.figures import WEEK, _filing, dashboard_figures, default_range
    from billing.org.queries import Scope
    from billing.payments.filing import near_deadline

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "SECRET_KEY": "bench-only",
                      "CLAIMDESK_DEMO": True})
    with app.app_context():
        if not args.no_migrate:
            flask_migrate.upgrade()
        backend = make_url(args.database_url).get_backend_name()
        claims = db.session.scalar(select(func.count(Claim.id))) or 0
        today, scope = practice_today(), Scope()
        cpu_started = time.process_time()
        figure_ms, figure = _median_ms(lambda: _filing(scope, today), args.runs)
        dashboard_ms, _ = _median_ms(lambda: dashboard_figures(scope, *default_range(today), today), args.runs)
        page_ms, rows = _median_ms(lambda: near_deadline(scope, within_days=WEEK, today=today), args.runs)
        cpu = time.process_time() - cpu_started
        db.session.remove()
    load = os.getloadavg()[0]
    sys.path.insert(1, str(ROOT / "benchmarks"))
    from harness import update_section
    from machine import machine_label

    print(f"{backend} ({args.label}), {claims:,} claims: figure {figure_ms} ms ({figure.count} claims), "
          f"Dashboard {dashboard_ms} ms, Filing page {page_ms} ms ({len(rows)} rows); "
          f"CPU {cpu:.1f} s, load {load:.1f}")
    if figure.count != len(rows):
        print(f"the figure ({figure.count}) and its list ({len(rows)}) disagree")
        return 1
    if not args.no_write:
        row = (f"| {backend} | {args.label} | {claims:,} | {figure_ms} | {dashboard_ms} | {page_ms} "
               f"| {len(rows):,} | {cpu:.1f} | {load:.1f} | {machine_label()} | {date.today().isoformat()} |")
        update_section("bench_filing", HEADER, _intro, [row])
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a seeded database (it is migrated to head)")
    parser.add_argument("--runs", type=int, default=7, help="measured calls of each (default 7)")
    parser.add_argument("--code-root", help="time another checkout's code (default: this one)")
    parser.add_argument("--label", default="kept deadline", help="the Code column of the RESULTS.md row")
    parser.add_argument("--no-migrate", action="store_true", help="use the database at its revision")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    return parser.parse_args(argv)


def _intro() -> str:
    return (
        "## Filing deadlines\n\n"
        "`benchmarks/bench_filing.py` times, on an existing seeded database, the Dashboard's \"Filing deadlines this "
        "week\" figure (`_filing`), the whole Dashboard (`dashboard_figures`, last twelve months) and the Filing "
        "deadlines page at 7 days (`near_deadline`, the figure's drill-down): two warm-ups, then the median of the "
        "runs, called in one app context (no HTTP), wall clock and (in brackets) the process's CPU time, the fairer "
        "figure on a shared machine. CPU s is the process time of the whole timed part; the load "
        f"average is the machine's as the run ended. Target: the Dashboard at most {TARGET_MS:.0f} ms (SQLite, scale "
        "100).\n\n"
        "```sh\ncp /tmp/s100/base.sqlite /tmp/me_s100.sqlite\n"
        ".venv/bin/python benchmarks/bench_filing.py --database-url sqlite:////tmp/me_s100.sqlite\n```\n\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
