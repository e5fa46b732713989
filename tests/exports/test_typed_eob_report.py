"""The Remittances report lists payments typed from paper EOBs with their check number, date and method."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from billing.core.db import db
from billing.ledger.models import EntryKind, LedgerEntry, PaymentMethod
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.checks import CheckHeader, CheckLine, post_check
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import PAID_ON
from tests.worlds.practice import SYSTEM, build_world
from tests.worlds.sheets import as_money, sheet

D = Decimal


def test_a_posted_check_shows_on_the_typed_eob_sheet(export):
    world = build_world()
    claims = [submitted_claim(world) for _ in range(2)]
    lines = [
        CheckLine(c.number, ClaimPosting(PAID_ON, (LinePosting(1, D(paid), (Adjustment("CO", "45", rest),)),)))
        for c, paid, rest in zip(claims, ["58.78", "40.00"], [D("14.70"), D("33.48")], strict=True)
    ]
    post_check(CheckHeader(world.payer.id, "PAPER-7", PAID_ON, D("98.78"), PaymentMethod.EFT), lines, actor=SYSTEM)
    db.session.flush()
    typed = sheet(export("remittances", company_id=world.company.id), "Typed EOBs")
    rows = [dict(zip(typed.header, row, strict=True)) for row in typed.data_rows()]
    assert sorted(r["Claim"] for r in rows) == sorted(c.number for c in claims)
    assert {(r["Check / EFT"], r["Method"], r["Posted check"]) for r in rows} == {("PAPER-7", "EFT", "Yes")}
    ledger = sum(
        db.session.scalars(
            select(LedgerEntry.amount).where(
                LedgerEntry.kind == EntryKind.INSURANCE_PAYMENT, LedgerEntry.claim_id.in_([c.id for c in claims])
            )
        ),
        D(0),
    )
    assert sum((as_money(r["Paid"]) for r in rows), D(0)) == ledger == D("98.78")
