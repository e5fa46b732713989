"""Submissions benchmark: build a 5,000-claim 837P, then validate it with pyx12, timed apart.

    .venv/bin/python benchmarks/bench_submissions.py              # 5,000 claims of 2 lines, SQLite temp file
    .venv/bin/python benchmarks/bench_submissions.py --claims 1000

A fresh SQLite database is built with the migrations; one company, 20 providers and 500 insured
clients (every third one a child on a parent's policy, so a third of the claims carry loop 2000C)
are written, then `--claims` Ready claims of two lines each are bulk-inserted. Timed, each five
times after a warm-up (median kept):

- generation: what `create_batches` does before validation, i.e. loading the claims with everything
  the file needs and turning them into claim facts (`claim_facts`) and writing the X12
  text (`write_837`);
- validation: pyx12 (`x12n_document`, JSON errors) plus the house checks, the gate every file passes;
- end to end, once: `create_batches` in a unit of work, as the New submission page and
  `flask submissions create` run it (generation, validation, control numbers, batch rows, history).

Targets: generation at most 1 s, and at least 10x faster than validation of the same file.
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

from harness import median_seconds, scratch_app, update_section  # noqa: E402 - benchmarks/ is the script's own folder
from machine import machine_label  # noqa: E402 - benchmarks/ is the script's own folder
from sqlalchemy import insert, select  # noqa: E402

from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine  # noqa: E402
from billing.claims.statuses import ClaimStatus  # noqa: E402
from billing.core.audit import Actor  # noqa: E402
from billing.core.db import db, insert_returning_ids  # noqa: E402
from billing.core.identifiers import npi_check_digit  # noqa: E402
from billing.core.unit_of_work import unit_of_work  # noqa: E402
from billing.coverage.models import (  # noqa: E402
    InsurancePolicy,
    Payer,
    PayerType,
    PolicyRank,
    ServiceCode,
    SubscriberRelationship,
)
from billing.edi.segments import segment_texts  # noqa: E402
from billing.edi.x837p import Envelope, WrittenFile, write_837  # noqa: E402
from billing.edi.x837p_checks import house_checks, pyx12_errors  # noqa: E402
from billing.org.models import Company, Location, Practice  # noqa: E402
from billing.people.models import Client, Provider, Sex  # noqa: E402
from billing.submissions.loading import claim_facts  # noqa: E402
from billing.submissions.models import Clearinghouse  # noqa: E402
from billing.submissions.operations import create_batches  # noqa: E402

HEADER = (
    "| Backend | Claims | Lines | Segments | File (KB) | Load + facts (s) | Write (s) | Generation (s) "
    "| Validation: pyx12 + checks (s) | Validation / generation | create_batches end to end (s) | Target "
    "| Machine | Date |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|"
)
RUNS = 5
ACTOR = Actor.system("bench")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=5000, help="Ready claims in the file (default 5,000)")
    claims = parser.parse_args(argv).claims
    with scratch_app():
        with unit_of_work():
            payer_id = _build_practice(claims)
        result = _measure(payer_id)
    _report(result)
    update_section("bench_submissions", HEADER, _intro, [_row(result)])
    return 0


# --- data -----------------------------------------------------------------------------------------
def _npi(n: int) -> str:
    base = f"{100_000_000 + n:09d}"[-9:]
    return f"{base}{npi_check_digit(base)}"


def _build_practice(claim_count: int) -> int:
    address = {"address_line1": "100 Main St", "city": "Springfield", "state": "IL", "zip_code": "627011234"}
    company = Company(legal_name="Bench Therapy Group LLC", tax_id="123456789", group_npi=_npi(900_001),
                      taxonomy_code="103K00000X", **address)  # fmt: skip
    location = Location(practice=Practice(company=company, name="Bench"), name="North Clinic", place_of_service="11",
                        address_line1="200 Oak Ave", city="Springfield", state="IL", zip_code="62702")  # fmt: skip
    house = Clearinghouse(
        name="Bench Clearinghouse", isa_sender_id="CLAIMDESK", isa_receiver_id="OFFALLY", gs_sender_code="CLAIMDESK",
        gs_receiver_code="OFFALLY", submitter_name="Bench Therapy Group", submitter_etin="ETIN01",
        submitter_contact_name="Ann Biller", submitter_contact_phone="2175550100", receiver_name="Office Ally",
        receiver_id="330897513",
    )  # fmt: skip
    payer = Payer(company=company, name="Key Insurance", payer_type=PayerType.COMMERCIAL, edi_payer_id="KEY01",
                  claim_filing_indicator="CI", edi_enabled=True, clearinghouse=house, **address)  # fmt: skip
    code = ServiceCode(company=company, code="97153", description="Adaptive behavior treatment by protocol")
    providers = [Provider(company=company, first_name=f"Pat{i}", last_name=f"Provider{i:03d}", credentials="BCBA",
                          npi=_npi(i + 1), taxonomy_code="103K00000X") for i in range(20)]  # fmt: skip
    clients = [_client(location, i) for i in range(500)]
    policies = [_policy(client, payer, i) for i, client in enumerate(clients)]
    db.session.add_all([company, location, house, payer, code, *providers, *clients, *policies])
    db.session.flush()
    _bulk_claims(claim_count, location, payer, code, providers, policies)
    return payer.id


def _client(location: Location, i: int) -> Client:
    return Client(location=location, account_number=f"B-{i:06d}", first_name=f"Sam{i}", last_name=f"Client{i:04d}",
                  date_of_birth=date(2015, 1, 1) + timedelta(days=i), sex=Sex.FEMALE if i % 2 else Sex.MALE,
                  address_line1=f"{i + 1} Elm St", city="Springfield", state="IL", zip_code="62704")  # fmt: skip


def _policy(client: Client, payer: Payer, i: int) -> InsurancePolicy:
    child = i % 3 == 0
    return InsurancePolicy(
        client=client, payer=payer, rank=PolicyRank.PRIMARY, member_id=f"M{i:08d}", group_number="GRP1",
        relationship_to_subscriber=SubscriberRelationship.CHILD if child else SubscriberRelationship.SELF,
        subscriber_first_name="Jane" if child else None, subscriber_last_name=client.last_name if child else None,
        subscriber_date_of_birth=date(1984, 2, 3) if child else None, effective_on=date(2026, 1, 1),
    )  # fmt: skip


def _bulk_claims(count: int, location: Location, payer: Payer, code: ServiceCode, providers: list[Provider],
                 policies: list[InsurancePolicy]) -> None:  # fmt: skip
    rate, charge = Decimal("18.37"), Decimal("73.48")
    claims = []
    for i in range(count):
        policy = policies[i % len(policies)]
        claims.append({
            "status": ClaimStatus.READY, "client_id": policy.client_id, "policy_id": policy.id, "payer_id": payer.id,
            "rendering_provider_id": providers[i % len(providers)].id, "location_id": location.id,
            "service_date": date(2026, 1, 5) + timedelta(days=i % 150), "place_of_service": "11",
            "total_charge": charge * 2, "created_at": datetime.now(UTC),
        })  # fmt: skip
    ids = insert_returning_ids(Claim.__table__, claims)
    lines, diagnoses = [], []
    for claim_id, row in zip(ids, claims, strict=True):
        for n in (1, 2):
            lines.append({"claim_id": claim_id, "line_number": n, "service_code_id": code.id, "modifiers": "HN",
                          "service_date": row["service_date"], "minutes": 60, "units": 4, "rate": rate,
                          "charge": charge, "place_of_service": "11", "diagnosis_pointers": "1:2"})  # fmt: skip
        diagnoses += [{"claim_id": claim_id, "position": 1, "code": "F840"},
                      {"claim_id": claim_id, "position": 2, "code": "F900"}]  # fmt: skip
    db.session.execute(insert(ClaimLine), lines)
    db.session.execute(insert(ClaimDiagnosis), diagnoses)


# --- measuring ------------------------------------------------------------------------------------
def _measure(payer_id: int) -> dict[str, Any]:
    ids = list(db.session.scalars(select(Claim.id).where(Claim.payer_id == payer_id).order_by(Claim.id)))
    envelope = _envelope()

    def load() -> Any:
        return claim_facts(dict.fromkeys(ids, "1"))

    # Generation first, in the state a request finds the process in; the phases and pyx12 come after.
    generation = median_seconds(lambda: _generate(ids, envelope), RUNS)[0]
    load_seconds, facts = median_seconds(load, RUNS)
    if facts.problems:
        raise SystemExit(f"the bench claims have problems: {next(iter(facts.problems.values()))}")
    write_seconds, written = median_seconds(lambda: write_837(envelope, facts.facts), RUNS)
    text = written.text
    segments = segment_texts(text)
    validate_seconds, errors = median_seconds(lambda: [*pyx12_errors(text, segments), *house_checks(segments)], RUNS)
    if errors:
        raise SystemExit(f"the file is not valid: {errors[0]}")
    started = time.perf_counter()
    with unit_of_work():
        [batch] = create_batches(actor=ACTOR, payer_id=payer_id)
        claimed = batch.claim_count
    end_to_end = time.perf_counter() - started
    return {
        "claims": len(ids), "lines": 2 * len(ids), "segments": len(segments), "kb": len(text) / 1024,
        "load": load_seconds, "write": write_seconds, "generation": generation, "validation": validate_seconds,
        "end_to_end": end_to_end, "batched": claimed, "backend": f"SQLite {_sqlite_version()}",
    }  # fmt: skip


def _generate(ids: list[int], envelope: Envelope) -> WrittenFile:
    return write_837(envelope, claim_facts(dict.fromkeys(ids, "1")).facts)


def _envelope() -> Envelope:
    return Envelope(
        sender_qualifier="ZZ", sender_id="CLAIMDESK", receiver_qualifier="ZZ", receiver_id="OFFALLY",
        gs_sender="CLAIMDESK", gs_receiver="OFFALLY", usage_indicator="T", control_number=1,
        created_at=datetime.now(UTC), submitter_name="Bench Therapy Group", submitter_etin="ETIN01",
        contact_name="Ann Biller", contact_phone="2175550100", contact_email=None, receiver_name="Office Ally",
        receiver_etin="330897513", reference="B-000001",
    )  # fmt: skip


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


# --- reporting ------------------------------------------------------------------------------------
def _verdict(r: dict[str, Any]) -> str:
    ratio = r["validation"] / r["generation"] if r["generation"] else 0.0
    fast = r["generation"] <= 1.0
    return f"≤ 1 s: {'met' if fast else 'missed'}; ≥ 10x: {'met' if ratio >= 10 else 'missed'} ({ratio:.0f}x)"


def _report(r: dict[str, Any]) -> None:
    print(f"{r['backend']}: {r['claims']:,} claims, {r['lines']:,} lines, {r['segments']:,} segments, "
          f"{r['kb']:,.0f} KB")  # fmt: skip
    print(f"  generation {r['generation']:.3f} s (load + facts {r['load']:.3f} s, write {r['write']:.3f} s)")
    print(f"  validation {r['validation']:.3f} s (pyx12 + house checks)")
    print(f"  create_batches end to end {r['end_to_end']:.3f} s ({r['batched']:,} claims batched)")
    print(f"  target: {_verdict(r)}")


def _row(r: dict[str, Any]) -> str:
    machine = machine_label()
    return (
        f"| {r['backend']} | {r['claims']:,} | {r['lines']:,} | {r['segments']:,} | {r['kb']:,.0f} | {r['load']:.3f} | "
        f"{r['write']:.3f} | {r['generation']:.3f} | {r['validation']:.2f} | "
        f"{r['validation'] / r['generation']:.0f}x | {r['end_to_end']:.2f} | {_verdict(r)} | {machine} | "
        f"{date.today():%Y-%m-%d} |"
    )



def _intro() -> str:
    text = (
        "`benchmarks/bench_submissions.py` builds a fresh SQLite database with the migrations, bulk-writes 5,000 "
        "Ready claims of two lines each (a third of them for a child on a parent's policy, so they carry loop "
        "2000C), then times, as the median of five runs after a warm-up: *generation* (loading the claims with "
        "everything the file needs, turning them into claim facts and writing the X12 text) and *validation* "
        "(pyx12's `x12n_document` with JSON errors, plus the house checks: CLM02 = sum of SV102, NPI check "
        "digits, REF*F8 on frequencies 7 and 8), apart; then `create_batches` once end to end (generation, "
        "validation, control numbers, batch rows and history, committed). Target: generation at most 1 s, and "
        "at least 10x faster than validating the same file."
    )
    command = "```sh\n.venv/bin/python benchmarks/bench_submissions.py\n```"
    return f"## Submissions: building and validating an 837P\n\n{text}\n\n{command}\n\n"


if __name__ == "__main__":
    raise SystemExit(main())
