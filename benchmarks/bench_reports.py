"""Reports benchmark: the Claims report with 100,000 rows, against pandas.DataFrame.to_excel on the same rows.

    .venv/bin/python benchmarks/bench_reports.py                # 100,000 claims, fresh SQLite file
    .venv/bin/python benchmarks/bench_reports.py --claims 20000

A fresh SQLite database is built with the migrations and 100,000 claims (one line each, mixed statuses,
a year of service dates) are written in bulk. Then each writer runs in a process of its own, so its peak
memory is its own: ours (`build_report("claims", ...)`: the streaming query plus openpyxl write-only, title
block, formats, totals and the By status sheet) and pandas (the same rows read into a DataFrame, then
`to_excel` with openpyxl). Time is wall clock from the query to the saved file; peak memory is the
process's peak resident set during the build, and its growth over the size just before it.
Targets: at most 8 s and 100 MB, and faster than pandas. benchmarks/RESULTS.md gets this section rewritten.

Every report for a year, on PostgreSQL (`--every-report`):

    createdb -h 127.0.0.1 -U postgres hrep_bench
    nice -n 10 .venv/bin/python benchmarks/bench_reports.py --every-report --claims 1000000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1/hrep_bench

The database is upgraded with the migrations and a year of billing is bulk-written by SQL
(benchmarks/report_volume.py: clients, claims, lines, charges, remittances with payments and adjustments,
denials, holds), unless `--reuse` says it is already there. Then each report in the registry is built for 2025
in a process of its own: wall time, the process's CPU seconds, peak RSS growth over the size before the build,
and the main sheet's rows. Targets: at most 60 s and 150 MB growth each. The "every report" section of
benchmarks/RESULTS.md is rewritten, with the load average.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402 - after the path fix, so the script runs from anywhere
from machine import machine_label  # noqa: E402 - benchmarks/ is the script's own folder
from sqlalchemy import insert, select, text  # noqa: E402

from app import create_app  # noqa: E402
from billing.claims.models import Claim, ClaimLine  # noqa: E402
from billing.claims.statuses import ClaimStatus  # noqa: E402
from billing.core.db import db  # noqa: E402
from billing.core.unit_of_work import unit_of_work  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN, END = "<!-- bench_reports:begin -->", "<!-- bench_reports:end -->"
TARGET_SECONDS, TARGET_MB = 8.0, 100.0
FIRST_DAY = date(2025, 1, 6)
STATUSES = (ClaimStatus.READY, ClaimStatus.SUBMITTED, ClaimStatus.PAID, ClaimStatus.PAID, ClaimStatus.DENIED,
            ClaimStatus.HELD)
HEADER = (
    "| Backend | Rows | Writer | Time (s) | Peak RSS during the build (MB) | Growth for the build (MB) | File (MB) "
    "| Targets | Machine | Date |\n"
    "|---|---:|---|---:|---:|---:|---:|---|---|---|"
)


def _app(database: Path, instance: Path) -> Any:
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": "bench-only"},
                      instance_path=str(instance))


def _status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    """Start the peak (VmHWM) again from the current size, so importing the app does not count."""
    with contextlib.suppress(OSError):  # not Linux: the peak then includes loading the app
        Path("/proc/self/clear_refs").write_text("5")


def seed(database: Path, instance: Path, count: int) -> None:
    """`count` claims of one 97153 line each, written in bulk (the report is what is measured)."""
    from tests.worlds.practice import build_world

    app = _app(database, instance)
    with app.app_context():
        flask_migrate.upgrade()
        with unit_of_work():
            world = build_world()
        charge = Decimal("73.48")
        common = {"client_id": world.client.id, "policy_id": world.policy.id, "payer_id": world.payer.id,
                  "rendering_provider_id": world.provider.id, "location_id": world.location.id,
                  "place_of_service": "11", "frequency_code": "1", "total_charge": charge, "needs_review": False,
                  "void_to_send": False, "version": 1}
        with unit_of_work():
            db.session.execute(insert(Claim), [
                {**common, "status": STATUSES[n % len(STATUSES)], "service_date": FIRST_DAY + timedelta(days=n % 365),
                 "hold_reason": "Missing signature" if STATUSES[n % len(STATUSES)] is ClaimStatus.HELD else None}
                for n in range(count)])
            ids = list(db.session.scalars(select(Claim.id).order_by(Claim.id)))
            db.session.execute(insert(ClaimLine), [
                {"claim_id": cid, "line_number": 1, "service_code_id": world.code.id, "modifiers": "",
                 "service_date": FIRST_DAY + timedelta(days=i % 365), "minutes": 60, "units": 4,
                 "rate": Decimal("18.37"), "charge": charge, "place_of_service": "11", "diagnosis_pointers": "1"}
                for i, cid in enumerate(ids)])
        db.engine.dispose()


def measure(writer: str, database: Path, instance: Path, out: Path) -> dict[str, Any]:
    """Run in a child process: build the workbook one way, report time, rows and memory before the start."""
    from exports.build import build_report
    from exports.filters import ReportFilters
    from exports.reports.claims import COLUMNS, claim_rows

    app = _app(database, instance)
    with app.app_context():
        _reset_peak()
        before = _status_mb("VmRSS")
        started = time.perf_counter()
        if writer == "ours":
            rows = build_report("claims", ReportFilters(), out, generated_by="bench",
                                now=datetime(2026, 1, 1, tzinfo=UTC)).rows
        else:
            import pandas as pd

            frame = pd.DataFrame(list(claim_rows(ReportFilters())), columns=[c.title for c in COLUMNS])
            frame.to_excel(out, sheet_name="Claims", index=False, engine="openpyxl")
            rows = len(frame)
        seconds = time.perf_counter() - started
        peak = _status_mb("VmHWM")
        db.engine.dispose()
    return {"seconds": seconds, "rows": rows, "before_mb": before, "peak_mb": peak}


def run_child(writer: str, database: Path, instance: Path, out: Path) -> dict[str, Any]:
    args = [sys.executable, __file__, "--measure", writer, "--database", str(database), "--instance", str(instance),
            "--out", str(out)]
    child = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=ROOT)  # noqa: S603 - our own script
    stdout = child.stdout.read() if child.stdout else ""
    if child.wait() != 0:
        raise SystemExit(f"{writer} failed with exit code {child.returncode}")
    found = json.loads(stdout.strip().splitlines()[-1])
    found["file_mb"] = out.stat().st_size / 1e6
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--every-report", action="store_true", help="every report for a year, on --database-url")
    parser.add_argument("--database-url", help="PostgreSQL URL for --every-report (a database of its own)")
    parser.add_argument("--reuse", action="store_true", help="the database already holds the year: skip seeding")
    parser.add_argument("--measure", choices=("ours", "pandas"), help=argparse.SUPPRESS)
    parser.add_argument("--measure-report", help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--instance", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_report:
        print(json.dumps(measure_report(args.measure_report, args.database_url, args.out)))
        return 0
    if args.every_report:
        return every_report(args.database_url, args.claims, reuse=args.reuse)
    if args.measure:
        print(json.dumps(measure(args.measure, args.database, args.instance, args.out)))
        return 0
    with tempfile.TemporaryDirectory(prefix="claimdesk-bench-reports-") as tmp:
        folder = Path(tmp)
        database, instance = folder / "bench.sqlite", folder / "instance"
        started = time.perf_counter()
        seed(database, instance, args.claims)
        print(f"{args.claims:,} claims written in {time.perf_counter() - started:.1f} s")
        ours = run_child("ours", database, instance, folder / "ours.xlsx")
        theirs = run_child("pandas", database, instance, folder / "pandas.xlsx")
    rows = [_row("ClaimDesk `build_report` (openpyxl write-only)", ours, _verdict(ours, theirs)),
            _row("pandas `DataFrame.to_excel` (openpyxl)", theirs, "baseline")]
    for row in rows:
        print(row)
    _update_results(rows)
    return 0


# --- every report for a year, on PostgreSQL --------------------------------------------------------------------

EVERY_BEGIN, EVERY_END = "<!-- bench_reports_every:begin -->", "<!-- bench_reports_every:end -->"
EVERY_SECONDS, EVERY_MB = 60.0, 150.0
YEAR = (date(2025, 1, 1), date(2025, 12, 31))
EVERY_HEADER = (
    "| Backend | Claims | Report | Main sheet rows | Rows, all sheets | Time (s) | CPU (s) | Peak RSS growth (MB) "
    "| File (MB) "
    "| Targets (≤ 60 s, ≤ 150 MB) | Load avg (1 min) before / after | Machine | Date |\n"
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|---|---|"
)


def _url_app(url: str) -> Any:
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only"},
                      instance_path=str(Path(tempfile.gettempdir()) / "claimdesk-bench-reports-instance"))


def seed_every(url: str, claims: int) -> None:
    from report_volume import seed_year

    from tests.worlds.practice import build_world

    app = _url_app(url)
    with app.app_context():
        flask_migrate.upgrade()
        with unit_of_work():
            world = build_world()
        seed_year(world, claims)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()


def measure_report(name: str, url: str, out: Path) -> dict[str, Any]:
    """In a child process: build one report for the year; time, CPU, rows and memory before and at the peak."""
    from exports.build import build_report
    from exports.filters import ReportFilters

    app = _url_app(url)
    with app.app_context():
        _reset_peak()
        before = _status_mb("VmRSS")
        cpu = time.process_time()
        started = time.perf_counter()
        built = build_report(name, ReportFilters(date_from=YEAR[0], date_to=YEAR[1]), out, generated_by="bench",
                             now=datetime(2026, 1, 2, tzinfo=UTC))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = _status_mb("VmHWM")
        db.engine.dispose()
    return {"seconds": seconds, "cpu": cpu, "rows": built.rows, "all_rows": sum(built.sheet_rows),
            "before_mb": before, "peak_mb": peak}


def every_report(url: str | None, claims: int, *, reuse: bool) -> int:
    if not url or not url.startswith("postgresql"):
        raise SystemExit("--every-report needs --database-url postgresql+psycopg://... (a database of its own)")
    from exports.reports import ALL_REPORTS

    if not reuse:
        started = time.perf_counter()
        seed_every(url, claims)
        print(f"{claims:,} claims written in {time.perf_counter() - started:.0f} s", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="claimdesk-bench-reports-") as tmp:
        for report in ALL_REPORTS:
            out = Path(tmp) / f"{report.name}.xlsx"
            load_before = os.getloadavg()[0]
            args = [sys.executable, __file__, "--measure-report", report.name, "--database-url", url, "--out", str(out)]
            done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=False)  # noqa: S603
            if done.returncode != 0:
                raise SystemExit(f"{report.name} failed:\n{done.stderr[-3000:]}")
            found = json.loads(done.stdout.strip().splitlines()[-1])
            found.update(file_mb=out.stat().st_size / 1e6, load=(load_before, os.getloadavg()[0]))
            rows.append(_every_row(claims, report.title, found))
            print(rows[-1], flush=True)
    _update_section(EVERY_BEGIN, EVERY_END, EVERY_HEADER, rows, EVERY_INTRO)
    return 0


def _every_row(claims: int, title: str, found: dict[str, Any]) -> str:
    growth = found["peak_mb"] - found["before_mb"]
    checks = [found["seconds"] <= EVERY_SECONDS, growth <= EVERY_MB]
    verdict = "met" if all(checks) else "NOT met: " + ", ".join(
        name for name, ok in zip(("time", "memory"), checks, strict=True) if not ok)
    return (f"| PostgreSQL | {claims:,} | {title} | {found['rows']:,} | {found['all_rows']:,} "
            f"| {found['seconds']:.1f} | {found['cpu']:.1f} "
            f"| {growth:.0f} | {found['file_mb']:.1f} | {verdict} | {found['load'][0]:.1f} / {found['load'][1]:.1f} "
            f"| {machine_label()} | {date.today():%Y-%m-%d} |")


EVERY_INTRO = """## Reports: every report for a year, on PostgreSQL

`benchmarks/bench_reports.py --every-report` upgrades a PostgreSQL database of its own with the migrations,
bulk-writes a year (2025) of billing by SQL (benchmarks/report_volume.py: a client per 20 claims, one line and
one charge per claim, statuses in turn, the paid claims on remittances of 1,000 claims with payment and
contractual adjustment ledgered, denials CLP02 = 4 with CO-50, holds with their history), then builds each report
in the registry for 2025 in a process of its own. Peak RSS growth is the process's peak during the build over
its size just before it (`/proc/self/clear_refs`). Targets: at most 60 s and 150 MB growth per report. Load
average is the machine's (shared with other jobs) before and after each report; CPU is the report process's own.

```sh
createdb -h 127.0.0.1 -U postgres hrep_bench
nice -n 10 .venv/bin/python benchmarks/bench_reports.py --every-report --claims 1000000 \\
    --database-url postgresql+psycopg://postgres@127.0.0.1/hrep_bench
```
"""


def _update_section(begin: str, end: str, header: str, rows: list[str], intro: str) -> None:
    section = f"{begin}\n{header}\n" + "\n".join(rows) + f"\n{end}"
    text_ = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    if begin in text_ and end in text_:
        head, rest = text_.split(begin, 1)
        text_ = head + section + rest.split(end, 1)[1]
    else:
        text_ = text_.rstrip("\n") + "\n\n" + intro + "\n" + section + "\n"
    RESULTS.write_text(text_, encoding="utf-8")
    print(f"updated {RESULTS.relative_to(ROOT)}")


def _verdict(ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    growth = ours["peak_mb"] - ours["before_mb"]
    checks = [ours["seconds"] <= TARGET_SECONDS, growth <= TARGET_MB, ours["seconds"] < theirs["seconds"]]
    speedup = theirs["seconds"] / ours["seconds"]
    met = "all met" if all(checks) else "NOT met: " + ", ".join(
        name for name, ok in zip(("time", "memory", "faster than pandas"), checks, strict=True) if not ok)
    return f"≤ {TARGET_SECONDS:.0f} s, ≤ {TARGET_MB:.0f} MB, faster than pandas ({speedup:.1f}×): {met}"


def _row(writer: str, found: dict[str, Any], verdict: str) -> str:
    machine = machine_label()
    return (f"| SQLite {sqlite3.sqlite_version} | {found['rows']:,} | {writer} | {found['seconds']:.1f} "
            f"| {found['peak_mb']:.0f} | {found['peak_mb'] - found['before_mb']:.0f} | {found['file_mb']:.1f} "
            f"| {verdict} | {machine} | {date.today():%Y-%m-%d} |")



INTRO = """## Reports: the Claims report with 100,000 rows

`benchmarks/bench_reports.py` builds a fresh SQLite database with the migrations, bulk-writes 100,000 claims
(one line each, mixed statuses, a year of service dates), then builds the Claims report in a process of its
own: the streaming query (2,000 rows a round trip) and openpyxl in write-only mode with lxml, with the title
block, frozen header, autofilter, accounting and date formats, fitted widths, the totals row and the By status
sheet. For comparison, another process reads the same rows into a pandas DataFrame and calls `to_excel`
(openpyxl engine, no formats). Time is wall clock from the query to the saved file. Memory: the peak is
reset (`/proc/self/clear_refs`) once the app is loaded, so Peak RSS is the process's largest resident size
during the build (the loaded app, about 150 MB of it, included), and Growth is that peak minus the size just
before the build: what the report itself needs. Targets: at most 8 s, at most 100 MB (for the build: the app's
own footprint is the same for every page and job), and faster than pandas.

```sh
.venv/bin/python benchmarks/bench_reports.py
```
"""


def _update_results(rows: list[str]) -> None:
    _update_section(BEGIN, END, HEADER, rows, INTRO)


if __name__ == "__main__":
    sys.exit(main())
