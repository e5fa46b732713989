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
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402 - after the path fix, so the script runs from anywhere
from flask import Flask  # noqa: E402
from machine import machine_label  # noqa: E402 - benchmarks/ is the script's own folder
from sqlalchemy import func, select, update  # noqa: E402

from app import create_app  # noqa: E402
from billing.claims.models import Claim  # noqa: E402
from billing.claims.statuses import ClaimStatus  # noqa: E402
from billing.core.audit import Actor  # noqa: E402
from billing.core.db import db  # noqa: E402
from billing.core.unit_of_work import unit_of_work  # noqa: E402
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
DEFAULT_CLAIMS = 100_000  # only this size is recorded in RESULTS.md
TARGET_SECONDS = 15.0
TARGET_SPEEDUP = 5.0
HEADER = (
    "| Backend | Ready claims | Rules | Seed (s) | Run, compiled (s) | of which CPU (s) "
    "| Run, run_all on batched facts (s) | Speed-up "
    "| Run, run_all claim by claim (s, projected) | Speed-up | Load facts (s) | Evaluate compiled (s) "
    "| Evaluate run_all (s) | Speed-up, evaluation | Outcomes written | Machine | Date |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
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
    claims: int
    rules: int
    seed_seconds: float
    compiled_seconds: float
    compiled_cpu_seconds: float
    batched_seconds: float
    naive_sample: int
    naive_sample_seconds: float
    load_seconds: float
    evaluate_compiled_seconds: float
    evaluate_reference_seconds: float
    outcomes: int

    @property
    def naive_seconds(self) -> float:
        """The naive run's measured cost per claim, times the claims the full run checked."""
        return self.naive_sample_seconds / self.naive_sample * self.claims

    @property
    def speedup(self) -> float:
        return self.naive_seconds / self.compiled_seconds

    @property
    def batched_speedup(self) -> float:
        return self.batched_seconds / self.compiled_seconds

    @property
    def evaluation_speedup(self) -> float:
        return self.evaluate_reference_seconds / self.evaluate_compiled_seconds

    def table_row(self) -> str:
        machine = machine_label()
        return (
            f"| SQLite {sqlite3.sqlite_version} | {self.claims:,} | {self.rules} | {self.seed_seconds:.1f} | "
            f"{self.compiled_seconds:.1f} | {self.compiled_cpu_seconds:.1f} | "
            f"{self.batched_seconds:.1f} | {self.batched_speedup:.1f}x | "
            f"{self.naive_seconds:.0f} | {self.speedup:.0f}x | "
            f"{self.load_seconds:.1f} | {self.evaluate_compiled_seconds:.1f} | {self.evaluate_reference_seconds:.1f} | "
            f"{self.evaluation_speedup:.1f}x | {self.outcomes:,} | {machine} | {date.today():%Y-%m-%d} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=DEFAULT_CLAIMS, help="Ready claims to check (default 100,000)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="claimdesk-bench-rules-") as tmp:
        files = [Path(tmp) / f"{mode.name}.sqlite" for mode in MODES]
        app = _app(files[0], tmp)
        with app.app_context():
            flask_migrate.upgrade()
            seed_seconds = _seed(args.claims)
            rules = _save_rules()
            db.session.remove()
            db.engine.dispose()
        for copy in files[1:]:
            shutil.copyfile(files[0], copy)
        apps = [app, *(_app(path, tmp) for path in files[1:])]
        compiled, compiled_seconds, compiled_cpu = _timed_run(apps[0], COMPILED_RUN)
        batched, batched_seconds, _ = _timed_run(apps[1], BATCHED_RUN)
        _same_results(apps[:2], [compiled, batched])
        sample = _sample(apps[2])
        naive, naive_seconds, _ = _timed_run(apps[2], NAIVE_RUN, sample)
        _same_results(apps[::2], [naive], sample)
        with app.app_context():
            phases = _phases()
            outcomes = db.session.scalar(select(func.count()).select_from(RuleOutcome)) or 0
        for each in apps:
            with each.app_context():
                db.engine.dispose()
    result = Result(args.claims, rules, seed_seconds, compiled_seconds, compiled_cpu, batched_seconds, len(sample),
                    naive_seconds, *phases, outcomes)
    _report(result)
    if args.claims == DEFAULT_CLAIMS:
        _update_results(result)
    return 0


def _app(path: Path, instance: str) -> Flask:
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench-only",
                       "CLAIMDESK_DEMO": True}, instance_path=instance)


def _seed(claims: int) -> float:
    """The demo at the scale that bills at least `claims` Ready claims; the surplus is marked Submitted."""
    started = time.perf_counter()
    with unit_of_work():
        seed_demo(math.ceil(claims / READY_PER_COHORT), billing_history=False)  # Ready claims only
        ready = list(db.session.scalars(select(Claim.id).where(Claim.status == ClaimStatus.READY).order_by(Claim.id)))
        if len(ready) < claims:
            raise SystemExit(f"the seed billed only {len(ready):,} Ready claims; raise READY_PER_COHORT's margin")
        # Bench data only: taking the newest claims out of the run keeps exactly `claims` in it.
        surplus = ready[claims:]
        for start in range(0, len(surplus), CHUNK):
            db.session.execute(update(Claim).where(Claim.id.in_(surplus[start:start + CHUNK]))
                               .values(status=ClaimStatus.SUBMITTED))
    seconds = time.perf_counter() - started
    print(f"seeded {claims:,} Ready claims in {seconds:.1f} s")
    return seconds


def _save_rules() -> int:
    with unit_of_work():
        load_defaults(actor=ACTOR)
        for doc in EXTRA_RULES:
            save_rule(doc, actor=ACTOR)
    return len(enabled_rules())


def _timed_run(app: Flask, mode: Mode, claim_ids: list[int] | None = None) -> tuple[RunResult, float, float]:
    """One committed billing run in a fresh app context, as the CLI does it: wall and CPU seconds."""
    with app.app_context():
        started, cpu = time.perf_counter(), time.process_time()
        with unit_of_work():
            result = run_rules(actor=ACTOR, engine=mode.engine, chunk_size=mode.chunk_size, claim_ids=claim_ids)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        db.session.remove()
    print(f"{mode.label}: {seconds:.1f} s ({cpu:.1f} s CPU); {result.summary()}")
    return result, seconds, cpu


def _sample(app: Flask) -> list[int]:
    with app.app_context():
        ids = [claim_id for claim_id, _ in candidate_claims()][::NAIVE_SAMPLE_EVERY]
        db.session.remove()
    return ids


def _same_results(apps: list[Flask], results: list[RunResult], claim_ids: list[int] | None = None) -> None:
    """The runs must leave the same open outcomes and claim statuses (on the sampled claims, if sampled)."""
    if claim_ids is None and len({repr(r.as_dict() | {"run": 0}) for r in results}) != 1:
        raise SystemExit("the runs reported different counts")
    snapshots = [_snapshot(each, claim_ids) for each in apps]
    if any(snapshot != snapshots[0] for snapshot in snapshots):
        raise SystemExit("the runs disagree: the compiled path and run_all left different outcomes")
    print(f"the runs left the same {len(snapshots[0][0]):,} outcomes and claim statuses")


def _snapshot(app: Flask, claim_ids: list[int] | None) -> tuple[set[Any], dict[Any, int]]:
    outcome_query = select(RuleOutcome.claim_id, RuleOutcome.rule_id, RuleOutcome.kind, RuleOutcome.reason,
                           RuleOutcome.delay_until, RuleOutcome.placed_hold)
    status_query = select(Claim.status, func.count()).group_by(Claim.status)
    with app.app_context():
        outcomes = {row for row in db.session.execute(outcome_query) if claim_ids is None or row[0] in claim_ids}
        if claim_ids is not None:
            wanted = set(claim_ids)
            statuses = {cid: status for cid, status in db.session.execute(select(Claim.id, Claim.status))
                        if cid in wanted}
        else:
            statuses = dict(db.session.execute(status_query).all())
        db.session.remove()
    return outcomes, statuses


def _phases() -> tuple[float, float, float]:
    """Loading facts, then evaluating the same facts compiled and through run_all (nothing written)."""
    ids = [claim_id for claim_id, _ in candidate_claims()]
    today = date.today()
    gc.disable()  # as in run_rules: with 100,000 live facts every collection would walk them all
    started = time.perf_counter()
    facts = [f for start in range(0, len(ids), CHUNK) for f in load_facts(ids[start:start + CHUNK], today).values()]
    load_seconds = time.perf_counter() - started
    stored = enabled_rules()
    timings = []
    for engine in (COMPILED, BUSINESS_RULES):
        _, evaluate_claim = evaluator_for(stored, engine=engine)
        timings.append(_time(lambda evaluate_claim=evaluate_claim: [evaluate_claim(f) for f in facts]))
    gc.enable()
    print(f"phases over {len(facts):,} claims: load facts {load_seconds:.2f} s, evaluate compiled "
          f"{timings[0]:.2f} s, evaluate run_all {timings[1]:.2f} s")
    return load_seconds, timings[0], timings[1]


def _time(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _report(result: Result) -> None:
    verdict = "meets" if result.compiled_seconds <= TARGET_SECONDS else "MISSES"
    speed = "meets" if result.speedup >= TARGET_SPEEDUP else "MISSES"
    print(f"{result.rules} rules over {result.claims:,} Ready claims on SQLite, end to end (load, evaluate, write):")
    print(f"  compiled run:             {result.compiled_seconds:6.1f} s ({verdict} the {TARGET_SECONDS:.0f} s target; "
          f"{result.compiled_cpu_seconds:.1f} s CPU)")
    print(f"  run_all on batched facts: {result.batched_seconds:6.1f} s -> compiled is {result.batched_speedup:.1f}x "
          "faster")
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
    rows = [r for r in body.strip().splitlines()[2:] if r.startswith("|") and _row_key(r) != _row_key(row)]
    rows = sorted([*rows, row], key=_row_key)
    RESULTS.write_text(f"{head}{BEGIN}\n{HEADER}\n" + "\n".join(rows) + f"\n{END}{tail}")
    print(f"updated {RESULTS.relative_to(ROOT)}")


def _row_key(row: str) -> tuple[str, int]:
    cells = [c.strip() for c in row.strip("|").split("|")]
    return cells[0].split()[0], int(cells[1].replace(",", ""))


def _section_intro() -> str:
    return (
        "## Rules: a billing run of 20 rules over 100,000 Ready claims\n\n"
        "`benchmarks/bench_rules.py` seeds the demo practice on a fresh SQLite file (migrations, then "
        "`seed_demo`) until it holds 100,000 Ready claims, saves the seven default rules and thirteen more "
        "(every variable type, nested groups, all four actions) and copies the file, so each run below starts "
        "from identical data. In one process it times, each committed, end to end (load facts, evaluate, "
        "write failed charges, holds and delays): the production `run_rules()` (facts in set-based chunks of "
        "2,000 claims, rules validated and compiled once); the same run evaluating every claim through "
        "business-rules' `run_all` (same loading and writing); and the naive run the issue warns against, "
        "`run_all` with facts read and outcomes written claim by claim, measured on every 50th claim (several "
        "ms a claim) and projected to 100,000. The runs must leave identical outcomes or the script fails. "
        "The phase columns time loading the facts and evaluating them both ways, with nothing written. "
        "Targets: the compiled run within 15 s, and at least 5x faster than calling `run_all` per claim.\n\n"
        "```sh\n.venv/bin/python benchmarks/bench_rules.py\n```\n\n"
        + COMMENTARY
    )


COMMENTARY = (
    "How to read it: most of the compiled run is reading the facts (the *Load facts* column); evaluating "
    "20 rules over 100,000 claims takes one to three seconds. Against `run_all` called claim by claim, the naive "
    "path the issue describes (facts read and outcomes written per claim), the run is 80-100x faster, and "
    "evaluation alone is 8-12x faster than `run_all` on the same facts. Given the same set-based loading "
    "and bulk writing, a `run_all` run is only 2.5-3x slower end to end: loading and writing, identical in "
    "both, then dominate. So the 5x target holds against per-claim `run_all` and for evaluation, not against "
    "that hybrid. The machine is shared with other jobs; *of which CPU* is the process's own time.\n\n"
)



if __name__ == "__main__":
    raise SystemExit(main())
