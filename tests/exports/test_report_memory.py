"""Every report streams: its peak Python memory does not grow with its rows, and its totals equal SQL's own sums.

The streaming batch, the width sample and the copy buffer are made small (the fixed part of a report's memory), then
each report is built for a practice with SMALL and then ten times as many claims, under tracemalloc. A report
that read its rows into a list would need about a kilobyte more per row; a streamed one needs the same.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from billing.claims.models import Claim, ClaimLine
from billing.claims.statuses import ClaimStatus
from billing.core.access_log import AccessEntry, AccessKind, Subject
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.ledger.models import (
    Adjudication,
    AdjudicationAdjustment,
    ClaimBalance,
    EntryKind,
    EntrySource,
    LedgerEntry,
)
from billing.payments.models import EraFile, Remittance
from billing.people.models import Client
from exports import fast_rows, workbook
from exports.build import build_report
from exports.filters import ReportFilters
from tests.worlds.sheets import HEADER_ROW, as_money

SMALL, LARGE = 30, 300
#: Bytes a report's peak may differ by between the two sizes: well under the ~270 KB that 270 more rows held
#: in a list would take (about a kilobyte each), well over tracemalloc's noise.
BOUND = 150_000
CHARGE, PAID, OVERPAID, CONTRACTUAL = Decimal("73.48"), Decimal("55.00"), Decimal("80.00"), Decimal("18.48")
FIRST = date(2025, 1, 6)
#: The reports whose rows this practice grows (failed charges, authorizations and filing proof need rule runs,
#: authorizations and 837 batches: their streams are the same pattern, read BATCH rows at a time).
NAMES = ["claims", "claim-denials", "revenue", "ar-aging", "remittances", "credit-balances", "access"]
NOW = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("exports.reports.") and hasattr(module, "BATCH"):
            monkeypatch.setattr(module, "BATCH", 5)  # filled by SMALL: its rows come in several batches
    monkeypatch.setattr(workbook, "SAMPLE_ROWS", 10)
    monkeypatch.setattr(fast_rows, "_COPY_CHUNK", 8192)  # the rows are copied into the sheet a chunk at a time


def _grow(world: Any, count: int, start: int) -> None:
    """`count` more claims, a client each, cycling: paid on a check of its own, denied (CO-50), held, overpaid
    (a credit), and one the payer has not answered; each with its charge, and one access log line."""
    db.session.execute(insert(Client), [
        {"location_id": world.location.id, "account_number": f"V{n}", "first_name": "Pat", "last_name": f"V{n:05d}",
         "date_of_birth": date(2015, 5, 1), "sex": "F"} for n in range(start, start + count)])
    clients = db.session.scalars(select(Client.id).where(Client.account_number.like("V%")).order_by(Client.id)).all()
    last = db.session.scalar(select(func.max(Claim.id))) or 0
    statuses = (ClaimStatus.PAID, ClaimStatus.DENIED, ClaimStatus.HELD, ClaimStatus.PAID, ClaimStatus.SUBMITTED)
    db.session.execute(insert(Claim), [
        {"client_id": clients[n], "policy_id": world.policy.id, "payer_id": world.payer.id,
         "rendering_provider_id": world.provider.id, "location_id": world.location.id, "place_of_service": "11",
         "frequency_code": "1", "total_charge": CHARGE, "needs_review": False, "void_to_send": False, "version": 1,
         "status": statuses[n % 5], "service_date": FIRST + timedelta(days=n % 300),
         "hold_reason": "Missing signature" if n % 5 == 2 else None} for n in range(start, start + count)])
    claims = db.session.execute(select(Claim.id, Claim.service_date).where(Claim.id > last)
                                .where(Claim.location_id == world.location.id).order_by(Claim.id)).all()
    new_lines = insert(ClaimLine).returning(ClaimLine.id, ClaimLine.claim_id)
    lines = {cid: lid for lid, cid in db.session.execute(new_lines, [
        {"claim_id": c.id, "line_number": 1, "service_code_id": world.code.id, "modifiers": "",
         "service_date": c.service_date, "minutes": 60, "units": 4, "rate": Decimal("18.37"), "charge": CHARGE,
         "place_of_service": "11", "diagnosis_pointers": "1"} for c in claims])}
    era = db.session.execute(insert(EraFile).values(filename=f"v{start}.835", sha256=f"{start:064d}", content=b"",
                                                   actor="test").returning(EraFile.id)).scalar_one()
    entries, adjudications, holds, access = [], [], [], []
    for n, c in zip(range(start, start + count), claims, strict=True):
        paid_on = c.service_date + timedelta(days=30)
        entries.append(_entry(c.id, lines[c.id], EntryKind.CHARGE, CHARGE, c.service_date, EntrySource.SYSTEM))
        if n % 5 in (0, 3):  # paid, the fourth overpaid: a credit on the insurance side
            paid = PAID if n % 5 == 0 else OVERPAID
            remittance = _remittance(era, world, n, paid, paid_on)
            adjudications.append((c.id, remittance, "1", paid, paid_on))
            entries.append(_entry(c.id, lines[c.id], EntryKind.INSURANCE_PAYMENT, paid, paid_on, EntrySource.ERA))
            if n % 5 == 0:
                entries.append(_entry(c.id, lines[c.id], EntryKind.CONTRACTUAL, CONTRACTUAL, paid_on, EntrySource.ERA))
        elif n % 5 == 1:
            adjudications.append((c.id, None, "4", Decimal("0.00"), paid_on))
        elif n % 5 == 2:
            holds.append({"at": datetime.combine(c.service_date, datetime.min.time(), UTC) + timedelta(days=3),
                          "actor": "test", "subject_type": "claim", "subject_id": c.id,
                          "action": AuditAction.CLAIM_HELD, "from_status": "ready", "to_status": "held"})
        access.append({"at": NOW - timedelta(days=1), "actor": "test", "kind": AccessKind.VIEWED,
                       "subject_type": Subject.CLAIM, "subject_id": c.id, "path": f"/claims/{c.id}"})
    db.session.execute(insert(LedgerEntry), entries)
    db.session.execute(insert(StatusChange), holds)
    db.session.execute(insert(AccessEntry), access)
    for claim_id, remittance, code, paid, paid_on in adjudications:
        adjudication = db.session.execute(insert(Adjudication).values(
            claim_id=claim_id, remittance_id=remittance, payer_id=world.payer.id, source=EntrySource.ERA,
            status_code=code, charge=CHARGE, paid=paid, patient_responsibility=Decimal("0.00"), paid_on=paid_on,
        ).returning(Adjudication.id)).scalar_one()
        if code == "4":
            db.session.execute(insert(AdjudicationAdjustment).values(
                adjudication_id=adjudication, group_code="CO", reason_code="50", amount=CHARGE))
    db.session.flush()


def _entry(claim_id: int, line_id: int, kind: EntryKind, amount: Decimal, posted_on: date,
           source: EntrySource) -> dict[str, Any]:
    return {"claim_id": claim_id, "claim_line_id": line_id, "kind": kind, "amount": amount, "posted_on": posted_on,
            "actor": "test", "source": source}


def _remittance(era: int, world: Any, n: int, paid: Decimal, paid_on: date) -> int:
    return db.session.execute(insert(Remittance).values(
        era_file_id=era, payer_id=world.payer.id, payer_name="Payer", payer_key="test", check_number=f"CHK{n}",
        method="ACH", handling="I", amount=paid, paid_on=paid_on, claim_count=1, claims_paid_total=paid,
        plb_total=Decimal("0.00"), balanced=True).returning(Remittance.id)).scalar_one()


def _peaks(folder: Path) -> dict[str, int]:
    """Each report's tracemalloc peak over what was allocated before it began.

    Building a query per batch (a batch's units, a batch's credit origins) leaves SQLAlchemy objects with reference
    cycles, freed at the next full collection, which CPython runs when it judges the heap has grown enough: their
    count between two collections would read as growth with the rows. So, while measuring, everything older is
    frozen out of the collector's view and a collection runs before each statement: the peak is then what the
    report holds alive, plus one batch's garbage at most.
    """
    execute = Session._execute_internal

    def collect_first(self: Session, *args: Any, **kwargs: Any) -> Any:
        gc.collect()
        return execute(self, *args, **kwargs)

    peaks = {}
    for name in NAMES:
        gc.collect()
        gc.freeze()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Session, "_execute_internal", collect_first)
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                build_report(name, ReportFilters(), folder / f"{name}.xlsx", generated_by="test", now=NOW)
                peaks[name] = tracemalloc.get_traced_memory()[1] - before
            finally:
                tracemalloc.stop()
                gc.unfreeze()
    return peaks


def test_no_report_needs_more_memory_for_ten_times_the_rows(world, tmp_path, small_batches):
    _grow(world, SMALL, 0)
    for name in NAMES:  # warm-up, untraced: the first build of each report compiles and caches its queries
        build_report(name, ReportFilters(), tmp_path / f"{name}.xlsx", generated_by="test", now=NOW)
    small = _peaks(tmp_path)
    _grow(world, LARGE - SMALL, SMALL)
    large = _peaks(tmp_path)
    grown = {name: large[name] - small[name] for name in small if large[name] - small[name] > BOUND}
    assert grown == {}, f"peak memory grew with the rows (bytes): {grown}; small {small}, large {large}"
    assert _main_rows(tmp_path / "claims.xlsx") == LARGE


def _main_rows(path: Path) -> int:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return sum(1 for _ in book.worksheets[0].iter_rows(min_row=HEADER_ROW + 1)) - 1  # less the totals row
    finally:
        book.close()


def _totals(path: Path, sheet: str) -> dict[str, Any]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(book[sheet].iter_rows(min_row=HEADER_ROW, values_only=True))
        return dict(zip(rows[0], rows[-1], strict=False))
    finally:
        book.close()


def test_report_totals_equal_sums_taken_by_sql(world, tmp_path, small_batches):
    _grow(world, 60, 0)
    for name in ("claims", "claim-denials", "revenue", "ar-aging", "remittances", "credit-balances"):
        build_report(name, ReportFilters(), tmp_path / f"{name}.xlsx", generated_by="test", now=NOW)

    def sql(expression: Any, *where: Any) -> Decimal:
        return Decimal(str(db.session.scalar(select(func.coalesce(func.sum(expression), 0)).where(*where))))\
            .quantize(Decimal("0.01"))

    claims = _totals(tmp_path / "claims.xlsx", "Claims")
    assert as_money(claims["Billed"]) == sql(Claim.total_charge)

    denials = _totals(tmp_path / "claim-denials.xlsx", "Denials")
    held = sql(Claim.total_charge, Claim.status == ClaimStatus.HELD)
    assert as_money(denials["Denied"]) == sql(AdjudicationAdjustment.amount) + held
    denied_or_held = Claim.status.in_([ClaimStatus.DENIED, ClaimStatus.HELD])
    assert as_money(denials["Open balance"]) == sql(
        ClaimBalance.insurance + ClaimBalance.patient,
        ClaimBalance.claim_id.in_(select(Claim.id).where(denied_or_held)))

    revenue = _totals(tmp_path / "revenue.xlsx", "Line items")
    assert as_money(revenue["Charges"]) == sql(LedgerEntry.amount, LedgerEntry.kind == EntryKind.CHARGE)
    assert as_money(revenue["Insurance payments"]) == sql(LedgerEntry.amount,
                                                          LedgerEntry.kind == EntryKind.INSURANCE_PAYMENT)

    aging = _totals(tmp_path / "ar-aging.xlsx", "Claims")
    assert as_money(aging["Balance"]) == sql(ClaimBalance.insurance + ClaimBalance.patient)
    by_client = _totals(tmp_path / "ar-aging.xlsx", "By client")
    assert as_money(by_client["Total"]) == sql(ClaimBalance.insurance + ClaimBalance.patient)

    remittances = _totals(tmp_path / "remittances.xlsx", "Payments")
    assert as_money(remittances["Payment"]) == sql(Remittance.amount)

    credits = _totals(tmp_path / "credit-balances.xlsx", "Open credits")
    assert as_money(credits["Credit"]) == -sql(ClaimBalance.insurance, ClaimBalance.insurance < 0)
