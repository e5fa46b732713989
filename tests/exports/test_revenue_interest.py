"""Case I in the reports: PLB interest is its own Revenue line; an open payer offset is its own AR Aging row."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.core.db import db
from billing.org.queries import resolve_scope
from billing.payments.invariants import check_ledger
from billing.payments.models import PlbDisposition
from billing.payments.plb import apply_plb
from billing.worklist import billing_work
from exports.reports.aging import OFFSETS
from tests.billing.payments.test_plb import hundred_dollar_claim, import_plbs, paid, svc
from tests.worlds.payments import PAID_ON, Clp
from tests.worlds.practice import SYSTEM
from tests.worlds.sheets import as_money, sheet

D = Decimal
WINDOW = {"date_from": date(2026, 3, 1), "date_to": date(2026, 5, 31)}


def one_claim_paid_in_full(world) -> Clp:
    claim = hundred_dollar_claim(world, lines=1)
    return Clp(claim.number, "1", D("100.00"), D("100.00"), services=[svc(claim.lines[0], "100.00")])


def test_case_i_l6_interest_of_minus_12_34_shows_12_34_of_interest_in_revenue(world, export):
    plb = D("-12.34")
    remittance = import_plbs(world, [one_claim_paid_in_full(world)], [("L6", plb)], check="INT-R")
    assert check_ledger() == []
    book = export("revenue", company_id=world.company.id, **WINDOW)
    interest = sheet(book, "Interest")
    assert interest.header[-1] == "Interest"
    (row,) = interest.data_rows()
    line = dict(zip(interest.header, row, strict=True))
    assert as_money(line["Interest"]) == -plb == D("12.34")
    assert (line["Check / EFT"], line["Month"]) == (remittance.check_number, f"{PAID_ON:%Y-%m}")
    assert line["Reason"].startswith("L6")
    assert as_money(interest.totals()[-1]) == D("12.34")


def test_case_i_interest_outside_the_window_is_not_in_it(world, export):
    import_plbs(world, [one_claim_paid_in_full(world)], [("L6", D("-5.00"))], check="INT-OUT")
    book = export("revenue", company_id=world.company.id, date_from=date(2026, 5, 1), date_to=date(2026, 5, 31))
    assert sheet(book, "Interest").data_rows() == []


def test_case_i_an_open_fb_offset_is_its_own_aging_row_until_applied(world, export):
    earlier = hundred_dollar_claim(world, lines=1)
    paid(world, earlier, "90.00", check="OLD-R")
    offset = D("40.00")
    remittance = import_plbs(world, [one_claim_paid_in_full(world)], [("FB", offset, "FWD-BAL-1")], check="FB-R")
    (item,) = remittance.provider_adjustments
    assert item.disposition is PlbDisposition.OPEN
    as_of = date(2026, 5, 31)

    def summary() -> dict[str, Decimal]:
        rows = sheet(export("ar-aging", company_id=world.company.id, as_of=as_of), "Summary").data_rows()
        return {row[0]: as_money(row[-1]) for row in rows}

    before = summary()
    assert before[OFFSETS] == offset
    offsets = sheet(export("ar-aging", company_id=world.company.id, as_of=as_of), "Payer offsets")
    (row,) = offsets.data_rows()
    line = dict(zip(offsets.header, row, strict=True))
    assert (line["Check / EFT"], line["Reference"], as_money(line["Open"])) == ("FB-R", "FWD-BAL-1", offset)
    assert billing_work(resolve_scope(None, None, None)).open_offsets == offset

    apply_plb(item, earlier, actor=SYSTEM)
    db.session.flush()
    after = summary()
    assert OFFSETS not in after
    # Applying moves the offset onto the claim (the payer owes $40.00 on it again): A/R reads the same.
    assert after["Insurance"] == before["Insurance"] + offset
    assert check_ledger() == []
