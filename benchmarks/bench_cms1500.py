"""CMS-1500 benchmark: 1,000 paper claims of two lines printed as one 1,000-page PDF, on SQLite.

    .venv/bin/python benchmarks/bench_cms1500.py              # 1,000 claims = 1,000 pages
    .venv/bin/python benchmarks/bench_cms1500.py --claims 200

The practice and claims are the submissions benchmark's (bench_submissions.py: a third of the claims
for a child on a parent's policy), with the payer switched to paper. Timed, each the median of three
runs after a warm-up:

- facts: loading the claims into claim facts (`claim_facts`), as the 837P writer gets them;
- pages and PDF: the boxes of every page (`pages_for`) and the reportlab file (`render`), data-only
  and plain-paper apart;
- end to end, once: `print_claims` in a unit of work, as `flask claims print` and the Print claims
  page run it (the rules' billing run first, then facts, pages, PDF and history).

Target: the 1,000 pages in at most 10 s end to end.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_submissions import _build_practice, _sqlite_version  # noqa: E402 - the same practice and claims
from harness import median_seconds, scratch_app, update_section  # noqa: E402 - benchmarks/ is the script's own folder
from machine import machine_label  # noqa: E402 - benchmarks/ is the script's own folder
from sqlalchemy import select  # noqa: E402

from billing.claims.models import Claim  # noqa: E402
from billing.core.audit import Actor  # noqa: E402
from billing.core.db import db  # noqa: E402
from billing.core.unit_of_work import unit_of_work  # noqa: E402
from billing.coverage.models import ClaimChannel, Payer  # noqa: E402
from billing.submissions.loading import claim_facts  # noqa: E402
from billing.submissions.paper.boxes import pages_for  # noqa: E402
from billing.submissions.paper.printing import print_claims  # noqa: E402
from billing.submissions.paper.render import Layout, Mode, render  # noqa: E402

HEADER = (
    "| Backend | Claims | Pages | PDF (KB) | Facts (s) | Pages + PDF, data only (s) | Pages + PDF, plain paper (s) "
    "| print_claims end to end (s) | Target | Machine | Date |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|"
)
RUNS = 3
TARGET_SECONDS = 10.0
ACTOR = Actor.system("bench")
PRINTED_ON = date(2026, 6, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=1000, help="Ready claims to print (default 1,000)")
    claims = parser.parse_args(argv).claims
    with scratch_app():
        with unit_of_work():
            payer_id = _build_practice(claims)
            db.session.get(Payer, payer_id).claim_channel = ClaimChannel.PAPER
        result = _measure(payer_id)
    _report(result)
    update_section("bench_cms1500", HEADER, _intro, [_row(result)])
    return 0


def _measure(payer_id: int) -> dict[str, Any]:
    ids = list(db.session.scalars(select(Claim.id).where(Claim.payer_id == payer_id).order_by(Claim.id)))
    facts_seconds, loaded = median_seconds(lambda: claim_facts(dict.fromkeys(ids, "1")), RUNS)
    if loaded.problems:
        raise SystemExit(f"the bench claims have problems: {next(iter(loaded.problems.values()))}")

    def pdf(mode: Mode) -> bytes:
        return render([page for facts in loaded.facts for page in pages_for(facts, PRINTED_ON)], Layout(mode))

    data_seconds, data_pdf = median_seconds(lambda: pdf(Mode.DATA), RUNS)
    plain_seconds, _ = median_seconds(lambda: pdf(Mode.PLAIN), RUNS)
    started = time.perf_counter()
    with unit_of_work():
        printed = print_claims(actor=ACTOR, payer_id=payer_id, layout=Layout())
    end_to_end = time.perf_counter() - started
    if len(printed.claims) != len(ids):
        raise SystemExit(f"only {len(printed.claims)} of {len(ids)} claims printed: {printed.left_out[:3]}")
    return {"claims": len(ids), "pages": printed.pages, "kb": len(data_pdf) / 1024, "facts": facts_seconds,
            "data": data_seconds, "plain": plain_seconds, "end_to_end": end_to_end,
            "backend": f"SQLite {_sqlite_version()}"}  # fmt: skip


def _verdict(r: dict[str, Any]) -> str:
    return f"≤ {TARGET_SECONDS:g} s: {'met' if r['end_to_end'] <= TARGET_SECONDS else 'missed'}"


def _report(r: dict[str, Any]) -> None:
    print(f"{r['backend']}: {r['claims']:,} claims, {r['pages']:,} pages, {r['kb']:,.0f} KB")
    print(f"  facts {r['facts']:.3f} s; pages + PDF {r['data']:.3f} s data only, {r['plain']:.3f} s plain paper")
    print(f"  print_claims end to end {r['end_to_end']:.3f} s; target: {_verdict(r)}")


def _row(r: dict[str, Any]) -> str:
    return (
        f"| {r['backend']} | {r['claims']:,} | {r['pages']:,} | {r['kb']:,.0f} | {r['facts']:.3f} | {r['data']:.3f} | "
        f"{r['plain']:.3f} | {r['end_to_end']:.2f} | {_verdict(r)} | {machine_label()} | {date.today():%Y-%m-%d} |"
    )


def _intro() -> str:
    text = (
        "`benchmarks/bench_cms1500.py` builds the submissions benchmark's practice (a third of the claims for a "
        "child on a parent's policy) with the payer set to paper, then times, as the median of three runs after "
        "a warm-up, loading 1,000 two-line claims into claim facts and turning them into a 1,000-page CMS-1500 "
        "PDF with reportlab (data only, and plain paper with the boxes drawn); then `print_claims` once end to "
        "end (the rules' billing run, facts, pages, PDF and history, committed). Target: 1,000 pages in at most "
        "10 s end to end."
    )
    command = "```sh\n.venv/bin/python benchmarks/bench_cms1500.py\n```"
    return f"## Paper claims: 1,000 CMS-1500 pages\n\n{text}\n\n{command}\n\n"


if __name__ == "__main__":
    raise SystemExit(main())
