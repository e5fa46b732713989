"""Dashboard benchmark: seed the demo practice at a scale, then time the Dashboard and the front page.

    .venv/bin/python benchmarks/bench_dashboard.py                      # SQLite (temp file), scale 100
    .venv/bin/python benchmarks/bench_dashboard.py --scale 100 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1/claimdesk_bench

As bench_foundation.py: a database built from nothing with the migrations (PostgreSQL's public schema is dropped
first: never point this at a database you care about), `seed_demo(scale)` committed, then the demo admin logs in
through the Flask test client. `/admin/dashboard/` (its default range: the last twelve months) and `/admin/` are
each requested twice to warm up, then `--runs` times; the median server time and the SQL statements per request
are written to this script's section of benchmarks/RESULTS.md. Target: the Dashboard at most 60 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402 - after the path fix, so the script runs from anywhere
from bench_foundation import (  # noqa: E402 - benchmarks/ is the script's own folder
    _backend_label,
    _counting_queries,
    _fresh_postgres,
    _logged_in_client,
    _seed,
    _settle,
)
from flask.testing import FlaskClient  # noqa: E402
from harness import update_section  # noqa: E402
from machine import machine_label  # noqa: E402
from sqlalchemy import func, make_url, select  # noqa: E402

from app import create_app  # noqa: E402
from billing.claims.models import Claim  # noqa: E402
from billing.core.db import db  # noqa: E402

PAGES = (("Dashboard", "/admin/dashboard/"), ("Front page", "/admin/"))
WARM_UPS = 2
TARGET_MS = 60.0
HEADER = (
    "| Backend | Scale | Claims | Dashboard: median ms | Queries | Front page: median ms | Queries | Target "
    "| Machine | Date |\n|---|---:|---:|---:|---:|---:|---:|---|---|---|"
)


def time_page(client: FlaskClient, path: str, runs: int) -> tuple[float, int]:
    """The median server time of `runs` requests after the warm-ups (ms), and the statements per request."""
    timings, counts = [], []
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
    return statistics.median(timings), max(counts)


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
            seed_seconds, _ = _seed(args.scale)
            claims = db.session.scalar(select(func.count(Claim.id))) or 0
            db.session.remove()
            _settle(db.engine)
        print(f"{backend}: seeded scale {args.scale} ({claims:,} claims) in {seed_seconds:.1f} s")
        client = _logged_in_client(app)
        timings = {name: time_page(client, path, args.runs) for name, path in PAGES}
        with app.app_context():
            db.engine.dispose()
    for name, (ms, queries) in timings.items():
        print(f"{name}: median {ms:.1f} ms, {queries} queries")
    dashboard_ms = timings["Dashboard"][0]
    verdict = "met" if dashboard_ms <= TARGET_MS else "missed"
    row = (f"| {backend} | {args.scale} | {claims:,} | {dashboard_ms:.0f} | {timings['Dashboard'][1]} "
           f"| {timings['Front page'][0]:.0f} | {timings['Front page'][1]} | ≤ {TARGET_MS:.0f} ms: {verdict} "
           f"| {machine_label()} | {date.today().isoformat()} |")
    update_section("bench_dashboard", HEADER, _intro, [row])
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100, help="seed-demo scale (default 100)")
    parser.add_argument("--database-url", help="PostgreSQL URL; its public schema is dropped first")
    parser.add_argument("--runs", type=int, default=7, help="measured requests per page (default 7)")
    args = parser.parse_args(argv)
    if args.runs < 7:
        parser.error("--runs must be at least 7")
    return args


def _intro() -> str:
    return (
        "## Dashboard\n\n"
        "`benchmarks/bench_dashboard.py` seeds the demo at a scale on a fresh database (as bench_foundation), logs "
        "in as the demo admin and requests `/admin/dashboard/` (default range: the last twelve months) and the "
        "front page `/admin/` through the Flask test client: two warm-ups, then the median of 7 requests, with the "
        "SQL statements each sends. Target: the Dashboard at most 60 ms on the server.\n\n"
        "```sh\n.venv/bin/python benchmarks/bench_dashboard.py --scale 100\n"
        ".venv/bin/python benchmarks/bench_dashboard.py --scale 100 --database-url "
        "postgresql+psycopg://postgres@127.0.0.1/h_dash\n```\n\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
