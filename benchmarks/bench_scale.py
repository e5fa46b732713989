"""The scale benchmark of issue 20: a seeded demo practice on PostgreSQL, every heavy operation measured.

    make bench-scale          # BENCH_SCALE_DATABASE_URL (an empty database, or one this script seeded), BENCH_SCALE
    .venv/bin/python benchmarks/bench_scale.py --database-url postgresql+psycopg://postgres@127.0.0.1/claimdesk_scale \\
        --scale 100 --steps pages,rules

The database is migrated and, when it holds no demo yet, seeded with `flask seed-demo --scale N` (timed like
the other steps), then `VACUUM ANALYZE`d as autovacuum would after a load. A database seeded before keeps its
scale (the rows say which). Then each step runs in a process of its own, so its time, CPU (its own and its
worker processes') and peak resident memory are its alone (`os.wait4` on the child):

- `pages`: every list page of the admin and the dashboard, as the demo admin through the Flask test client:
  one warm-up, then the median of 7 requests, with the SQL statements each sends;
- `rules`: `run_rules` over every claim in scope, in one unit of work (`flask rules run`);
- `submissions`: every Ready claim built into batches, validated and marked sent
  (benchmarks/bench_submissions_scale.py's measurement, whose RESULTS.md section gets the row as well);
- `era10k`, `era74k`: an 835 paying 10,000 and then 74,000 other Submitted claims of the seed (written with
  the demo's payer-side writer, outside the timed process), imported as `flask edi import` does. They need
  that many Submitted claims: run `submissions` first (the default order does);
- `reports`: the Claims, Revenue and AR Aging reports for the last year, each in its own process; memory is
  the growth of the peak over the size just before the build, as in bench_reports.

The steps use the database up (claims get sent and paid): for a second full run, seed a fresh database.
Each step's row in benchmarks/RESULTS.md (the `bench_scale` section) is replaced by backend, scale and step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness import update_section  # noqa: E402 - benchmarks/ is the script's own folder
from machine import machine_label  # noqa: E402 - benchmarks/ is the script's own folder
from sqlalchemy import create_engine, func, make_url, select, text  # noqa: E402

from app import create_app  # noqa: E402
from billing.core.db import db  # noqa: E402

STEPS = ("pages", "rules", "submissions", "era10k", "era74k", "reports")
ERA_CLAIMS = {"era10k": 10_000, "era74k": 74_000}
REPORTS = (("claims", "Claims"), ("revenue", "Revenue"), ("ar-aging", "AR Aging"))
PAGE_RUNS = 7
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1/claimdesk_scale"
#: Issue 20's targets (seconds, MB) and what is known of each operation's floor on this machine.
PAGE_TARGET_MS = 50.0
RULES_TARGET_S = 90.0
ERA_TARGET = {"era10k": (5.0, None), "era74k": (60.0, 300.0)}
REPORT_TARGET_S, REPORT_TARGET_GROWTH_MB = 60.0, 150.0
FLOORS = {
    "era10k": "split 0.15 s + 78k ledger rows 0.4–0.5 s (issue 20)",
    "era74k": "≈ 7.4 × the 10k floor: about 4 s",
    "submissions": "pyx12 CPU bound: about 1.6 ms/claim on two free cores (RESULTS, submissions)",
}
HEADER = (
    "| Backend | Scale | Step | What | Wall (s) | CPU (s) | Peak RSS (MB) | Result | Target | Floor | Load avg "
    "| Machine | Date |\n"
    "|---|---:|---|---|---:|---:|---:|---|---|---|---:|---|---|"
)


@dataclass
class Measured:
    """One line of the results: a step (or one page or report of a step) and how it went."""

    step: str
    what: str
    wall: float
    cpu: float
    peak_mb: float
    result: str
    target: str
    met: bool | None
    floor: str = "—"


# --- the parent: migrate, seed, run each step in a child ----------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.child:
        print(json.dumps(_run_child(args)))
        return 0
    _create_database(args.database_url)
    _flask(args.database_url, "db", "upgrade")
    scale, seeded = _seed_if_empty(args.database_url, args.scale)
    steps = [s for s in STEPS if s in args.steps]
    backend = _backend(args.database_url)
    if seeded:
        print(_line(seeded), flush=True)
        update_section("bench_scale", HEADER, _intro, [_row(backend, scale, seeded)], key_cells=3)
    with tempfile.TemporaryDirectory(prefix="claimdesk-bench-scale-") as tmp:
        for step in steps:
            for measured in _step(step, args, Path(tmp)):
                print(_line(measured), flush=True)
                update_section("bench_scale", HEADER, _intro, [_row(backend, scale, measured)], key_cells=4)
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_SCALE_DATABASE_URL") or DEFAULT_URL)
    parser.add_argument("--scale", type=int, default=int(os.environ.get("BENCH_SCALE") or 1000),
                        help="seed-demo scale when the database is empty (default 1000, or $BENCH_SCALE)")
    parser.add_argument("--steps", default=",".join(STEPS), type=lambda v: [s.strip() for s in v.split(",") if s],
                        help=f"comma-separated, run in this order: {','.join(STEPS)} (default: all)")
    parser.add_argument("--era-claims", default="10000,74000",
                        help="claims in the two 835s (default 10000,74000; smaller for a quick look at a small seed)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--arg", action="append", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    small, large = (int(n) for n in args.era_claims.split(","))
    ERA_CLAIMS.update(era10k=small, era74k=large)
    unknown = set(args.steps) - set(STEPS)
    if unknown and not args.child:
        parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
    return args


def _create_database(url: str) -> None:
    target = make_url(url)
    if target.get_backend_name() != "postgresql":
        return
    maintenance = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with maintenance.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}):
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    maintenance.dispose()


def _flask_env(url: str) -> dict[str, str]:
    return {**os.environ, "FLASK_APP": "app", "FLASK_SQLALCHEMY_DATABASE_URI": url, "PYTHONPATH": str(ROOT),
            "FLASK_SECRET_KEY": os.environ.get("FLASK_SECRET_KEY", "bench-only-secret-key")}  # fmt: skip


def _flask(url: str, *command: str) -> None:
    subprocess.run([sys.executable, "-m", "flask", *command], env=_flask_env(url), check=True, cwd=ROOT)  # noqa: S603


def _seed_if_empty(url: str, scale: int) -> tuple[int, Measured | None]:
    """The demo's scale, and the seed's measurement when this run seeded it."""
    existing = _in_app(url, _demo_scale)
    if existing is not None:
        if existing != scale:
            print(f"note: the database holds a demo of scale {existing}; measuring that (not {scale})")
        return existing, None
    command = [sys.executable, "-m", "flask", "seed-demo", "--scale", str(scale)]
    wall, cpu, peak, _ = _timed_child(command, env=_flask_env(url))
    sessions = _in_app(url, _count_sessions)
    _vacuum(url)
    result = f"{sessions:,} sessions"
    return scale, Measured("seed", f"seed-demo --scale {scale}", wall, cpu, peak, result, "—", None)


def _demo_scale() -> int | None:
    from demo.seed import demo_scale

    return demo_scale()


def _count_sessions() -> int:
    from billing.sessions.models import TherapySession

    return db.session.scalar(select(func.count(TherapySession.id))) or 0


#: The small tables the database keeps by trigger (a row per day, location, payer and status, or per claim).
KEPT_TABLES = ("claim_day_count", "carc_day_total", "ar_day_total", "ledger_month_total", "claim_balance")


def _vacuum(url: str) -> None:
    """What autovacuum does soon after a load (statistics, visibility map), done before anything is timed.

    The seed writes months of history in one transaction, and every claim it moves rewrites its day's row in the
    kept tables: claim_day_count ended at 79 MB for 3,719 rows (a dead version per change, none reclaimable until
    the commit). On a live database autovacuum reclaims them as the day goes, so the tables stay the size of their
    rows; VACUUM FULL rebuilds them to that size, or every front-page count would read the seed's dead versions."""
    if make_url(url).get_backend_name() != "postgresql":
        return
    engine = create_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM FULL {', '.join(KEPT_TABLES)}"))
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def _in_app(url: str, work: Callable[[], Any]) -> Any:
    app = _app(url)
    with app.app_context():
        try:
            return work()
        finally:
            db.session.remove()
            db.engine.dispose()


def _app(url: str) -> Any:
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only", "CLAIMDESK_DEMO": True,
                       "CLAIMDESK_MFA_REQUIRED": False})


def _backend(url: str) -> str:
    def version() -> str:
        if db.engine.dialect.name != "postgresql":
            return "SQLite"
        return "PostgreSQL " + (db.session.scalar(text("SHOW server_version")) or "").split()[0]

    return _in_app(url, version)


def _timed_child(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """Run a child to its end: wall seconds, CPU seconds and peak RSS (MB) of it and the workers it waited for,
    and its stdout. `wait4` gives this child's own resource use, whatever other children ran before."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)  # noqa: S603
    stdout = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command[1:4])} failed with exit code {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout


def _step(step: str, args: argparse.Namespace, tmp: Path) -> Iterator[Measured]:
    if step == "reports":
        for name, _title in REPORTS:
            yield from _child_step(args, "report", name, str(tmp / f"{name}.xlsx"))
    elif step in ERA_CLAIMS:
        era = tmp / f"{step}.835"
        # Each file pays the oldest Submitted claims: the first file's are paid by the time the second is written.
        _timed_child(_child_command(args, "era-file", str(ERA_CLAIMS[step]), str(era)))
        yield from _child_step(args, step, str(era), str(ERA_CLAIMS[step]))
    else:
        yield from _child_step(args, step)


def _child_command(args: argparse.Namespace, step: str, *extra: str) -> list[str]:
    command = [sys.executable, __file__, "--child", step, "--database-url", args.database_url]
    return command + [f"--arg={value}" for value in extra]


def _child_step(args: argparse.Namespace, step: str, *extra: str) -> Iterator[Measured]:
    """The child prints its measurements as JSON; wall, CPU and peak memory of the whole child are added."""
    _LOADS[step] = os.getloadavg()[0]
    wall, cpu, peak, stdout = _timed_child(_child_command(args, step, *extra))
    for item in json.loads(stdout.strip().splitlines()[-1]):
        measured = Measured(**item)
        if measured.wall < 0:  # the whole child is the measurement
            measured.wall, measured.cpu, measured.peak_mb = wall, cpu, peak
        measured.floor = FLOORS.get(step, measured.floor)
        yield measured


#: The machine's 1-minute load average as each step started (two shared CPUs).
_LOADS: dict[str, float] = {}


# --- the children: one step each, printing a JSON list of Measured ------------------------------------------


def _run_child(args: argparse.Namespace) -> Any:
    global _CPU_BEFORE  # one value per child process
    _CPU_BEFORE = _cpu()
    app = _app(args.database_url)
    with app.app_context():
        try:
            measured = CHILDREN[args.child](app, *args.arg)
        finally:
            db.session.remove()
            db.engine.dispose()
    return [asdict(m) for m in measured] if isinstance(measured, list) else measured


def _pages(app: Any) -> list[Measured]:
    from bench_foundation import _counting_queries, _logged_in_client

    client = _logged_in_client(app)
    measured = []
    for name, path in _list_pages(app):
        timings, cpu, queries, status = [], [], 0, 200
        for attempt in range(PAGE_RUNS + 1):
            with _counting_queries() as statements:
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get(path)
                elapsed = (time.perf_counter() - started) * 1000
                cpu_ms = (time.process_time() - cpu_started) * 1000
            status = response.status_code
            if status != 200:
                break
            if attempt:  # the first request warms the caches and templates
                timings.append(elapsed)
                cpu.append(cpu_ms)
                queries = len(statements)
        if status != 200:
            measured.append(Measured("pages", f"{name} `{path}`", 0.0, 0.0, 0.0, f"HTTP {status}", "—", None))
            continue
        median = statistics.median(timings)
        # The app's own CPU per request (PostgreSQL's is not in it): on a busy machine, wall clock waits for a core.
        measured.append(Measured("pages", f"{name} `{path}`", median / 1000, statistics.median(cpu) / 1000, 0.0,
                                 f"median {median:.0f} ms, {queries} queries", f"p50 ≤ {PAGE_TARGET_MS:.0f} ms",
                                 median <= PAGE_TARGET_MS))
    measured.append(Measured("pages", f"all {len(measured)} pages, {PAGE_RUNS + 1} requests each (the process)",
                             -1.0, 0.0, 0.0, "", "—", None))
    return measured


def _list_pages(app: Any) -> list[tuple[str, str]]:
    """The dashboard, the front page and every view the admin menu lists (its index: the list or the page)."""
    admin = app.extensions["admin"][0]
    pages = [("Front page", "/admin/")]
    for view in admin._views:  # Flask-Admin keeps its registered views here
        if view.endpoint == "admin":
            continue
        pages.append((str(view.name), f"{view.url.rstrip('/')}/"))
    return pages


def _rules(app: Any) -> list[Measured]:
    from billing.core.audit import Actor
    from billing.core.unit_of_work import unit_of_work
    from rules.runs import run_rules

    started = time.perf_counter()
    with unit_of_work():
        run = run_rules(actor=Actor.system("bench"))
    wall = time.perf_counter() - started
    return [Measured("rules", "run_rules over every claim in scope", wall, _cpu(), _rss(),
                     f"{run.claims_checked:,} claims checked, {run.claims_failing:,} failing, "
                     f"{run.holds_placed:,} held", f"≤ {RULES_TARGET_S:.0f} s at 1M Ready claims",
                     wall <= RULES_TARGET_S)]


def _submissions(app: Any) -> list[Measured]:
    import bench_submissions_scale as subs

    found = subs._measure()  # the same measurement, so both sections agree
    found["scale"] = _demo_scale() or 0
    found["backend"] = "PostgreSQL" if db.engine.dialect.name == "postgresql" else "SQLite"
    subs.update_section("bench_submissions_scale", subs.HEADER, subs._intro, [subs._row(found)])
    ms, mb = float(found["ms_per_claim"]), float(found["rss_mb"])
    met = ms <= subs.TARGET_MS and mb <= subs.TARGET_MB
    return [Measured("submissions", "every Ready claim: batches built, validated, marked sent", float(found["total"]),
                     _cpu(), mb, f"{found['claims']:,} claims in {found['batches']} batches, {ms:.2f} ms/claim "
                     f"(generate {float(found['generate']):.0f} s, mark sent {float(found['mark']):.0f} s; "
                     f"CPU s: pyx12 workers {float(found['workers_cpu']):.0f}, PostgreSQL "
                     f"{float(found['server_cpu']):.0f}; {float(found['planned_mb']):.0f} MB once planned)",
                     f"≤ {subs.TARGET_MS:g} ms/claim, ≤ {subs.TARGET_MB} MB", met)]


def _era_file(app: Any, count: str, out: str) -> list[Measured]:
    """Write the 835 a payer would send for the `count` oldest Submitted claims, one check per payer: every line
    allowed at 90%, the rest contractual (CO-45)."""
    from sqlalchemy.orm import selectinload

    from billing.claims.models import Claim, ClaimLine
    from billing.claims.statuses import ClaimStatus
    from billing.coverage.models import InsurancePolicy
    from billing.ledger.postings import ClaimPosting
    from billing.org.models import Company
    from demo.billing_history import _check, _paid_line
    from demo.era_writer import ClaimRemit, write_835

    claims = db.session.scalars(
        select(Claim).where(Claim.status == ClaimStatus.SUBMITTED, Claim.self_pay.is_(False))
        .options(selectinload(Claim.lines).selectinload(ClaimLine.service_code), selectinload(Claim.client),
                 selectinload(Claim.policy).selectinload(InsurancePolicy.payer))
        .order_by(Claim.id).limit(int(count))
    ).all()
    if len(claims) < int(count):
        raise SystemExit(f"only {len(claims):,} Submitted claims: run `submissions` first (or --era-claims smaller)")
    company = db.session.scalars(select(Company).order_by(Company.id)).first()
    paid_on = date.today()
    by_payer: dict[int, list[ClaimRemit]] = defaultdict(list)
    for claim in claims:
        lines = tuple(_paid_line(ln.line_number, ln.charge, _ALLOWED, False) for ln in claim.lines)
        posting = ClaimPosting(paid_on, lines, payer_claim_number=f"{claim.payer_id}{claim.id:09d}")
        by_payer[claim.payer_id].append(ClaimRemit(claim, posting))
    # A check number of the bench's own: a payer's check seen before (the demo's history, or this step run before on
    # the same database) would not be posted again. The first claim paid makes it new on every run.
    payments = [replace(_check(company, remits[0].claim.policy.payer, paid_on, remits),
                        check_number=f"BENCH{Path(out).stem.upper()}C{claims[0].id}P{payer_id}")
                for payer_id, remits in by_payer.items()]
    created = datetime.now(UTC)
    data = write_835(payments, sender="DEMOCH", receiver=f"BP{company.tax_id}", control=int(count), created=created)
    Path(out).write_text(data)
    return []


_ALLOWED = Decimal("0.90")


def _era(step: str) -> Callable[[Any, str], list[Measured]]:
    def run(app: Any, path: str, claims: str) -> list[Measured]:
        from billing.core.audit import Actor
        from billing.core.unit_of_work import unit_of_work
        from billing.payments.remittances import import_835

        data = Path(path).read_bytes()
        started = time.perf_counter()
        with unit_of_work():
            result = import_835(data, filename=Path(path).name, actor=Actor.system("bench"))
        wall = time.perf_counter() - started
        seconds, mb = ERA_TARGET[step]
        target = f"≤ {seconds:.0f} s" + (f", ≤ {mb:.0f} MB" if mb else "")
        met = wall <= seconds and (mb is None or _rss() <= mb)
        t = result.timings
        return [Measured(step, f"835 import, {int(claims):,} claims", wall, _cpu(), _rss(),
                         f"{result.matched:,} matched, {result.unmatched:,} unmatched, {len(result.repeated)} checks "
                         f"repeated; validation {t['validation']:.1f} s, parse {t['parse']:.1f} s, "
                         f"posting {t.get('posting', 0.0):.1f} s", target, met)]

    return run


def _report(app: Any, name: str, out: str) -> list[Measured]:
    from bench_reports import _reset_peak, _status_mb

    from exports.build import build_report
    from exports.filters import ReportFilters

    today = date.today()
    filters = ReportFilters(date_from=today - timedelta(days=365), date_to=today)
    _reset_peak()
    before = _status_mb("VmRSS")
    started = time.perf_counter()
    built = build_report(name, filters, out, generated_by="bench")
    wall = time.perf_counter() - started
    peak = _status_mb("VmHWM")
    growth = peak - before
    title = dict(REPORTS)[name]
    return [Measured("reports", f"{title} report, last 365 days", wall, _cpu(), peak,
                     f"{built.rows:,} rows, {Path(out).stat().st_size / 1e6:.1f} MB file, growth {growth:.0f} MB",
                     f"≤ {REPORT_TARGET_S:.0f} s, ≤ {REPORT_TARGET_GROWTH_MB:.0f} MB growth",
                     wall <= REPORT_TARGET_S and growth <= REPORT_TARGET_GROWTH_MB)]


_CPU_BEFORE = 0.0


def _cpu() -> float:
    """CPU seconds of this process and its finished workers since the child started (before the app loaded)."""
    import resource

    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime - _CPU_BEFORE


def _rss() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


CHILDREN: dict[str, Callable[..., list[Measured]]] = {
    "pages": _pages, "rules": _rules, "submissions": _submissions, "era-file": _era_file,
    "era10k": _era("era10k"), "era74k": _era("era74k"), "report": _report,
}


# --- reporting ----------------------------------------------------------------------------------------------


def _verdict(m: Measured) -> str:
    if m.met is None:
        return m.target
    return f"{m.target}: {'met' if m.met else 'missed'}"


def _line(m: Measured) -> str:
    return (f"{m.step:12} {m.what}: {m.wall:.2f} s wall, {m.cpu:.1f} s CPU, {m.peak_mb:.0f} MB peak; {m.result}; "
            f"{_verdict(m)}")


def _row(backend: str, scale: int, m: Measured) -> str:
    per_request = m.step == "pages" and not m.what.startswith("all ")
    wall = f"{m.wall * 1000:.0f} ms" if per_request else f"{m.wall:.1f}"
    cpu = f"{m.cpu * 1000:.0f} ms" if per_request else f"{m.cpu:.1f}"
    peak = "—" if per_request else f"{m.peak_mb:.0f}"
    load = _LOADS.get(m.step, os.getloadavg()[0])
    cells = [backend, f"{scale}", m.step, m.what, wall, cpu, peak, m.result, _verdict(m), m.floor, f"{load:.1f}",
             machine_label(), date.today().isoformat()]
    return "| " + " | ".join(cells) + " |"


def _intro() -> str:
    return (
        "## Scale: `make bench-scale` (issue 20)\n\n"
        "`benchmarks/bench_scale.py` migrates the database given, seeds it with `seed-demo --scale N` when it holds "
        "no demo (then `VACUUM ANALYZE`), and runs each step in a process of its own: every list page and the "
        "dashboard (median of 7 after a warm-up; the page rows give the median request), the rules over every "
        "claim, submissions of every Ready claim, an 835 of 10,000 and one of 74,000 of the seeded claims, and the "
        "Claims, Revenue and AR Aging reports for a year. Wall, CPU (the step's process and its workers) and peak "
        "RSS are the step's own (`wait4` on its process); the load average is the machine's 1-minute load when the "
        "step started (two shared CPUs: other work ran beside it).\n\n"
        "```sh\nBENCH_SCALE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/claimdesk_scale BENCH_SCALE=1000 "
        "make bench-scale\n.venv/bin/python benchmarks/bench_scale.py --scale 100 --steps pages,rules\n```\n\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
