"""The Credit Balances report read back with openpyxl: the open credits per side, and the refunds and applied
credits of the window, with totals that equal sums worked out here; Revenue shows refunds as their own column."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.ledger.models import EntryKind
from billing.payments.credits import Side, apply_patient_credit, record_refund
from billing.payments.reversals import reverse_entries
from exports.workbook import ACCOUNTING
from tests.worlds.credits import CREDIT_ON, insurance_credit_claim, patient_credit_claim, patient_owing_claim
from tests.worlds.practice import SYSTEM
from tests.worlds.sheets import as_money, sheet

D = Decimal
WINDOW = {"date_from": date(2026, 4, 1), "date_to": date(2026, 5, 31)}
AS_OF = date(2026, 5, 10)


def test_open_credits_are_listed_per_side_with_age_and_cause(world, export):
    overpaid, patient = insurance_credit_claim(world), patient_credit_claim(world)
    read = sheet(export("credit-balances", company_id=world.company.id, as_of=AS_OF, **WINDOW), "Open credits")
    rows = {(r[0], r[6]): dict(zip(read.header, r, strict=True)) for r in read.data_rows()}
    assert set(rows) == {(overpaid.number, "Insurance"), (patient.number, "Patient")}
    insurance = rows[(overpaid.number, "Insurance")]
    assert as_money(insurance["Credit"]) == D("80.00")
    assert insurance["Age (days)"] == (AS_OF - CREDIT_ON).days
    assert insurance["Why"].startswith("Insurance payment $80.00")
    assert as_money(read.totals()[read.header.index("Credit")]) == D("90.00")  # 80.00 + 10.00
    assert read.cell(0, "Credit").number_format == ACCOUNTING


def test_refunds_and_applied_credits_of_the_window_are_lines_of_their_own(world, export):
    overpaid, patient, other = insurance_credit_claim(world), patient_credit_claim(world), patient_owing_claim(world)
    refund = record_refund(overpaid, _refund(Side.INSURANCE, "30.00", "CHK 1"), actor=SYSTEM)
    record_refund(overpaid, _refund(Side.INSURANCE, "50.00", "CHK 2", on=date(2026, 6, 2)), actor=SYSTEM)  # later
    apply_patient_credit(patient, other, D("10.00"), actor=SYSTEM, posted_on=CREDIT_ON, reason="family asked")
    reverse_entries(overpaid, refund, actor=SYSTEM, reason="refund check returned", posted_on=date(2026, 5, 2))
    book = export("credit-balances", company_id=world.company.id, **WINDOW)
    read = sheet(book, "Refunds")
    assert read.column("Type") == ["Refund to payer", "Patient credit applied to another claim",
                                   "Reversal: Refund to payer"]
    assert [as_money(a) for a in read.column("Amount")] == [D("30.00"), D("10.00"), D("-30.00")]
    assert read.column("Reference and reason")[0] == "CHK 1: paid twice"
    assert as_money(read.totals()[read.header.index("Amount")]) == D("10.00")  # 30.00 + 10.00 - 30.00
    open_ = sheet(book, "Open credits")
    # Today 50.00 of the 80.00 was refunded (CHK 2) and the 30.00 refund was returned: 30.00 still owed back.
    assert [(r[0], as_money(r[7])) for r in open_.data_rows()] == [(overpaid.number, D("30.00"))]


def test_revenue_shows_refunds_apart_and_leaves_credit_transfers_out(world, export):
    overpaid, patient, other = insurance_credit_claim(world), patient_credit_claim(world), patient_owing_claim(world)
    record_refund(overpaid, _refund(Side.INSURANCE, "80.00", "CHK 1"), actor=SYSTEM)
    record_refund(patient, _refund(Side.PATIENT, "4.00", "cash"), actor=SYSTEM)
    apply_patient_credit(patient, other, D("6.00"), actor=SYSTEM, posted_on=CREDIT_ON, reason="family asked")
    read = sheet(export("revenue", company_id=world.company.id, **WINDOW), "Line items")
    assert as_money(read.totals()[read.header.index("Refunds")]) == D("84.00")
    types = read.column("Type")
    assert EntryKind.PATIENT_CREDIT_IN.label not in types
    assert EntryKind.PATIENT_CREDIT_OUT.label not in types


def _refund(side: Side, amount: str, reference: str, *, on: date = CREDIT_ON):
    from billing.payments.credits import Refund

    return Refund(side, D(amount), on, reference, "paid twice")
