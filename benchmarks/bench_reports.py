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
"""

from __future__ import annotations

import argparse
import contextlib
import json
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
from sqlalchemy import insert, select  # noqa: E402

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
    parser.add_argument("--measure", choices=("ours", "pandas"), help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--instance", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
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
    section = f"{BEGIN}\n{HEADER}\n" + "\n".join(rows) + f"\n{END}"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + INTRO + "\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")
    print(f"updated {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
