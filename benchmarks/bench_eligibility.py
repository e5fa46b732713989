"""Eligibility benchmark: a 500-member 270 built and recorded, its 271 read and stored, on SQLite.

    .venv/bin/python benchmarks/bench_eligibility.py                # 500 members, SQLite temp file
    .venv/bin/python benchmarks/bench_eligibility.py --members 2000

A fresh SQLite database is built with the migrations and the submissions bench's practice (500 insured clients,
a third of them dependents of their subscriber). Timed once each, in committed units of work:

- build: `request_checks` for every policy (one 270 per clearinghouse, a pending check and a history row per
  policy; the sender keeps the file instead of uploading it);
- import: the demo payer's 271 answering it (every member active with PT benefits: copay, coinsurance,
  deductible, out-of-pocket, visit limit and visits left) through `import_x12`, the door the collect-responses
  job and `flask edi import` use: an answer and its benefits stored per member.

Also timed, outside the target: x12sdk 2.2.0 validating the 270 and reading a 271 of the same members without
visit limits (it refuses EB09 "VS"; see README), for the library evaluation.

Target (issue 19): build + import at most 3 s on SQLite.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_submissions import _build_practice, _sqlite_version  # noqa: E402
from harness import scratch_app, update_section  # noqa: E402 - benchmarks/ is the script's own folder
from machine import machine_label  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from billing.core.audit import Actor  # noqa: E402
from billing.core.db import db  # noqa: E402
from billing.core.unit_of_work import unit_of_work  # noqa: E402
from billing.coverage.eligibility import EligibilityBenefit, EligibilityCheck  # noqa: E402
from billing.coverage.models import InsurancePolicy  # noqa: E402
from billing.edi.x12sdk_io import read_transactions, transaction_problems  # noqa: E402
from billing.submissions.eligibility import CheckRequest, request_checks  # noqa: E402
from billing.submissions.inbound import import_x12  # noqa: E402
from demo.eligibility import PayerSays, write_271  # noqa: E402

HEADER = (
    "| Backend | Members | Build 270 + pending checks (s) | Import 271 (s) | Total (s) | Benefits stored | Target "
    "| x12sdk: validate 270 (s) | x12sdk: read 271 without EB09 (s) | Machine | Date |\n"
    "|---|---:|---:|---:|---:|---:|---|---:|---:|---|---|"
)
TARGET_SECONDS = 3.0
ACTOR = Actor.system("bench")
SERVICE_DAY = date.today() + timedelta(days=3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=500, help="policies asked about (default 500)")
    members = parser.parse_args(argv).members
    with scratch_app():
        with unit_of_work():
            _build_practice(1)
            _more_policies(members)
        row = _measure(members)
    print(f"{members:,} members: 270 built in {row['build']:.2f} s, 271 imported in {row['import']:.2f} s, "
          f"total {row['build'] + row['import']:.2f} s - {_verdict(row)}; x12sdk validated the 270 in "
          f"{row['sdk_270']:.2f} s and read the 271 in {row['sdk_271']:.2f} s")  # fmt: skip
    update_section("bench_eligibility", HEADER, _intro, [_row(row)], key_cells=2)
    return 0


def _more_policies(members: int) -> None:
    """The practice has 500 policies; a larger run asks about some of them on several service dates."""
    have = db.session.scalar(select(func.count()).select_from(InsurancePolicy))
    if members > have * 4:
        raise SystemExit(f"at most {have * 4:,} members (4 service dates per policy)")


def _requests(members: int) -> list[CheckRequest]:
    ids = list(db.session.scalars(select(InsurancePolicy.id).order_by(InsurancePolicy.id)))
    return [CheckRequest(ids[n % len(ids)], SERVICE_DAY + timedelta(days=n // len(ids))) for n in range(members)]


def _measure(members: int) -> dict[str, Any]:
    requests = _requests(members)
    sent: list[str] = []
    db.session.expire_all()
    started = time.perf_counter()
    report = request_checks(requests, actor=ACTOR, sender=lambda house, name, content: sent.append(content.decode()))
    build = time.perf_counter() - started
    if report.asked != members or len(sent) != 1:
        raise SystemExit(f"asked {report.asked} of {members} in {len(sent)} file(s): {report.summary()}")
    says = PayerSays()
    answer = write_271(sent[0], lambda trace, member: says).encode("ascii")
    db.session.expire_all()
    started = time.perf_counter()
    with unit_of_work():
        imported = import_x12(answer, filename="bench.271", actor=ACTOR)
        recorded = len(imported.result.recorded)
    seconds = time.perf_counter() - started
    benefits = db.session.scalar(select(func.count()).select_from(EligibilityBenefit))
    answered = db.session.scalar(select(func.count()).select_from(EligibilityCheck)
                                 .where(EligibilityCheck.answers_id.is_not(None)))  # fmt: skip
    if recorded != members or answered != members:
        raise SystemExit(f"{recorded} answers recorded, {answered} stored, for {members} members")
    started = time.perf_counter()
    problems = transaction_problems(sent[0], "270")
    sdk_270 = time.perf_counter() - started
    if problems:
        raise SystemExit(f"x12sdk refuses the 270: {problems[0]}")
    plain = write_271(sent[0], lambda trace, member: PayerSays(visits_limit=None, visits_remaining=None))
    started = time.perf_counter()
    read_transactions(plain, "271")
    sdk_271 = time.perf_counter() - started
    return {"members": members, "build": build, "import": seconds, "benefits": benefits, "sdk_270": sdk_270,
            "sdk_271": sdk_271}  # fmt: skip


def _verdict(row: dict[str, Any]) -> str:
    return f"≤ {TARGET_SECONDS:.0f} s: {'met' if row['build'] + row['import'] <= TARGET_SECONDS else 'missed'}"


def _row(r: dict[str, Any]) -> str:
    return (f"| SQLite {_sqlite_version()} | {r['members']:,} | {r['build']:.2f} | {r['import']:.2f} | "
            f"{r['build'] + r['import']:.2f} | {r['benefits']:,} | {_verdict(r)} | {r['sdk_270']:.2f} | "
            f"{r['sdk_271']:.2f} | {machine_label()} | {date.today():%Y-%m-%d} |")  # fmt: skip


def _intro() -> str:
    text = (
        "`benchmarks/bench_eligibility.py` builds a fresh SQLite database with the migrations and 500 insured "
        "clients, then times once each: `request_checks` writing one 270 for every policy with a pending check "
        "and a history row each (the file kept, not uploaded), and `import_x12` reading the 271 that answers it "
        "and storing each member's answer with its PT and plan benefits. Also timed, outside the target: x12sdk "
        "2.2.0 validating the 270 and reading the same members' 271 without visit limits. Target: build + import "
        "at most 3 s."
    )
    return (
        f"## Eligibility: a 500-member 270 and its 271\n\n{text}\n\n```sh\n"
        ".venv/bin/python benchmarks/bench_eligibility.py\n```\n\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
