"""Case I: provider-level adjustments (PLB) are money (posting rule 7).

Amounts are worked out here from the file's own numbers; after each import the ledger must be sound.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.core.errors import Conflict, Invalid
from billing.ledger.balances import claim_balance, line_balances
from billing.ledger.models import EntryKind, LedgerEntry
from billing.payments.invariants import check_ledger
from billing.payments.models import PlbDisposition, ProviderAdjustment, ProviderAdjustmentEntry, Remittance
from billing.payments.plb import apply_plb, claim_id_in, open_items, settle_plb
from billing.payments.remittances import import_835
from tests.billing.payments.test_posting_cases import hundred_dollar_claim, svc
from tests.worlds.claims import history
from tests.worlds.payments import Clp, Payment, write_835
from tests.worlds.practice import SYSTEM

D = Decimal


def paid(world, claim, *line_paid: str, check: str) -> Clp:
    """Import an 835 paying each $100.00 line of `claim` the given amount (the rest CO-45)."""
    lines = [svc(line, amount, ("CO", "45", str(D("100.00") - D(amount))))
             for line, amount in zip(claim.lines, line_paid, strict=True)]
    total = sum((D(a) for a in line_paid), D("0.00"))
    clp = Clp(claim.number, "1", D("100.00") * len(claim.lines), total, services=lines)
    import_plbs(world, [clp], [], check=check)
    return clp


def import_plbs(world, claims: list[Clp], plbs: list, *, check: str):
    """An 835 with these claims and PLBs; BPR02 = sum of CLP04 - sum of PLB, as the TR3 says."""
    amount = sum((c.paid for c in claims), D("0.00")) - sum((p[1] for p in plbs), D("0.00"))
    payment = Payment(amount, check, world.payer.name, world.payer.edi_payer_id, claims, plbs=plbs)
    result = import_835(write_835([payment]).encode(), filename=f"{check}.835", actor=SYSTEM)
    db.session.flush()
    assert result.balanced
    return db.session.get(Remittance, result.remittance_ids[0])


def insurance_paid(claim) -> Decimal:
    return claim_balance(claim.id).paid_by_payer


def flags(claim) -> list[str]:
    return [h.reason or "" for h in history(claim) if h.action is AuditAction.CLAIM_FLAGGED]


def the_plb(remittance: Remittance) -> ProviderAdjustment:
    (item,) = remittance.provider_adjustments
    return item


def test_claim_numbers_are_found_inside_plb_references():
    assert claim_id_in("C-000123") == 123
    assert claim_id_in("C000123 ICN 99887766") == 123
    assert claim_id_in("ICN77/C-004567") == 4567
    assert claim_id_in("REF1") is None
    assert claim_id_in("ABC-000123") is None
    assert claim_id_in(None) is None


def test_case_i_l6_interest_is_income_and_the_ledger_balances(world):
    claim = hundred_dollar_claim(world, lines=1)
    clp = Clp(claim.number, "1", D("100.00"), D("80.00"), services=[svc(claim.lines[0], "80.00",
                                                                        ("CO", "45", "20.00"))])
    remittance = import_plbs(world, [clp], [("L6", D("-12.34"))], check="INT-1")
    assert remittance.amount == D("80.00") + D("12.34")  # interest adds to the check
    item = the_plb(remittance)
    assert (item.disposition, item.applied_amount, item.open_amount) == (PlbDisposition.INCOME, 0, 0)
    assert insurance_paid(claim) == D("80.00")  # interest is never a payment on a claim
    assert check_ledger() == []
    assert open_items() == []


def test_case_i_wo_offset_naming_a_claim_reduces_its_payments_by_50_and_flags_it(world):
    earlier = hundred_dollar_claim(world)
    paid(world, earlier, "70.00", "30.00", check="OLD-1")
    assert earlier.status is ClaimStatus.PAID
    today = hundred_dollar_claim(world, lines=1)
    clp = Clp(today.number, "1", D("100.00"), D("80.00"), services=[svc(today.lines[0], "80.00",
                                                                        ("CO", "45", "20.00"))])
    remittance = import_plbs(world, [clp], [("WO", D("50.00"), f"{earlier.number} ICN8877")], check="NEW-1")
    assert remittance.amount == D("80.00") - D("50.00")
    item = the_plb(remittance)
    assert (item.disposition, item.claim_id, item.applied_amount) == (PlbDisposition.APPLIED, earlier.id,
                                                                      D("50.00"))
    assert insurance_paid(earlier) == D("70.00") + D("30.00") - D("50.00")
    by_line = line_balances(earlier.id)
    one, two = earlier.lines
    # Largest payment first: the $70.00 line gives back the whole $50.00.
    assert (by_line[one.id].paid_by_payer, by_line[two.id].paid_by_payer) == (D("20.00"), D("30.00"))
    assert earlier.needs_review
    assert any("PLB WO" in f and "50.00" in f for f in flags(earlier))
    assert earlier.status is ClaimStatus.SUBMITTED  # the payer owes $50.00 again
    assert claim_balance(earlier.id).insurance == D("50.00")
    assert insurance_paid(today) == D("80.00")
    assert check_ledger() == []


def test_case_i_an_offset_larger_than_the_claims_payments_leaves_the_rest_open(world):
    earlier = hundred_dollar_claim(world)
    paid(world, earlier, "30.00", "70.00", check="OLD-2")
    today = hundred_dollar_claim(world, lines=1)
    clp = Clp(today.number, "1", D("100.00"), D("100.00"), services=[svc(today.lines[0], "100.00")])
    offset = D("110.00")
    remittance = import_plbs(world, [clp], [("WO", offset, earlier.number)], check="NEW-2")
    item = the_plb(remittance)
    taken = D("30.00") + D("70.00")
    assert (item.disposition, item.applied_amount, item.open_amount) == (PlbDisposition.OPEN, taken,
                                                                         offset - taken)
    assert insurance_paid(earlier) == D("0.00")
    assert [i.id for i in open_items()] == [item.id]
    assert check_ledger() == []


def test_case_i_fb_offset_naming_nothing_stays_open_until_applied_and_applying_posts_once(world):
    earlier = hundred_dollar_claim(world, lines=1)
    paid(world, earlier, "90.00", check="OLD-3")
    today = hundred_dollar_claim(world, lines=1)
    clp = Clp(today.number, "1", D("100.00"), D("100.00"), services=[svc(today.lines[0], "100.00")])
    remittance = import_plbs(world, [clp], [("FB", D("40.00"), "PAYERREF77")], check="NEW-3")
    item = the_plb(remittance)
    assert (item.disposition, item.open_amount, item.claim_id) == (PlbDisposition.OPEN, D("40.00"), None)
    assert [i.id for i in open_items()] == [item.id]
    assert insurance_paid(earlier) == D("90.00")
    assert check_ledger() == []

    outcome = apply_plb(item, earlier, actor=SYSTEM)
    db.session.flush()
    assert (outcome.posted, item.disposition, item.open_amount) == (D("40.00"), PlbDisposition.APPLIED, 0)
    assert insurance_paid(earlier) == D("90.00") - D("40.00")
    assert earlier.needs_review
    assert earlier.status is ClaimStatus.SUBMITTED
    assert open_items() == []
    again = apply_plb(item, earlier, actor=SYSTEM)
    db.session.flush()
    assert (again.already, again.posted) == (True, 0)
    assert insurance_paid(earlier) == D("50.00")  # posted once
    links = db.session.scalars(select(ProviderAdjustmentEntry).where(
        ProviderAdjustmentEntry.provider_adjustment_id == item.id)).all()
    assert len(links) == 1
    actions = [h.action for h in db.session.scalars(select(StatusChange).where(
        StatusChange.subject_type == "provider_adjustment", StatusChange.subject_id == item.id))]
    assert actions == [AuditAction.PLB_DISPOSED, AuditAction.PLB_APPLIED]
    assert check_ledger() == []
    with pytest.raises(Conflict):
        settle_plb(item, reason="netted", actor=SYSTEM)


def test_case_i_an_open_item_is_settled_with_a_reason(world):
    today = hundred_dollar_claim(world, lines=1)
    clp = Clp(today.number, "1", D("100.00"), D("100.00"), services=[svc(today.lines[0], "100.00")])
    item = the_plb(import_plbs(world, [clp], [("CS", D("25.00"))], check="NEW-4"))
    with pytest.raises(Invalid):
        settle_plb(item, reason=" ", actor=SYSTEM)
    settle_plb(item, reason="netted against check 991", actor=SYSTEM)
    assert (item.disposition, item.note, open_items()) == (PlbDisposition.SETTLED, "netted against check 991", [])
    assert check_ledger() == []


def test_case_i_money_added_for_a_named_claim_is_posted_on_it_and_flagged(world):
    claim = hundred_dollar_claim(world, lines=1)
    paid(world, claim, "60.00", check="OLD-5")
    other = hundred_dollar_claim(world, lines=1)
    clp = Clp(other.number, "1", D("100.00"), D("100.00"), services=[svc(other.lines[0], "100.00")])
    item = the_plb(import_plbs(world, [clp], [("CS", D("-15.00"), claim.number)], check="NEW-5"))
    assert (item.disposition, item.applied_amount) == (PlbDisposition.APPLIED, D("-15.00"))
    assert insurance_paid(claim) == D("60.00") + D("15.00")
    assert claim.needs_review
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.claim_id == claim.id,
                                                           LedgerEntry.kind == EntryKind.INSURANCE_PAYMENT,
                                                           LedgerEntry.adjudication_id.is_(None))).all()
    assert [e.amount for e in entries] == [D("15.00")]
    assert check_ledger() == []


def test_case_i_an_offset_naming_a_claim_paid_in_the_same_file_takes_it_back(world):
    claim = hundred_dollar_claim(world, lines=1)
    clp = Clp(claim.number, "1", D("100.00"), D("100.00"), services=[svc(claim.lines[0], "100.00")])
    item = the_plb(import_plbs(world, [clp], [("WO", D("25.00"), claim.number)], check="SAME-1"))
    assert item.disposition is PlbDisposition.APPLIED
    assert insurance_paid(claim) == D("100.00") - D("25.00")
    assert check_ledger() == []


def test_the_ledger_check_catches_a_plb_whose_entries_do_not_add_up(world):
    earlier = hundred_dollar_claim(world, lines=1)
    paid(world, earlier, "90.00", check="OLD-6")
    today = hundred_dollar_claim(world, lines=1)
    clp = Clp(today.number, "1", D("100.00"), D("100.00"), services=[svc(today.lines[0], "100.00")])
    item = the_plb(import_plbs(world, [clp], [("WO", D("10.00"), earlier.number)], check="NEW-6"))
    db.session.execute(ProviderAdjustment.__table__.update().where(ProviderAdjustment.__table__.c.id == item.id)
                       .values(applied_amount=D("9.00")))
    assert [v.check for v in check_ledger()] == ["plb-applied"]


def test_case_i_interest_and_an_offset_on_one_check_each_land_where_they_belong(world):
    earlier = hundred_dollar_claim(world, lines=1)
    paid(world, earlier, "90.00", check="OLD-7")
    today = hundred_dollar_claim(world, lines=1)
    clp = Clp(today.number, "1", D("100.00"), D("100.00"), services=[svc(today.lines[0], "100.00")])
    interest, offset, forwarded = D("-3.21"), D("20.00"), D("5.00")
    remittance = import_plbs(world, [clp], [("L6", interest), ("WO", offset, f"C{earlier.id:06d}"),
                                            ("FB", forwarded)], check="MIX-7")
    assert remittance.amount == D("100.00") - interest - offset - forwarded
    dispositions = [(p.reason_code, p.disposition) for p in remittance.provider_adjustments]
    assert dispositions == [("L6", PlbDisposition.INCOME), ("WO", PlbDisposition.APPLIED),
                            ("FB", PlbDisposition.OPEN)]
    assert insurance_paid(earlier) == D("90.00") - offset
    assert [i.open_amount for i in open_items()] == [forwarded]
    assert check_ledger() == []
