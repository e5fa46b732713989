"""Acknowledgments benchmark: a 999 and a 277CA answering a 5,000-claim batch, each imported end to end.

    .venv/bin/python benchmarks/bench_acks.py                 # 5,000 claims per batch, SQLite temp file
    .venv/bin/python benchmarks/bench_acks.py --claims 1000

A fresh SQLite database is built with the migrations and the submissions bench's practice (500 insured
clients, two-line claims). Two batches of `--claims` claims each are created with `create_batches` and
marked sent, then three files are imported through `import_x12` (the door `flask edi import`, the upload
page and the collect-responses job share), each in its own committed unit of work, timed once:

- a 999 accepting every transaction of batch 1 (AK9*A);
- a 277CA for batch 1: 95% of the claims accepted (A2:20, REF*1K payer claim number stored), 5% rejected
  (A7:562:85), so those claims become Rejected with history;
- a 999 rejecting batch 2's transaction with 50 IK3/IK4 errors traced through the segment map: every claim
  of batch 2 becomes Rejected, the 50 named claims with their errors.

Target (issue 15): each imports in at most 3 s on SQLite.
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
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_submissions import _build_practice, _sqlite_version  # noqa: E402
from harness import scratch_app, update_section  # noqa: E402 - benchmarks/ is the script's own folder
from machine import machine_label  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from billing.claims.models import Claim  # noqa: E402
from billing.claims.statuses import ClaimStatus  # noqa: E402
from billing.core.audit import Actor  # noqa: E402
from billing.core.db import db  # noqa: E402
from billing.core.unit_of_work import unit_of_work  # noqa: E402
from billing.submissions.inbound import import_x12  # noqa: E402
from billing.submissions.models import BatchClaim, SubmissionBatch  # noqa: E402
from billing.submissions.operations import create_batches, mark_batch_sent  # noqa: E402
from demo.ack_writer import Answer, ClaimAnswer, Error, write_277ca, write_999  # noqa: E402

HEADER = (
    "| Backend | Claims in batch | File | Segments | Accepted | Rejected | Import end to end (s) | Target "
    "| Machine | Date |\n"
    "|---|---:|---|---:|---:|---:|---:|---|---|---|"
)
TARGET_SECONDS = 3.0
ERRORS_IN_REJECTED_999 = 50
ACTOR = Actor.system("bench")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=5000, help="claims per batch (default 5,000)")
    claims = parser.parse_args(argv).claims
    with scratch_app():
        with unit_of_work():
            payer_id = _build_practice(2 * claims)
        first, second = _sent_batches(payer_id, claims)
        rows = _measure(first, second)
    for row in rows:
        print(f"{row['file']}: {row['seconds']:.2f} s ({row['accepted']:,} accepted, {row['rejected']:,} rejected, "
              f"{row['segments']:,} segments) - {_verdict(row)}")  # fmt: skip
    update_section("bench_acks", HEADER, _intro, [_row(r) for r in rows], key_cells=3)
    return 0


def _sent_batches(payer_id: int, claims: int) -> tuple[int, int]:
    ids = list(db.session.scalars(select(Claim.id).where(Claim.payer_id == payer_id).order_by(Claim.id)))
    batch_ids = []
    for chunk in (ids[:claims], ids[claims:]):
        with unit_of_work():
            [batch] = create_batches(actor=ACTOR, payer_id=payer_id, claim_ids=chunk)
            batch_ids.append(batch.id)
        with unit_of_work():
            mark_batch_sent(batch_ids[-1], actor=ACTOR, sent_on=date.today())
    return batch_ids[0], batch_ids[1]


def _files(first_id: int, second_id: int) -> list[tuple[str, bytes]]:
    first, second = db.session.get(SubmissionBatch, first_id), db.session.get(SubmissionBatch, second_id)
    in_first = (select(Claim).join(BatchClaim, BatchClaim.claim_id == Claim.id)
                .where(BatchClaim.batch_id == first_id).order_by(BatchClaim.position))
    numbers = [c.number for c in db.session.scalars(in_first)]
    answers = [ClaimAnswer(number, "A7", "562", "85") if n % 20 == 0 else
               ClaimAnswer(number, "A2", "20", "", f"PCN{n:09d}") for n, number in enumerate(numbers)]
    entries = list(db.session.scalars(select(BatchClaim).where(BatchClaim.batch_id == second_id)
                                      .order_by(BatchClaim.position)))
    step = max(1, len(entries) // ERRORS_IN_REJECTED_999)
    errors = [Error("NM1", e.first_segment + 1, "8", [("9", "67", "7", "BADID")])
              for e in entries[::step][:ERRORS_IN_REJECTED_999]]
    control = entries[0].transaction_control
    return [
        ("999 accepted", write_999(first)),
        ("277CA 95% A2 / 5% A7", write_277ca(first, answers)),
        (f"999 rejected, {len(errors)} IK3 errors", write_999(second, {control: Answer("R", errors, ("5",))})),
    ]


def _measure(first_id: int, second_id: int) -> list[dict[str, Any]]:
    rows = []
    for label, data in _files(first_id, second_id):
        db.session.expire_all()
        started = time.perf_counter()
        with unit_of_work():
            imported = import_x12(data, filename=f"{label}.x12", actor=ACTOR)
            result = imported.result.as_dict()
        seconds = time.perf_counter() - started
        rows.append({"file": label, "seconds": seconds, "accepted": result["accepted"], "rejected": result["rejected"],
                     "segments": data.count(b"~"), "claims": _batch_size(first_id)})  # fmt: skip
    rejected = db.session.scalar(select(func.count()).select_from(Claim).where(Claim.status == ClaimStatus.REJECTED))
    expected = sum(r["rejected"] for r in rows)
    if rejected != expected:
        raise SystemExit(f"{rejected} claims are Rejected, the files rejected {expected}")
    return rows


def _batch_size(batch_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(BatchClaim).where(BatchClaim.batch_id == batch_id))


def _verdict(row: dict[str, Any]) -> str:
    return f"≤ {TARGET_SECONDS:.0f} s: {'met' if row['seconds'] <= TARGET_SECONDS else 'missed'}"


def _row(r: dict[str, Any]) -> str:
    return (f"| SQLite {_sqlite_version()} | {r['claims']:,} | {r['file']} | {r['segments']:,} | {r['accepted']:,} | "
            f"{r['rejected']:,} | {r['seconds']:.2f} | {_verdict(r)} | {machine_label()} | {date.today():%Y-%m-%d} |")


def _intro() -> str:
    text = (
        "`benchmarks/bench_acks.py` builds a fresh SQLite database with the migrations, sends two batches of "
        "5,000 two-line claims, then imports through `import_x12` (what `flask edi import`, the upload page and "
        "the collect-responses job call), each in its own committed transaction and timed once: a 999 accepting "
        "batch 1, a 277CA for batch 1 (95% A2 with a payer claim number, 5% A7 rejections), and a 999 rejecting "
        "batch 2's transaction with 50 errors traced to their claims. Target: each at most 3 s."
    )
    return f"## Acknowledgments: 999 and 277CA for a 5,000-claim batch\n\n{text}\n\n```sh\n" \
           ".venv/bin/python benchmarks/bench_acks.py\n```\n\n"


if __name__ == "__main__":
    raise SystemExit(main())
