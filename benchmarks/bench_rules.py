"""Rules benchmark: one billing run of 20 enabled rules over 100,000 Ready claims, compiled vs run_all.

    .venv/bin/python benchmarks/bench_rules.py                 # SQLite (temp file), 100,000 claims
    .venv/bin/python benchmarks/bench_rules.py --claims 20000  # a quicker look

A fresh SQLite file is built with the migrations and the demo practice is seeded at the scale that
gives at least `--claims` Ready claims (real claims: lines, diagnoses, policies, authorizations and
finalized notes, made by the same bulk finalize the app uses); Ready claims beyond the count are
marked Submitted so the run sees exactly `--claims`. The seven default rules and thirteen more
(every variable type, every action) are saved through `save_rule`, then the file is copied, so
three databases hold identical data.

Measured, side by side in this one process, each on its own copy:
1. `run_rules()` end to end, committed: load facts in set-based chunks, evaluate the rules
   compiled once, write failed charges, holds and delays (the production path);
2. the same run with `engine="business-rules"`: identical loading and writing, but every claim is
   evaluated by business-rules' `run_all` (once per rule, so a rule that raises cannot abort the
   others and each outcome is attributed to its rule);
3. the naive run the issue warns against: `run_all` per claim with facts read and outcomes written
   claim by claim (`chunk_size=1`). At several ms a claim it runs on every 50th claim, and its
   time per claim is projected to the full count;
4. the phases alone on the first copy: loading facts, evaluating compiled, evaluating with `run_all`.
The runs must leave the same outcomes and claim statuses (on the sample, for the naive run), or
the script fails.
"""

from __future__ import annotations

import argparse
import gc
import math
import multiprocessing
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402 - after the path fix, so the script runs from anywhere
from flask import Flask  # noqa: E402
from machine import machine_label  # noqa: E402 - benchmarks/ is the script's own folder
from sqlalchemy import String, Table, cast, create_engine, func, insert, literal, make_url, select, text, update  # noqa: E402

from app import create_app  # noqa: E402
from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine  # noqa: E402
from billing.claims.statuses import ClaimStatus  # noqa: E402
from billing.core.audit import Actor  # noqa: E402
from billing.core.db import db  # noqa: E402
from billing.core.id_lists import any_of  # noqa: E402
from billing.core.unit_of_work import unit_of_work  # noqa: E402
from billing.coverage.models import Authorization  # noqa: E402
from billing.people.models import Client  # noqa: E402
from demo.seed import seed_demo  # noqa: E402
from rules.engine import BUSINESS_RULES, COMPILED, enabled_rules, evaluator_for  # noqa: E402
from rules.facts import CHUNK, load_facts  # noqa: E402
from rules.models import RuleOutcome  # noqa: E402
from rules.operations import load_defaults, save_rule  # noqa: E402
from rules.runs import RunResult, candidate_claims, run_rules  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN, END = "<!-- bench_rules:begin -->", "<!-- bench_rules:end -->"
ACTOR = Actor.system("bench")
READY_PER_COHORT = 800  # a seed-demo cohort bills 850-910 Ready claims, depending on the day; aim under
DEFAULT_CLAIMS = 100_000
RECORDED = (100_000, 1_000_000)  # only these sizes are recorded in RESULTS.md
#: Targets per size: 15 s at 100,000 (the first rules work), 90 s at 1,000,000 (issue 20).
TARGET_SECONDS = {100_000: 15.0, 1_000_000: 90.0}
TARGET_SPEEDUP = 5.0
HEADER = (
    "| Backend | Ready claims | Rules | Seed (s) | Run, compiled (s) | of which CPU (s) | Peak RSS (MB) | Load avg "
    "| Run, run_all on batched facts (s) | Speed-up "
    "| Run, run_all claim by claim (s, projected) | Speed-up | Load facts (s) | Evaluate compiled (s) "
    "| Evaluate run_all (s) | Speed-up, evaluation | Outcomes written | Machine | Date |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
)


def _leaf(name: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"name": name, "operator": operator, "value": value}


def _rule(name: str, conditions: list[dict[str, Any]], action: str, **params: Any) -> dict[str, Any]:
    return {"name": name, "description": "benchmark rule", "position": 200, "enabled": True, "scope": {},
            "conditions": {"all": conditions}, "actions": [{"name": action, "params": params}]}


#: Thirteen rules beside the seven defaults: every variable type, nested groups, all four actions.
EXTRA_RULES = (
    _rule("Large billed amount", [_leaf("billed_amount", "greater_than", 2000)], "warn",
          message="Billed over $2,000: check units."),
    _rule("Technician over 8 hours", [_leaf("service_codes", "contains", "97153"), _leaf("units", "greater_than", 32)],
          "fail_charge", reason="More than 32 units of 97153 on one day."),
    _rule("Telehealth without modifier", [_leaf("place_of_service", "contains", "02"),
                                          _leaf("modifiers", "shares_no_elements_with", ["95", "GT"])],
          "fail_charge", reason="Telehealth needs modifier 95 or GT."),
    _rule("Medicaid ABA credential modifier", [_leaf("payer_type", "contains", "medicaid"),
                                               _leaf("service_codes", "contains", "97153"),
                                               _leaf("modifiers", "shares_no_elements_with", ["HM", "HN", "HO"])],
          "fail_charge", reason="Medicaid ABA lines need HM, HN or HO."),
    _rule("Inactive rendering provider", [_leaf("provider_active", "is_false")], "fail_charge",
          reason="The rendering provider is inactive."),
    _rule("Subscriber data incomplete", [_leaf("subscriber_data_complete", "is_false")], "fail_charge",
          reason="Subscriber name, birth date or sex missing."),
    _rule("Note not finalized", [_leaf("note_finalized", "is_false")], "fail_charge",
          reason="A session note is not finalized."),
    _rule("Adult on an ABA code", [_leaf("client_age", "greater_than", 21),
                                   {"any": [_leaf("service_codes", "contains", "97153"),
                                            _leaf("service_codes", "contains", "97155")]}],
          "warn", message="Client over 21 on an ABA code."),
    _rule("Medicare high charge this year", [_leaf("payer_type", "contains", "medicare"),
                                             _leaf("service_date", "on_or_after", "2026-01-01"),
                                             _leaf("billed_amount", "greater_than_or_equal_to", 500)],
          "warn", message="Medicare claim of $500 or more under the 2026 fee schedule."),
    _rule("Self-pay filing indicator", [_leaf("claim_filing_indicator", "contains", "09")], "fail_charge",
          reason="Self-pay visits are invoiced, not billed to a payer."),
    _rule("Medicaid waits two days", [_leaf("payer_type", "contains", "medicaid"),
                                      _leaf("days_since_service", "less_than", 2)],
          "delay_claim", days=2, reason="Medicaid eligibility refreshes overnight."),
    _rule("Blue Cross many diagnoses", [_leaf("payer_name", "matches_regex", "(?i)^blue cross"),
                                        _leaf("diagnosis_count", "greater_than", 4)],
          "fail_charge", reason="BCBS IL takes at most four diagnosis pointers per line."),
    _rule("Authorization ends within 14 days", [_leaf("payer_requires_authorization", "is_true"),
                                                _leaf("authorization_present", "is_true"),
                                                _leaf("days_until_authorization_end", "less_than", 14)],
          "warn", message="The authorization ends within two weeks: request a renewal."),
)


@dataclass(frozen=True)
class Mode:
    name: str
    engine: str
    chunk_size: int
    label: str


COMPILED_RUN = Mode("compiled", COMPILED, CHUNK, "compiled rules, facts in chunks of 2,000 (production)")
BATCHED_RUN = Mode("batched", BUSINESS_RULES, CHUNK, "run_all per claim, facts in chunks of 2,000")
NAIVE_RUN = Mode("naive", BUSINESS_RULES, 1, "run_all per claim, facts read and outcomes written claim by claim")
MODES = (COMPILED_RUN, BATCHED_RUN, NAIVE_RUN)
#: The naive run costs several ms a claim (a quarter of an hour for 100,000), so it runs on every 50th claim.
NAIVE_SAMPLE_EVERY = 50


@dataclass(frozen=True)
class Result:
    backend: str
    claims: int
    rules: int
    seed_seconds: float
    compiled: Run
    batched: Run | None
    naive_sample: int
    naive_sample_seconds: float
    load_seconds: float
    evaluate_compiled_seconds: float
    evaluate_reference_seconds: float
    outcomes: int

    @property
    def compiled_seconds(self) -> float:
        return self.compiled.seconds

    @property
    def naive_seconds(self) -> float:
        """The naive run's measured cost per claim, times the claims the full run checked."""
        return self.naive_sample_seconds / self.naive_sample * self.claims

    @property
    def speedup(self) -> float:
        return self.naive_seconds / self.compiled_seconds

    @property
    def evaluation_speedup(self) -> float:
        return self.evaluate_reference_seconds / self.evaluate_compiled_seconds

    def table_row(self) -> str:
        batched = (f"{self.batched.seconds:.1f} | {self.batched.seconds / self.compiled_seconds:.1f}x"
                   if self.batched else "not run | -")
        return (
            f"| {self.backend} | {self.claims:,} | {self.rules} | {self.seed_seconds:.0f} | "
            f"{self.compiled_seconds:.1f} | {self.compiled.cpu_seconds:.1f} | {self.compiled.peak_rss_mb:.0f} | "
            f"{self.compiled.load_average:.1f} | {batched} | {self.naive_seconds:.0f} | {self.speedup:.0f}x | "
            f"{self.load_seconds:.1f} | {self.evaluate_compiled_seconds:.1f} | {self.evaluate_reference_seconds:.1f} | "
            f"{self.evaluation_speedup:.1f}x | {self.outcomes:,} | {machine_label()} | {date.today():%Y-%m-%d} |"
        )


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    with tempfile.TemporaryDirectory(prefix="claimdesk-bench-rules-") as tmp:
        store = Store(args.database_url, tmp)
        seed_seconds, rules = store.prepare(args)
        urls = store.copies([mode.name for mode in MODES])
        compiled = _run_in_child(urls[0], COMPILED_RUN)
        batched = None if args.skip_batched else _run_in_child(urls[1], BATCHED_RUN)
        if batched is not None:
            _same_results(urls[:2], [compiled.result, batched.result])
        sample = _sample(urls[2], args.claims)
        naive = _run_in_child(urls[2], NAIVE_RUN, sample)
        _same_results([urls[0], urls[2]], [naive.result], sample)
        app = _app(urls[0], tmp)
        with app.app_context():
            backend = _backend_label()
            phases = _phases(args.claims)
            outcomes = db.session.scalar(select(func.count()).select_from(RuleOutcome)) or 0
            db.session.remove()
            db.engine.dispose()
        store.drop(urls, keep_seed=args.keep)
    result = Result(backend, args.claims, rules, seed_seconds, compiled, batched, len(sample), naive.seconds,
                    *phases, outcomes)
    _report(result)
    if args.claims in RECORDED:
        _update_results(result)
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=DEFAULT_CLAIMS, help="Ready claims to check (default 100,000)")
    parser.add_argument("--database-url", help="PostgreSQL URL: its database and two copies (_batched, _naive) are "
                        "created afresh, seeded from <name>_seed, and dropped at the end")
    parser.add_argument("--seed-claims", type=int, default=None,
                        help="Ready claims to seed with seed_demo (default: --claims up to 100,000); the rest are "
                        "bulk copies of those claims made with SQL, each copy for its own copy of the clients")
    parser.add_argument("--skip-batched", action="store_true",
                        help="skip the full run_all run (the sampled claim-by-claim run still checks the outcomes)")
    parser.add_argument("--keep", action="store_true", help="PostgreSQL: keep <name>_seed for a later --reuse")
    parser.add_argument("--reuse", action="store_true", help="PostgreSQL: start from a kept <name>_seed")
    args = parser.parse_args(argv)
    args.seed_claims = min(args.seed_claims or DEFAULT_CLAIMS, args.claims)
    if (args.keep or args.reuse) and not args.database_url:
        parser.error("--keep and --reuse need --database-url")
    return args


def _app(url: str, instance: str) -> Flask:
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only", "CLAIMDESK_DEMO": True},
                      instance_path=instance)


def _backend_label() -> str:
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        return f"PostgreSQL {connection.exec_driver_sql('SHOW server_version').scalar()}".split(" (")[0]
    return f"SQLite {sqlite3.sqlite_version}"


class Store:
    """The bench's databases: SQLite files in a temporary folder, or PostgreSQL databases copied from a template."""

    def __init__(self, database_url: str | None, tmp: str) -> None:
        self.tmp = tmp
        self.url = make_url(database_url) if database_url else None
        self.seed_url = (self.url.set(database=f"{self.url.database}_seed").render_as_string(hide_password=False)
                         if self.url else f"sqlite:///{Path(tmp) / 'seed.sqlite'}")

    def prepare(self, args: argparse.Namespace) -> tuple[float, int]:
        """Seed (or, with --reuse, find) the seed database; returns the seed seconds and the enabled rules."""
        if self.url is not None and args.reuse and self._exists(self.seed_url):
            print(f"reusing {make_url(self.seed_url).database}, grown to {args.claims:,} Ready claims if smaller")
            app = _app(self.seed_url, self.tmp)
            with app.app_context():
                started = time.perf_counter()
                _grow(args.claims)
                rules = len(enabled_rules())
                db.session.remove()
                db.engine.dispose()
            return time.perf_counter() - started, rules
        if self.url is not None:
            self._recreate(self.seed_url)
        app = _app(self.seed_url, self.tmp)
        with app.app_context():
            flask_migrate.upgrade()
            seed_seconds = _seed(args.claims, args.seed_claims)
            rules = _save_rules()
            db.session.remove()
            db.engine.dispose()
        return seed_seconds, rules

    def copies(self, names: list[str]) -> list[str]:
        """One identical copy of the seed database per run."""
        if self.url is None:
            files = [Path(self.tmp) / f"{name}.sqlite" for name in names]
            for each in files:
                shutil.copyfile(Path(self.tmp) / "seed.sqlite", each)
            return [f"sqlite:///{each}" for each in files]
        urls = [self.url.set(database=f"{self.url.database}_{name}").render_as_string(hide_password=False)
                for name in names]
        template = make_url(self.seed_url).database
        for url in urls:
            self._recreate(url, template=template)
        return urls

    def drop(self, urls: list[str], *, keep_seed: bool) -> None:
        if self.url is None:
            return
        for url in [*urls, *([] if keep_seed else [self.seed_url])]:
            self._maintenance(f'DROP DATABASE IF EXISTS "{make_url(url).database}"')

    def _exists(self, url: str) -> bool:
        engine = create_engine(self.url.set(database="postgres"))  # type: ignore[union-attr]
        with engine.connect() as conn:
            found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                {"name": make_url(url).database})
        engine.dispose()
        return bool(found)

    def _recreate(self, url: str, template: str | None = None) -> None:
        name = make_url(url).database
        self._maintenance(f'DROP DATABASE IF EXISTS "{name}"')
        self._maintenance(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))

    def _maintenance(self, statement: str) -> None:
        engine = create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")  # type: ignore[union-attr]
        with engine.connect() as conn:
            conn.execute(text(statement))
        engine.dispose()


def _seed(claims: int, seed_claims: int) -> float:
    """The demo at the scale that bills at least `seed_claims` Ready claims, copied in bulk up to `claims`; the
    surplus is marked Submitted."""
    started = time.perf_counter()
    with unit_of_work():
        seed_demo(math.ceil(seed_claims / READY_PER_COHORT), billing_history=False)  # Ready claims only
        ready = db.session.scalar(select(func.count()).where(Claim.status == ClaimStatus.READY)) or 0
        if ready < seed_claims:
            raise SystemExit(f"the seed billed only {ready:,} Ready claims; lower READY_PER_COHORT")
    print(f"seeded {ready:,} Ready claims with seed_demo in {time.perf_counter() - started:.1f} s")
    _grow(claims)
    seconds = time.perf_counter() - started
    print(f"seeded {claims:,} Ready claims in {seconds:.1f} s")
    return seconds


def _grow(claims: int) -> None:
    """Copy the database's clients and claims in bulk until `claims` are Ready, then keep exactly that many."""
    started = time.perf_counter()
    ready = db.session.scalar(select(func.count()).where(Claim.status == ClaimStatus.READY)) or 0
    copies = math.ceil(claims / ready) - 1
    bases = {table.name: db.session.scalar(select(func.max(table.c.id))) or 0 for table in COPIED}
    for copy in range(1, copies + 1):
        with unit_of_work():
            bulk_copy(copy, bases)
        print(f"  bulk copy {copy} of {copies} done in {time.perf_counter() - started:.1f} s")
    with unit_of_work():
        _keep_only(claims)
    if db.session.connection().dialect.name == "postgresql":
        db.session.connection().exec_driver_sql("ANALYZE")  # as autovacuum would after such a load
        db.session.commit()


COPIED = (Client.__table__, Authorization.__table__, Claim.__table__, ClaimLine.__table__, ClaimDiagnosis.__table__)


def bulk_copy(copy: int, bases: dict[str, int]) -> None:
    """Copy the seeded clients and their claims (lines, diagnoses) once more with INSERT ... SELECT.

    Each copy bills its own clients under its own authorizations, so a copy is no duplicate of the claims it
    was made from and uses no other copy's units; it shares the rest (policies, sessions, payers). Ids are
    shifted by `copy` times the seeded maximum.
    """
    client, authorization, claim, line, diagnosis = COPIED
    shift = {name: copy * base for name, base in bases.items()}
    by_claim = {"claim_id": lambda c: c + shift["claim"]}
    _copy(client, bases["client"], {"id": lambda c: c + shift["client"],
                                    "account_number": lambda c: literal(f"K{copy}-") + cast(client.c.id, String)})
    _copy(authorization, bases["service_authorization"], {
        "id": lambda c: c + shift["service_authorization"], "client_id": lambda c: c + shift["client"],
        "number": lambda c: literal(f"K{copy}-") + c})
    _copy(claim, bases["claim"], {"id": lambda c: c + shift["claim"], "client_id": lambda c: c + shift["client"],
                                  **{name: lambda c: c + shift["claim"] for name in (
                                      "original_claim_id", "family_id", "primary_claim_id", "resubmission_of_id")}})
    _copy(line, bases["claim_line"], {"id": lambda c: c + shift["claim_line"], **by_claim,
                                      "authorization_id": lambda c: c + shift["service_authorization"]})
    _copy(diagnosis, bases["claim_diagnosis"], {"id": lambda c: c + shift["claim_diagnosis"], **by_claim})
    if db.session.connection().dialect.name == "postgresql":  # explicit ids do not move the sequences
        for table in COPIED:
            db.session.execute(select(func.setval(func.pg_get_serial_sequence(table.name, "id"),
                                                  select(func.max(table.c.id)).scalar_subquery())))


def _copy(table: Table, base: int, changed: dict[str, Callable[[Any], Any]]) -> None:
    columns = [changed[c.name](c) if c.name in changed else c for c in table.columns]
    db.session.execute(insert(table).from_select([c.name for c in table.columns],
                                                 select(*columns).where(table.c.id <= base)))


def _keep_only(claims: int) -> None:
    """Bench data only: taking the newest claims out of the run keeps exactly `claims` in it."""
    ready = list(db.session.scalars(select(Claim.id).where(Claim.status == ClaimStatus.READY).order_by(Claim.id)))
    surplus = ready[claims:]
    for start in range(0, len(surplus), 10_000):
        db.session.execute(update(Claim).where(any_of(Claim.id, surplus[start:start + 10_000]))
                           .values(status=ClaimStatus.SUBMITTED))


def _save_rules() -> int:
    with unit_of_work():
        load_defaults(actor=ACTOR)
        for doc in EXTRA_RULES:
            save_rule(doc, actor=ACTOR)
    return len(enabled_rules())


@dataclass(frozen=True)
class Run:
    """One committed run, measured in a process of its own (so peak RSS is the run's, not the seeding's)."""

    result: RunResult
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    load_average: float


def _run_in_child(url: str, mode: Mode, claim_ids: list[int] | None = None) -> Run:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        run = pool.submit(_timed_run, url, mode, claim_ids).result()
    print(f"{mode.label}: {run.seconds:.1f} s ({run.cpu_seconds:.1f} s CPU, peak RSS {run.peak_rss_mb:.0f} MB, "
          f"load average {run.load_average:.1f}); {run.result.summary()}")
    return run


def _timed_run(url: str, mode: Mode, claim_ids: list[int] | None = None) -> Run:
    """One committed billing run in a fresh app context, as the CLI does it."""
    with tempfile.TemporaryDirectory(prefix="claimdesk-bench-rules-run-") as tmp:
        app = _app(url, tmp)
        with app.app_context():
            started, cpu = time.perf_counter(), time.process_time()
            with unit_of_work():
                result = run_rules(actor=ACTOR, engine=mode.engine, chunk_size=mode.chunk_size, claim_ids=claim_ids)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            db.session.remove()
            db.engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Run(result, seconds, cpu, peak, os.getloadavg()[0])


def _sample(url: str, claims: int) -> list[int]:
    """Every 50th claim, and never more than about 2,000: the naive run costs several ms a claim."""
    every = max(NAIVE_SAMPLE_EVERY, claims // 2000)
    with tempfile.TemporaryDirectory() as tmp, _app(url, tmp).app_context():
        ids = [claim_id for claim_id, _ in candidate_claims()][::every]
        db.session.remove()
        db.engine.dispose()
    return ids


def _same_results(urls: list[str], results: list[RunResult], claim_ids: list[int] | None = None) -> None:
    """The runs must leave the same open outcomes and claim statuses (on the sampled claims, if sampled)."""
    if claim_ids is None and len({repr(r.as_dict() | {"run": 0}) for r in results}) != 1:
        raise SystemExit("the runs reported different counts")
    snapshots = [_snapshot(each, claim_ids) for each in urls]
    if any(snapshot != snapshots[0] for snapshot in snapshots):
        raise SystemExit("the runs disagree: the compiled path and run_all left different outcomes")
    print(f"the runs left the same {len(snapshots[0][0]):,} outcomes and claim statuses")


def _snapshot(url: str, claim_ids: list[int] | None) -> tuple[set[Any], dict[Any, int]]:
    outcome_query = select(RuleOutcome.claim_id, RuleOutcome.rule_id, RuleOutcome.kind, RuleOutcome.reason,
                           RuleOutcome.delay_until, RuleOutcome.placed_hold)
    status_query = select(Claim.status, func.count()).group_by(Claim.status)
    if claim_ids is not None:
        outcome_query = outcome_query.where(any_of(RuleOutcome.claim_id, claim_ids))
        status_query = select(Claim.id, Claim.status).where(any_of(Claim.id, claim_ids))
    with tempfile.TemporaryDirectory() as tmp, _app(url, tmp).app_context():
        outcomes = {tuple(row) for row in db.session.execute(outcome_query)}
        statuses = {key: value for key, value in db.session.execute(status_query)}
        db.session.remove()
        db.engine.dispose()
    return outcomes, statuses


def _phases(claims: int) -> tuple[float, float, float]:
    """Loading facts, then evaluating them compiled and through run_all (nothing written), chunk by chunk.

    Past 100,000 claims run_all evaluates every n-th chunk only, projected to all (it takes 200 µs a claim).
    """
    ids = [claim_id for claim_id, _ in candidate_claims()]
    today = date.today()
    stored = enabled_rules()
    evaluators = [evaluator_for(stored, engine=engine)[1] for engine in (COMPILED, BUSINESS_RULES)]
    every = max(1, math.ceil(claims / DEFAULT_CLAIMS))
    load_seconds = compiled_seconds = reference_seconds = 0.0
    reference_claims = 0
    gc.disable()  # as in run_rules: every collection would walk the chunk's facts
    for number, start in enumerate(range(0, len(ids), CHUNK)):
        started = time.perf_counter()
        facts = list(load_facts(ids[start:start + CHUNK], today).values())
        load_seconds += time.perf_counter() - started
        compiled_seconds += _time(lambda facts=facts: [evaluators[0](f) for f in facts])
        if number % every == 0:
            reference_seconds += _time(lambda facts=facts: [evaluators[1](f) for f in facts])
            reference_claims += len(facts)
    gc.enable()
    reference_seconds *= len(ids) / max(reference_claims, 1)
    print(f"phases over {len(ids):,} claims: load facts {load_seconds:.2f} s, evaluate compiled "
          f"{compiled_seconds:.2f} s, evaluate run_all {reference_seconds:.2f} s"
          + (f" (projected from {reference_claims:,} claims)" if every > 1 else ""))
    return load_seconds, compiled_seconds, reference_seconds


def _time(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _report(result: Result) -> None:
    target = TARGET_SECONDS.get(result.claims)
    met = "meets" if target and result.compiled_seconds <= target else "MISSES"
    verdict = f" ({met} the {target:.0f} s target)" if target else ""
    speed = "meets" if result.speedup >= TARGET_SPEEDUP else "MISSES"
    print(f"{result.rules} rules over {result.claims:,} Ready claims on {result.backend}, end to end "
          "(load, evaluate, write):")
    print(f"  compiled run:             {result.compiled_seconds:6.1f} s{verdict}; {result.compiled.cpu_seconds:.1f} s "
          f"CPU, peak RSS {result.compiled.peak_rss_mb:.0f} MB, load average {result.compiled.load_average:.1f}")
    if result.batched:
        print(f"  run_all on batched facts: {result.batched.seconds:6.1f} s -> compiled is "
              f"{result.batched.seconds / result.compiled_seconds:.1f}x faster")
    print(f"  run_all claim by claim:   {result.naive_seconds:6.1f} s (projected from {result.naive_sample:,} claims "
          f"in {result.naive_sample_seconds:.1f} s) -> compiled is {result.speedup:.1f}x faster "
          f"({speed} the {TARGET_SPEEDUP:.0f}x target)")
    print(f"  evaluation alone: compiled {result.evaluate_compiled_seconds:.2f} s, run_all "
          f"{result.evaluate_reference_seconds:.2f} s -> {result.evaluation_speedup:.1f}x; "
          f"loading facts {result.load_seconds:.2f} s")


def _update_results(result: Result) -> None:
    """Replace this backend-and-size row in the RESULTS.md section, keeping every other row."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    if BEGIN not in text:
        text = text.rstrip("\n") + "\n\n" + _section_intro() + f"{BEGIN}\n{HEADER}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    body, tail = rest.split(END, 1)
    row = result.table_row()
    # Rows in the old layout (before the RSS and load columns) are dropped rather than misaligned.
    rows = [r for r in body.strip().splitlines()[2:]
            if r.startswith("|") and r.count("|") == row.count("|") and _row_key(r) != _row_key(row)]
    rows = sorted([*rows, row], key=_row_key)
    RESULTS.write_text(f"{head}{BEGIN}\n{HEADER}\n" + "\n".join(rows) + f"\n{END}{tail}")
    print(f"updated {RESULTS.relative_to(ROOT)}")


def _row_key(row: str) -> tuple[str, int]:
    cells = [c.strip() for c in row.strip("|").split("|")]
    return cells[0].split()[0], int(cells[1].replace(",", ""))


def _section_intro() -> str:
    return INTRO + "```sh\n" + COMMANDS + "```\n\n" + COMMENTARY


INTRO = (
    "## Rules: a billing run of 20 rules over 100,000 and 1,000,000 Ready claims\n\n"
    "`benchmarks/bench_rules.py` seeds the demo practice on a fresh SQLite file, or with `--database-url` on "
    "PostgreSQL (migrations, then `seed_demo`), until it holds 100,000 Ready claims (`--seed-claims`). Past "
    "that (`--claims 1000000`) it copies the seeded clients, their authorizations, claims, lines and diagnoses "
    "with INSERT ... SELECT, each copy billing its own clients, because `seed_demo` at that size would take "
    "hours on this machine. It saves the seven default rules and thirteen more (every variable type, nested "
    "groups, all four actions) and copies the database (file copy, or CREATE DATABASE ... TEMPLATE), so each "
    "run starts from identical data. Each run is timed, committed, end to end (load facts, evaluate, write "
    "failed charges, holds and delays) in a process of its own, so *Peak RSS* is the run's: the production "
    "`run_rules()` (claims read in keyset chunks of 2,000, only the facts the rules read, rules compiled "
    "once); the same run evaluating every claim through business-rules' `run_all` (not run at 1,000,000: "
    "*not run*); and the naive run the issue warns against, `run_all` with facts read and outcomes written "
    "claim by claim, on every 50th claim (at most about 2,000) and projected. The runs must leave identical "
    "outcomes or the script fails. The phase columns time loading the facts and evaluating them both ways, "
    "with nothing written (run_all on every tenth chunk at 1,000,000, projected). *Load avg* is the "
    "machine's 1-minute load average when the compiled run ended: the machine has 2 cores and was shared "
    "with other sessions, so compare *of which CPU* (the run's own process; on PostgreSQL the server's work "
    "is not in it) as much as the wall clock. Targets: 15 s at 100,000 claims, 90 s at 1,000,000 (issue 20), "
    "and at least 5x faster than calling `run_all` per claim. *Seed (s)* on PostgreSQL: `seed_demo` for "
    "100,000 claims took 591 s (at load 14); the 1,000,000-claim database is that one grown by 424 s of bulk "
    "copies (`--reuse`).\n\n"
)
COMMANDS = (
    ".venv/bin/python benchmarks/bench_rules.py\n"
    "nice -n 10 .venv/bin/python benchmarks/bench_rules.py --database-url "
    "postgresql+psycopg://postgres@127.0.0.1/hrules_bench --keep\n"
    "nice -n 10 .venv/bin/python benchmarks/bench_rules.py --database-url "
    "postgresql+psycopg://postgres@127.0.0.1/hrules_bench --reuse --claims 1000000 --skip-batched\n"
)


COMMENTARY = (
    "How to read it: the 2026-12-04 rows were measured while other sessions' tests and benchmarks shared the "
    "2 cores (load average 14-27), so a run's process got as little as a twentieth of a core: the wall clock "
    "there mostly measures the queue for the CPU, and *of which CPU* is the comparable figure. The "
    "2026-12-01 SQLite row is from before the issue-20 work, on another machine (Intel) with one rule fewer "
    "and older layout (no RSS or load columns): compare it with care. Side by "
    "side on SQLite with 20,000 Ready claims, the run's own CPU went from 8.5 s to 1.5 s: the duplicate check "
    "had read every claim of the service day (SQLite chose ix_claim_dashboard for it, 1.2 s a chunk and growing "
    "with the day's volume) until the index on claim (client, service date); and a run now reads only the facts "
    "its rules read, fetches each chunk's rows at once and writes outcomes, checks and delay history with "
    "table-level bulk INSERTs. Memory stays flat whatever the count: claims are read chunk by chunk (keyset "
    "on the id), and the cycles a chunk leaves are collected after it (before that, on PostgreSQL, peak RSS "
    "grew by about 3 MB a chunk: 378 MB at 100,000 claims). "
    "Against `run_all` called claim by claim the run is 80-370x faster; evaluation alone is "
    "8-10x faster than `run_all` on the same facts. At 1,000,000 claims on PostgreSQL the 90 s target is "
    "missed as measured: 1,220 s wall for 81.5 s of the run's own CPU at load 21; its phases, measured "
    "afterwards while the load fell to about 5, took 169 s to load the facts and 28 s to evaluate them "
    "(nothing written). The 100,000-claim PostgreSQL row was measured at load 4-5: 19.4 s wall for 6.9 s of "
    "client CPU, so about two thirds of the run is the database answering; ten times that, about 190 s, is "
    "still twice the 1,000,000-claim target. Reading facts from PostgreSQL, not evaluating rules, is what "
    "remains to shorten. The SQLite run's peak RSS (371 MB against 186 MB on PostgreSQL) is not explained "
    "yet.\n\n"
)


if __name__ == "__main__":
    raise SystemExit(main())
