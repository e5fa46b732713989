"""Denials, Revenue, AR Aging and Remittances read back with openpyxl: sheets, headers, formats, rows, and
totals that equal the ledger's own sums to the cent."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.core.db import db
from billing.core.money import ZERO, to_money
from billing.ledger.balances import claim_balances
from billing.ledger.models import AdjudicationAdjustment, EntryKind, LedgerEntry
from exports.reports.revenue import CATEGORIES, REVENUE_KINDS
from exports.workbook import ACCOUNTING
from tests.worlds.claims import submitted_claim
from tests.worlds.money import PAID_ON, build_money_world
from tests.worlds.practice import DAY
from tests.worlds.sheets import as_money, sheet

D = Decimal
#: March: the claims go out (their charges post); April: the 835; May: clawback, family payment, write-off.
WINDOW = {"date_from": date(2026, 3, 1), "date_to": date(2026, 5, 31)}


@pytest.fixture
def money(world):
    return build_money_world(world)


def ledger_sum(*where) -> Decimal:
    return to_money(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(*where)) or 0)


def totals_by_title(read) -> dict[str, Decimal]:
    return {title: as_money(value) for title, value in zip(read.header, read.totals(), strict=True)
            if isinstance(value, (int, float))}


# --- Revenue ------------------------------------------------------------------------------------------------

def test_revenue_columns_equal_the_ledger_and_reversals_are_their_own_lines(money, export):
    read = sheet(export("revenue", company_id=money.base.company.id, **WINDOW), "Line items")
    totals = totals_by_title(read)
    in_window = LedgerEntry.posted_on.between(WINDOW["date_from"], WINDOW["date_to"])
    for title, kinds in CATEGORIES.items():
        assert totals[title] == ledger_sum(in_window, LedgerEntry.kind.in_(kinds), LedgerEntry.reverses_id.is_(None))
    assert totals["Reversals"] == ledger_sum(in_window, LedgerEntry.kind.in_(REVENUE_KINDS),
                                             LedgerEntry.reverses_id.is_not(None))
    assert totals["Reversals"] == D("-73.48")  # the clawed-back payment and its contractual adjustment
    reversal_types = [t for t in read.column("Type") if t.startswith("Reversal")]
    assert reversal_types == ["Reversal of insurance payment", "Reversal of contractual"]
    assert read.cell(0, "Charges").number_format == ACCOUNTING
    assert read.cell(0, "Posted").is_date


def test_revenue_by_month_location_and_payer_add_up_to_the_line_items(money, export):
    book = export("revenue", company_id=money.base.company.id, **WINDOW)
    lines = totals_by_title(sheet(book, "Line items"))
    months = sheet(book, "By month")
    assert months.column("Month") == ["2026-03", "2026-04", "2026-05"]
    for title in ("By month", "By location", "By payer"):
        assert totals_by_title(sheet(book, title)) == lines
        assert len(book[title]._charts) == 1
    march, april = (dict(zip(months.header, row, strict=True)) for row in months.data_rows()[:2])
    assert as_money(march["Charges"]) == D("220.44")  # billed when sent, before any answer
    assert as_money(march["Insurance payments"]) == ZERO
    assert as_money(april["Insurance payments"]) == D("98.78")
    assert as_money(april["Charges"]) == ZERO  # the payment posted no second charge


# --- AR Aging -----------------------------------------------------------------------------------------------

def test_aging_totals_equal_the_ledger_balances_insurance_and_patient_apart(money, export):
    book = export("ar-aging", company_id=money.base.company.id, as_of=date(2026, 5, 31))
    balances = claim_balances([money.paid.id, money.denied.id, money.shared.id])
    insurance = sum((b.insurance for b in balances.values()), ZERO)
    patient = sum((b.patient for b in balances.values()), ZERO)
    assert (insurance, patient) == (D("73.48") + D("53.48"), D("15.00"))
    summary = sheet(book, "Summary")
    rows = {row[0]: row for row in summary.data_rows()}
    assert as_money(rows["Insurance"][-1]) == insurance
    assert as_money(rows["Patient"][-1]) == patient
    assert summary.header == ["Owed by", "0-30", "31-60", "61-90", "91-120", "120+", "Total"]
    # Services in early March are 90 days old on May 31.
    assert as_money(rows["Insurance"][summary.header.index("61-90")]) == insurance
    assert totals_by_title(sheet(book, "By payer"))["Total"] == insurance
    by_client = sheet(book, "By client")
    assert sorted(by_client.column("Owed by")) == ["Insurance", "Patient"]
    assert totals_by_title(by_client)["Total"] == insurance + patient
    claims = sheet(book, "Claims")
    assert sorted(claims.column("Claim")) == sorted([money.paid.number, money.denied.number, money.shared.number])
    assert len(book["By payer"]._charts) == 1


def test_aging_as_of_an_earlier_date_reads_the_ledger_as_it_was(money, export):
    book = export("ar-aging", company_id=money.base.company.id, date_to=PAID_ON)
    rows = {row[0]: row for row in sheet(book, "Summary").data_rows()}
    assert as_money(rows["Insurance"][-1]) == D("73.48")  # only the denial was open; no clawback yet
    assert as_money(rows["Patient"][-1]) == D("20.00")


def test_aging_includes_a_claim_sent_and_not_yet_answered(money, export):
    waiting = submitted_claim(money.base, day=DAY + timedelta(days=8))
    book = export("ar-aging", company_id=money.base.company.id, as_of=date(2026, 5, 31))
    claims = sheet(book, "Claims")
    rows = {row[0]: dict(zip(claims.header, row, strict=True)) for row in claims.data_rows()}
    assert rows[waiting.number]["Status"] == "Submitted"
    assert as_money(rows[waiting.number]["Insurance balance"]) == waiting.total_charge
    summary = {row[0]: row for row in sheet(book, "Summary").data_rows()}
    assert as_money(summary["Insurance"][-1]) == D("73.48") + D("53.48") + waiting.total_charge


# --- Claim Denials ------------------------------------------------------------------------------------------

def test_denials_name_the_carc_and_list_holds_as_internal(money, export):
    book = export("claim-denials", company_id=money.base.company.id)
    read = sheet(book, "Denials")
    rows = {row[2]: dict(zip(read.header, row, strict=True)) for row in read.data_rows()}
    denial = rows[money.denied.number]
    assert (denial["Category"], denial["Group"], denial["Reason code"]) == ("Payer denial", "CO", "197")
    assert "authorization" in denial["Description"].lower() or "precertification" in denial["Description"].lower()
    assert as_money(denial["Denied"]) == D("73.48")
    assert as_money(denial["Open balance"]) == claim_balances([money.denied.id])[money.denied.id].balance
    hold = rows[money.held.number]
    assert (hold["Category"], hold["Reason code"], hold["Description"]) == (
        "Internal", "HOLD", "Missing parent signature")
    assert set(rows) == {money.denied.number, money.held.number}  # paid claims are not denials
    denied_cas = to_money(db.session.scalar(select(func.sum(AdjudicationAdjustment.amount)).where(
        AdjudicationAdjustment.reason_code == "197")))
    assert totals_by_title(read)["Denied"] == denied_cas + money.held.total_charge


def test_denial_summaries_by_reason_and_payer_have_charts(money, export):
    book = export("claim-denials", company_id=money.base.company.id)
    by_reason = sheet(book, "Summary by reason")
    assert sorted(by_reason.column("Reason")) == ["CO-197", "HOLD"]
    assert by_reason.column("Category").count("Internal") == 1
    by_payer = sheet(book, "Summary by payer")
    assert by_payer.column("Payer") == [money.base.payer.name]
    assert by_payer.column("Denials") == [2]
    assert len(book["Summary by reason"]._charts) == len(book["Summary by payer"]._charts) == 1


def test_denials_filter_by_date_window(money, export):
    read = sheet(export("claim-denials", company_id=money.base.company.id, date_from=date(2026, 4, 2),
                        date_to=date(2026, 4, 30)), "Denials")
    assert read.data_rows() == []


# --- Remittances --------------------------------------------------------------------------------------------

def test_remittances_list_payments_claims_adjustments_and_plbs(money, export):
    book = export("remittances", company_id=money.base.company.id)
    payments = sheet(book, "Payments")
    (row,) = payments.data_rows()
    payment = dict(zip(payments.header, row, strict=True))
    assert (payment["Check / EFT"], payment["Method"], as_money(payment["Payment"])) == ("EFT200", "ACH", D("93.78"))
    assert (as_money(payment["Claims paid"]), as_money(payment["PLB"]), payment["Balanced"]) == (
        D("98.78"), D("5.00"), "Yes")
    claims = sheet(book, "Claims")
    assert sorted(claims.column("Claim")) == sorted([money.paid.number, money.denied.number, money.shared.number])
    assert totals_by_title(claims)["Paid"] == ledger_sum(
        LedgerEntry.kind == EntryKind.INSURANCE_PAYMENT, LedgerEntry.posted_on == PAID_ON)
    adjustments = sheet(book, "Adjustments")
    assert sorted(adjustments.column("Reason code")) == ["197", "2", "45", "45"]
    assert totals_by_title(adjustments)["Amount"] == D("14.70") + D("73.48") + D("13.48") + D("20.00")
    plb = sheet(book, "PLB")
    assert plb.column("Reason") == ["WO"]
    assert plb.column("Description") == ["Overpayment recovery"]
    assert totals_by_title(plb)["Amount"] == D("5.00")


def test_remittances_of_another_company_are_left_out(money, export):
    from tests.worlds.practice import build_world

    other = build_world()
    book = export("remittances", company_id=other.company.id)
    assert sheet(book, "Payments").data_rows() == []


def test_title_blocks_name_only_the_filters_a_report_reads(money, export):
    aging = sheet(export("ar-aging", company_id=money.base.company.id, date_from=date(2026, 1, 1), date_to=PAID_ON,
                         status="paid"), "Summary")
    assert aging.title_lines[2] == f"Filters: As of: {PAID_ON.isoformat()}"
    revenue = sheet(export("revenue", company_id=money.base.company.id, status="paid", **WINDOW), "Line items")
    assert revenue.title_lines[2] == "Filters: Dates: 2026-03-01 to 2026-05-31"
