"""Patient statement benchmark: a cycle of 1,000 statements (PDFs, mail CSV and history), on SQLite.

    .venv/bin/python benchmarks/bench_statements.py                  # 1,000 statements
    .venv/bin/python benchmarks/bench_statements.py --statements 200

The practice: 700 adults who pay for themselves and 300 families of two children with one parent as the
responsible party (1,300 clients, 1,000 responsible parties). Each client has two one-line claims a payer paid
with a 20.00 coinsurance (PR) each; every third client has paid 5.00 of it. Their ledger rows are inserted in bulk.
Timed:

- the cycle's data (`build_cycle`: balances, aging, dunning, activity for every party), median of three runs
  after a warm-up;
- end to end, once: `run_statement_files` in a unit of work, as `flask statements run` and the monthly job run
  it (data, one PDF per statement, the CSV, the history rows, committed).

Target: the 1,000 statements in at most 10 s end to end.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_submissions import _npi, _sqlite_version  # noqa: E402 - the same NPIs and version label
from harness import median_seconds, scratch_app, update_section  # noqa: E402 - benchmarks/ is the script's own folder
from machine import machine_label  # noqa: E402 - benchmarks/ is the script's own folder
from sqlalchemy import insert  # noqa: E402

from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine  # noqa: E402
from billing.claims.statuses import ClaimStatus  # noqa: E402
from billing.core.audit import Actor  # noqa: E402
from billing.core.db import db, insert_returning_ids  # noqa: E402
from billing.core.unit_of_work import unit_of_work  # noqa: E402
from billing.coverage.models import InsurancePolicy, Payer, PayerType, PolicyRank, ServiceCode  # noqa: E402
from billing.ledger.models import EntryKind, EntrySource, LedgerEntry  # noqa: E402
from billing.ledger.statements import build_cycle  # noqa: E402
from billing.org.models import Company, Location, Practice  # noqa: E402
from billing.people.models import Client, Provider, Sex  # noqa: E402
from exports.statements import run_statement_files  # noqa: E402

HEADER = (
    "| Backend | Statements | Clients | Ledger rows | Cycle data (s) | End to end with PDFs (s) | PDFs (MB) "
    "| Target | Machine | Date |\n"
    "|---|---:|---:|---:|---:|---:|---:|---|---|---|"
)
RUNS = 3
TARGET_SECONDS = 10.0
ACTOR = Actor.system("bench")
TODAY = date(2026, 6, 1)
CHARGE, PAID, CONTRACTUAL, COINSURANCE = Decimal("73.48"), Decimal("40.00"), Decimal("13.48"), Decimal("20.00")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--statements", type=int, default=1000, help="responsible parties (default 1,000)")
    count = parser.parse_args(argv).statements
    with scratch_app() as tmp:
        with unit_of_work():
            built = _build_practice(count)
        result = {**built, **_measure(tmp / "out", count)}
    _report(result)
    update_section("bench_statements", HEADER, _intro, [_row(result)])
    return 0


def _build_practice(parties: int) -> dict[str, int]:
    """`parties` responsible parties: 30% families of two children, the rest adults; two claims per client."""
    company = Company(legal_name="Bench Therapy Group LLC", tax_id="123456789", group_npi=_npi(900_001),
                      taxonomy_code="103K00000X", address_line1="100 Main St", city="Springfield", state="IL",
                      zip_code="627011234", pay_to_address_line1="PO Box 77", pay_to_city="Springfield",
                      pay_to_state="IL", pay_to_zip_code="62705")  # fmt: skip
    location = Location(practice=Practice(company=company, name="Bench"), name="North Clinic", place_of_service="11",
                        address_line1="200 Oak Ave", city="Springfield", state="IL", zip_code="62702")  # fmt: skip
    payer = Payer(company=company, name="Key Insurance", payer_type=PayerType.COMMERCIAL, edi_payer_id="KEY01",
                  claim_filing_indicator="CI", edi_enabled=False)
    code = ServiceCode(company=company, code="97153", description="Adaptive behavior treatment by protocol")
    provider = Provider(company=company, first_name="Pat", last_name="Provider", credentials="BCBA", npi=_npi(1),
                        taxonomy_code="103K00000X")
    families = parties * 3 // 10
    clients = [_client(location, i, family=i // 2 if i < 2 * families else None)
               for i in range(2 * families + parties - families)]
    policies = [InsurancePolicy(client=c, payer=payer, rank=PolicyRank.PRIMARY, member_id=f"M{i:08d}",
                                effective_on=date(2026, 1, 1)) for i, c in enumerate(clients)]  # fmt: skip
    db.session.add_all([company, location, payer, code, provider, *clients, *policies])
    db.session.flush()
    rows = _bulk_ledger(clients, policies, payer, code, provider, location)
    return {"clients": len(clients), "ledger_rows": rows}


def _client(location: Location, i: int, *, family: int | None) -> Client:
    street = f"{family + 1} Elm St" if family is not None else f"{i + 1} Oak Ave"
    return Client(location=location, account_number=f"S-{i:06d}", first_name=f"Sam{i}", last_name=f"Client{i:04d}",
                  date_of_birth=date(2016 if family is not None else 1980, 1, 1), sex=Sex.FEMALE,
                  responsible_party_name=f"Parent{family} Family" if family is not None else None,
                  address_line1=street, city="Springfield", state="IL", zip_code="62704")  # fmt: skip


def _bulk_ledger(clients: list[Client], policies: list[InsurancePolicy], payer: Payer, code: ServiceCode,
                 provider: Provider, location: Location) -> int:  # fmt: skip
    """Two paid claims per client with a coinsurance each; every third client paid 5.00 of it."""
    claims = []
    for i, (client, policy) in enumerate(zip(clients, policies, strict=True)):
        for n in (0, 1):
            claims.append({
                "status": ClaimStatus.PAID, "client_id": client.id, "policy_id": policy.id, "payer_id": payer.id,
                "rendering_provider_id": provider.id, "location_id": location.id,
                "service_date": date(2026, 1, 5) + timedelta(days=(i + 40 * n) % 120), "place_of_service": "11",
                "total_charge": CHARGE, "created_at": datetime.now(UTC),
            })  # fmt: skip
    ids = insert_returning_ids(Claim.__table__, claims)
    lines = [{"claim_id": claim_id, "line_number": 1, "service_code_id": code.id, "modifiers": "HN",
              "service_date": row["service_date"], "minutes": 60, "units": 4, "rate": Decimal("18.37"),
              "charge": CHARGE, "place_of_service": "11", "diagnosis_pointers": "1"}
             for claim_id, row in zip(ids, claims, strict=True)]  # fmt: skip
    line_ids = insert_returning_ids(ClaimLine.__table__, lines)
    db.session.execute(insert(ClaimDiagnosis), [{"claim_id": c, "position": 1, "code": "F840"} for c in ids])
    entries = []
    for number, (claim_id, line_id, row) in enumerate(zip(ids, line_ids, claims, strict=True)):
        day = row["service_date"]
        paid_on = day + timedelta(days=20)
        moves = [(EntryKind.CHARGE, CHARGE, day + timedelta(days=1)), (EntryKind.INSURANCE_PAYMENT, PAID, paid_on),
                 (EntryKind.CONTRACTUAL, CONTRACTUAL, paid_on),
                 (EntryKind.PATIENT_RESPONSIBILITY, COINSURANCE, paid_on)]
        if number % 6 == 0:  # the first claim of every third client
            moves.append((EntryKind.PATIENT_PAYMENT, Decimal("5.00"), day + timedelta(days=35)))
        entries += [{"claim_id": claim_id, "claim_line_id": line_id, "kind": kind, "amount": amount,
                     "posted_on": posted, "created_at": datetime.now(UTC), "actor": ACTOR.name,
                     "source": EntrySource.SYSTEM} for kind, amount, posted in moves]  # fmt: skip
    db.session.execute(insert(LedgerEntry), entries)
    return len(entries)


def _measure(out: Path, parties: int) -> dict[str, Any]:
    data_seconds, cycle = median_seconds(lambda: build_cycle(today=TODAY), RUNS)
    if len(cycle.statements) != parties:
        raise SystemExit(f"expected {parties} statements, built {len(cycle.statements)}")
    db.session.expire_all()
    started = time.perf_counter()
    with unit_of_work():
        files = run_statement_files(out, today=TODAY, actor=ACTOR)
    end_to_end = time.perf_counter() - started
    if files.cycle.recorded != parties or len(files.pdfs) != parties:
        raise SystemExit(f"recorded {files.cycle.recorded}, wrote {len(files.pdfs)} of {parties} statements")
    megabytes = sum(p.stat().st_size for p in files.pdfs) / 1024 / 1024
    return {"statements": parties, "data": data_seconds, "end_to_end": end_to_end, "mb": megabytes,
            "backend": f"SQLite {_sqlite_version()}"}


def _verdict(r: dict[str, Any]) -> str:
    return f"≤ {TARGET_SECONDS:g} s: {'met' if r['end_to_end'] <= TARGET_SECONDS else 'missed'}"


def _report(r: dict[str, Any]) -> None:
    print(f"{r['backend']}: {r['statements']:,} statements for {r['clients']:,} clients, {r['ledger_rows']:,} "
          f"ledger rows")
    print(f"  cycle data {r['data']:.3f} s; end to end with PDFs {r['end_to_end']:.3f} s "
          f"({r['mb']:.1f} MB of PDF); target: {_verdict(r)}")


def _row(r: dict[str, Any]) -> str:
    return (
        f"| {r['backend']} | {r['statements']:,} | {r['clients']:,} | {r['ledger_rows']:,} | {r['data']:.3f} | "
        f"{r['end_to_end']:.2f} | {r['mb']:.1f} | {_verdict(r)} | {machine_label()} | {date.today():%Y-%m-%d} |"
    )


def _intro() -> str:
    text = (
        "`benchmarks/bench_statements.py` builds 1,300 clients (700 adults and 300 families of two children with "
        "one parent) with two paid claims each and a coinsurance on each, then times the cycle's data "
        "(`build_cycle`: balances, aging, dunning and activity for 1,000 responsible parties; median of three "
        "after a warm-up) and once end to end `run_statement_files` (data, 1,000 statement PDFs, the mail vendor "
        "CSV and the history rows, committed), as `flask statements run` and the monthly job run it. Target: "
        "1,000 statements in at most 10 s end to end."
    )
    command = "```sh\n.venv/bin/python benchmarks/bench_statements.py\n```"
    return f"## Patient statements: a cycle of 1,000\n\n{text}\n\n{command}\n\n"


if __name__ == "__main__":
    raise SystemExit(main())
