"""`make loadtest`: billers and accountants on gunicorn (4 workers) plus the scheduler, on PostgreSQL.

    .venv/bin/python benchmarks/loadtest.py                      # 60 s, 20 billers, 5 accountants
    .venv/bin/python benchmarks/loadtest.py --duration 15 --no-results   # a quick look

1. A scratch database (default claimdesk_load on 127.0.0.1, dropped and made again: its name must contain
   "load") is migrated with `flask db upgrade` and seeded with `flask seed-demo --scale N`.
2. The plan (benchmarks/load_plan.py) adds a login per user and shares the claims out; 835 files are written
   for some of the submitted claims.
3. `gunicorn -w 4 'app:create_app()'` and `flask scheduler run` start against the database; the users
   (benchmarks/load_client.py) log in through /login and work for --duration seconds.
4. Both processes are stopped; `flask ledger check` runs; payments are summed per claim with plain SQL and
   compared with what the users believe they posted (nothing lost, nothing twice).
5. The numbers are printed and written into benchmarks/RESULTS.md between the loadtest markers.

Exit status 1 when anything failed: an error (5xx, unexpected 4xx, connection error, a double submit that
posted twice), a refused action the plan made valid, a ledger violation or a money mismatch.
Server logs stay in benchmarks/.work/loadtest-<time>/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import secrets
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(HERE)]

import httpx  # noqa: E402 - after the path fix, so the script runs from anywhere
import psycopg  # noqa: E402
from load_client import Settings, Stats, run_users  # noqa: E402
from load_plan import make_plan  # noqa: E402
from machine import machine_label  # noqa: E402
from psycopg import sql  # noqa: E402
from sqlalchemy.engine import URL, make_url  # noqa: E402

RESULTS = HERE / "RESULTS.md"
BEGIN, END = "<!-- loadtest:begin -->", "<!-- loadtest:end -->"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1/claimdesk_load"
#: Reports above this many rows go to the scheduler, so the background exports are part of the load.
INLINE_ROWS = 1000


@dataclass
class Servers:
    """The processes this run started, each in its own process group, stopped in `stop`."""

    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        # Its own process group, so a stop reaches gunicorn's workers too. S603: our own fixed commands.
        self.processes[name] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,  # noqa: S603
                                                stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {self.logs / (name + '.log')}")

    def stop(self, timeout: float = 30.0) -> dict[str, int | None]:
        """SIGTERM (gunicorn finishes its requests, the scheduler shuts down cleanly), then SIGKILL if need be."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for name, process in self.processes.items():
            try:
                codes[name] = process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the group this run started: gunicorn and its workers
                codes[name] = process.wait(10)
        return codes


def main() -> int:
    args = _arguments()
    url = make_url(args.database_url)
    if not url.drivername.startswith("postgresql") or "load" not in (url.database or ""):
        sys.exit("The load test drops and recreates its database: give a PostgreSQL URL whose database name "
                 "contains 'load'.")
    logs = HERE / ".work" / f"loadtest-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    logs.mkdir(parents=True)
    env = _server_env(url, logs / "instance")

    print(f"Database {url.database}: recreating, migrating, seeding the demo at scale {args.scale}...", flush=True)
    _recreate_database(url)
    _flask(["db", "upgrade"], env, logs / "setup.log")
    _flask(["seed-demo", "--scale", str(args.scale)], env, logs / "setup.log")
    plan = _plan(url, args.billers, args.accountants)
    before = payment_sums(url)
    print(f"Plan: {sum(len(b.payments) for b in plan.billers)} payment forms, "
          f"{sum(len(b.eras) for b in plan.billers)} 835 files, "
          f"{sum(len(b.patient_owes) for b in plan.billers)} claims with a patient balance, "
          f"{sum(len(b.ready_claims) for b in plan.billers)} Ready claims to hold and release.", flush=True)

    servers = Servers(logs)
    stats = Stats()
    base_url = f"http://127.0.0.1:{args.port}"
    try:
        servers.start("scheduler", [sys.executable, "-m", "flask", "scheduler", "run"], env)
        servers.start("gunicorn", [
            sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--bind", f"127.0.0.1:{args.port}",
            "--chdir", str(ROOT), "--timeout", "60", "--graceful-timeout", "20", env["FLASK_APP"],
        ], env)
        _wait_until_serving(base_url, servers)
        print(f"Serving on {base_url} ({args.workers} workers) with the scheduler; {args.billers} billers and "
              f"{args.accountants} accountants for {args.duration:.0f} s...", flush=True)
        settings = Settings(base_url, think=args.think, double_submit=args.double_submit, timeout=args.timeout)
        cpu_before = _cpu_seconds()
        started, ended, users = asyncio.run(run_users(plan, settings, args.duration, stats))
        client_cpu = _cpu_seconds() - cpu_before
        servers.check_alive()
    finally:
        codes = servers.stop()
    ledger = _ledger_check(env)
    money = compare_money(before, payment_sums(url), stats)
    tracebacks = _tracebacks(logs)
    result = Result(stats, started, ended, users, args, ledger, money, tracebacks, codes, logs,
                    background=background_work(url), client_cpu=client_cpu, load=os.getloadavg())
    print(result.text())
    if not args.no_results:
        write_results(result)
        print(f"Wrote the Load test section of {RESULTS.relative_to(ROOT)}.")
    return 0 if result.passed else 1


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--billers", type=int, default=20)
    parser.add_argument("--accountants", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--scale", type=int, default=2, help="demo scale to seed (default 2)")
    parser.add_argument("--port", type=int, default=8714)
    parser.add_argument("--think", type=float, default=0.5, help="mean seconds a user waits between actions")
    parser.add_argument("--double-submit", type=float, default=0.2, help="share of money forms sent twice")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a request counts as failed")
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    return parser.parse_args()


# --- the database and the processes -------------------------------------------------------------------------

def _libpq(url: URL, database: str | None = None) -> str:
    """The URL as psycopg takes it (no +driver), optionally for another database on the same server."""
    plain = url.set(drivername="postgresql", database=database or url.database)
    return plain.render_as_string(hide_password=False)


def _recreate_database(url: URL) -> None:
    with psycopg.connect(_libpq(url, "postgres"), autocommit=True) as conn:
        name = sql.Identifier(url.database or "")
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def _server_env(url: URL, instance: Path) -> dict[str, str]:
    """The app reads FLASK_* variables (not DATABASE_URL); a fresh secret per run, the worktree's code first.

    The servers get an instance folder of their own: no developer's instance/config.py applies, and the
    scheduler's exports are written beside this run's logs rather than into instance/exports."""
    instance.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "FLASK_APP": f"app:create_app(instance_path={str(instance)!r})",
        "FLASK_SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
        "FLASK_SECRET_KEY": secrets.token_hex(32),
        "FLASK_CLAIMDESK_REPORT_INLINE_ROWS": str(INLINE_ROWS),
        # The seeded demo's logins, without two-factor, and 25 users logging in at once from one address.
        "CLAIMDESK_DEMO": "1",
        "FLASK_CLAIMDESK_LOGIN_THROTTLE": "false",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }


def _flask(command: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        done = subprocess.run([sys.executable, "-m", "flask", *command], cwd=ROOT, env=env, stdout=out,  # noqa: S603
                              stderr=subprocess.STDOUT, timeout=900, check=False)
    if done.returncode != 0:
        raise SystemExit(f"`flask {' '.join(command)}` failed ({done.returncode}); see {log}")


def _plan(url: URL, billers: int, accountants: int) -> object:

    from app import create_app
    from billing.core.db import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
                      "SECRET_KEY": "load-plan-only"})
    with app.app_context():
        plan = make_plan(billers, accountants)
        db.session.commit()
        db.engine.dispose()
    return plan


def _wait_until_serving(base_url: str, servers: Servers, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        servers.check_alive()
        try:
            if httpx.get(f"{base_url}/login", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer {base_url}/login within {timeout:.0f} s")


def _ledger_check(env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-m", "flask", "ledger", "check", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    try:
        answer = json.loads(done.stdout)
    except json.JSONDecodeError:
        answer = {"ok": False, "violations": [done.stdout[-500:] + done.stderr[-500:]]}
    return {**answer, "exit": done.returncode}


def _tracebacks(logs: Path) -> dict[str, int]:
    return {path.stem: path.read_text(errors="replace").count("Traceback") for path in logs.glob("*.log")}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


BACKGROUND = """
    SELECT 'job ' || job_id || ' ' || status, COUNT(*) FROM job_run GROUP BY job_id, status
    UNION ALL SELECT 'export ' || status, COUNT(*) FROM export_run GROUP BY status
"""


def background_work(url: URL) -> dict[str, int]:
    """What the scheduler did during the run: job runs and background exports by status."""
    with psycopg.connect(_libpq(url)) as conn:
        return {what: count for what, count in conn.execute(BACKGROUND)}


# --- nothing lost, nothing twice ----------------------------------------------------------------------------

PAYMENT_SUMS = """
    SELECT claim_id, kind, SUM(amount) FROM ledger_entry
    WHERE kind IN ('insurance_payment', 'patient_payment') GROUP BY claim_id, kind
"""


def payment_sums(url: URL) -> dict[tuple[int, str], Decimal]:
    """Insurance and patient payments per claim, read with SQL beside the app (reversals are negative rows)."""
    with psycopg.connect(_libpq(url)) as conn:
        return {(claim_id, kind): total for claim_id, kind, total in conn.execute(PAYMENT_SUMS)}


def compare_money(before: dict[tuple[int, str], Decimal], after: dict[tuple[int, str], Decimal],
                  stats: Stats) -> list[str]:
    """Every claim's change in payments must be what the users believe they posted: a list of mismatches."""
    believed: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for claim_id, amount in stats.book.insurance.items():
        believed[(claim_id, "insurance_payment")] += amount
    for claim_id, amount in stats.book.patient.items():
        believed[(claim_id, "patient_payment")] += amount
    mismatches = []
    for key in sorted(set(before) | set(after) | set(believed)):
        change = after.get(key, Decimal(0)) - before.get(key, Decimal(0))
        if change != believed.get(key, Decimal(0)):
            claim_id, kind = key
            mismatches.append(f"claim id {claim_id} {kind}: ledger moved {change}, the users posted "
                              f"{believed.get(key, Decimal(0))}")
    return mismatches


# --- the report ---------------------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered), math.ceil(share * len(ordered))) - 1)]


@dataclass
class Result:
    stats: Stats
    started: float
    ended: float
    users: int
    args: argparse.Namespace
    ledger: dict[str, object]
    money: list[str]
    tracebacks: dict[str, int]
    exit_codes: dict[str, int | None]
    logs: Path
    background: dict[str, int]
    client_cpu: float  # CPU seconds the users took (logins included): the client shares the machine with the servers
    load: tuple[float, float, float]

    @property
    def window(self) -> list:
        return [s for s in self.stats.samples if s.at >= self.started]

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def server_errors(self) -> int:
        return sum(1 for s in self.window if s.status is None or s.status >= 500)

    @property
    def passed(self) -> bool:
        return (not self.stats.errors and not self.stats.refusals and bool(self.ledger.get("ok")) and not self.money
                and not any(self.tracebacks.values()) and not self.failed_background)

    @property
    def failed_background(self) -> int:
        return sum(n for what, n in self.background.items() if what.endswith(" failed"))

    def kinds(self) -> list[tuple[str, int, float, float, float, int]]:
        by_kind: dict[str, list] = defaultdict(list)
        for sample in self.window:
            by_kind[sample.kind].append(sample)
        rows = []
        for kind, samples in sorted(by_kind.items(), key=lambda item: -len(item[1])):
            ms = [s.seconds * 1000 for s in samples]
            bad = sum(1 for s in samples if s.status is None or s.status >= 400)
            rows.append((kind, len(samples), percentile(ms, 0.5), percentile(ms, 0.95), percentile(ms, 0.99), bad))
        return rows

    def overall(self) -> tuple[int, float, float, float, float]:
        ms = [s.seconds * 1000 for s in self.window] or [0.0]
        return (len(self.window), len(self.window) / self.seconds, percentile(ms, 0.5), percentile(ms, 0.95),
                percentile(ms, 0.99))

    def text(self) -> str:
        count, rps, p50, p95, p99 = self.overall()
        counts = self.stats.counts
        lines = [
            "",
            f"Load test: {self.users} users ({self.args.billers} billers, {self.args.accountants} accountants), "
            f"gunicorn {self.args.workers} workers + scheduler, PostgreSQL, {self.seconds:.1f} s",
            f"Requests {count:,}  ·  {rps:.1f}/s  ·  p50 {p50:.0f} ms  p95 {p95:.0f} ms  p99 {p99:.0f} ms",
            f"Errors {len(self.stats.errors)} (5xx or no answer: {self.server_errors})  ·  refused actions "
            f"{len(self.stats.refusals)}  ·  tracebacks in the logs {sum(self.tracebacks.values())}",
            f"Ledger check: {'clean' if self.ledger.get('ok') else 'FAILED'}  ·  payments per claim vs what the "
            f"users posted: {'all equal' if not self.money else f'{len(self.money)} MISMATCHES'} "
            f"(insurance {_total(self.stats.book.insurance)} on {len(self.stats.book.insurance)} claims, patient "
            f"{_total(self.stats.book.patient)} on {len(self.stats.book.patient)} claims)",
            "Scheduler: " + (", ".join(f"{what} {n}" for what, n in sorted(self.background.items())) or "nothing ran"),
            f"Load average at the end {self.load[0]:.1f} / {self.load[1]:.1f} / {self.load[2]:.1f}; the client: "
            f"the users took {self.client_cpu:.0f} CPU s of the {self.seconds * (os.cpu_count() or 1):.0f} available",
            "",
            f"{'Request kind':34} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}",
        ]
        lines += [f"{k:34} {n:7,} {a:8.0f} {b:8.0f} {c:8.0f} {e:7}" for k, n, a, b, c, e in self.kinds()]
        lines += ["", "Actions: " + ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))]
        for title, items in (("Errors", self.stats.errors), ("Refused actions", self.stats.refusals),
                             ("Money mismatches", self.money),
                             ("Ledger violations", [str(v) for v in self.ledger.get("violations", [])])):
            if items:
                lines += [f"{title} (first 20 of {len(items)}):", *(f"  {item}" for item in items[:20])]
        lines.append(f"Server logs: {self.logs}  ·  exit codes: {self.exit_codes}")
        return "\n".join(lines)


def _total(amounts: dict[int, Decimal]) -> str:
    return f"${sum(amounts.values(), Decimal(0)):,.2f}"


HEADER = (
    "| Users (billers / accountants) | Workers | Seconds | Requests | Requests / s | p50 ms | p95 ms | p99 ms "
    "| Errors | Refused | Money forms posted | Double submits posted once | 835 files | Reports | Ledger check "
    "| Payments vs ledger | Load avg | Machine | Date |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---|---|"
)
KEPT_RUNS = 5


def write_results(result: Result) -> None:
    count, rps, p50, p95, p99 = result.overall()
    c = result.stats.counts
    doubles = c["double submits, racing"] + c["double submits, in a row"]
    row = (f"| {result.users} ({result.args.billers} / {result.args.accountants}) | {result.args.workers} "
           f"| {result.seconds:.0f} | {count:,} | {rps:.1f} | {p50:.0f} | {p95:.0f} | {p99:.0f} "
           f"| {len(result.stats.errors)} | {len(result.stats.refusals)} | {c['money posted']} "
           f"| {c['double submits posted once']} of {doubles} | {c['835 files posted']} "
           f"| {c['reports downloaded'] + c['reports queued for the scheduler'] + c['exports downloaded']} "
           f"| {'clean' if result.ledger.get('ok') else 'FAILED'} "
           f"| {'equal' if not result.money else f'{len(result.money)} mismatches'} "
           f"| {result.load[0]:.1f} | {machine_label()} | {datetime.now(UTC):%Y-%m-%d} |")
    kinds = "\n".join(f"| {k} | {n:,} | {a:.0f} | {b:.0f} | {c_:.0f} | {e} |" for k, n, a, b, c_, e in result.kinds())
    text = RESULTS.read_text(encoding="utf-8")
    earlier: list[str] = []
    if BEGIN in text and END in text:
        old = text.split(BEGIN, 1)[1].split(END, 1)[0]
        earlier = [ln for ln in old.splitlines() if ln.startswith("| ") and ln.count("|") == row.count("|")
                   and not ln.startswith("| Users")]
    section = (f"{BEGIN}\n{HEADER}\n" + "\n".join([row, *earlier][:KEPT_RUNS])
               + "\n\nThe latest run by request kind:\n\n"
               "| Request kind | Count | p50 ms | p95 ms | p99 ms | Errors |\n|---|---:|---:|---:|---:|---:|\n"
               f"{kinds}\n{END}")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + INTRO + "\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")


INTRO = """## Load test: billers and accountants on gunicorn and PostgreSQL

`benchmarks/loadtest.py` (`make loadtest`) seeds a scratch PostgreSQL database with the demo (scale 2), starts
gunicorn with 4 workers and the scheduler process on it, and runs 20 billers and 5 accountants for 60 s on
loopback, each logged in through /login: billers browse the claim tabs, claim pages, Unmatched and remittances,
post payments through Record Payment and the patient payment form (a fifth of them submitted twice with the
same one-time key, in a row or racing from a second tab), hold and release claims and upload 835s (some sent
again); accountants download the Excel reports (larger ones are built by the scheduler) and finished exports.
A user waits about 0.5 s between actions. Afterwards `flask ledger check` runs, and each claim's payments,
summed with SQL, are compared with what the users believe they posted. How to run it and read it:
[docs/benchmarks.md](../docs/benchmarks.md#load-test-make-loadtest)."""


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, psycopg.Error, subprocess.SubprocessError) as exc:  # one line, not a traceback
        sys.exit(f"Load test stopped: {exc}")
