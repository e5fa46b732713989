"""`flask ledger check`: a sound ledger passes; each invariant, broken on purpose, is reported by name."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import insert, update

from billing.claims.models import Claim, ClaimLine
from billing.core.audit import Actor
from billing.core.db import db, utcnow
from billing.ledger.models import EntryKind, EntrySource, LedgerEntry
from billing.payments.invariants import CHECKS, check_ledger, total
from billing.payments.models import Remittance
from billing.payments.remittances import import_835
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import PAID_ON, Clp, Payment, Svc, write_835

D = Decimal
SYSTEM = Actor.system("test")


def _paid_claim(world):
    """A $73.48 claim paid $58.78 with CO-45 $14.70 by an 835 (four units of 97153 at $18.37)."""
    claim = submitted_claim(world)
    svc = Svc("97153", D("73.48"), D("58.78"), [("CO", "45", D("14.70"))], allowed=D("58.78"))
    clp = Clp(claim.number, "1", D("73.48"), D("58.78"), services=[svc])
    payment = Payment(D("58.78"), "EFT1", payer_name=world.payer.name, payer_id=world.payer.edi_payer_id,
                      claims=[clp], paid_on=PAID_ON)
    import_835(write_835([payment]).encode(), filename="a.835", actor=SYSTEM)
    db.session.flush()
    return claim


def _raw_entry(claim: Claim, kind: EntryKind, amount: str, **extra) -> None:
    """An entry written past the operations (as a bad migration or a hand edit would)."""
    db.session.execute(insert(LedgerEntry.__table__).values(
        claim_id=claim.id, claim_line_id=claim.lines[0].id, kind=kind, amount=D(amount), posted_on=PAID_ON,
        actor="intruder", source=EntrySource.MANUAL, created_at=utcnow(), **extra))


def test_a_paid_claim_and_its_remittance_hold_every_invariant(world):
    _paid_claim(world)
    assert check_ledger() == []
    assert total([]) == dict.fromkeys(CHECKS, 0)


def test_a_credit_without_needs_review_is_reported_with_its_claim(world):
    claim = _paid_claim(world)
    _raw_entry(claim, EntryKind.INSURANCE_PAYMENT, "20.00")
    [violation] = check_ledger()
    assert (violation.check, violation.subject) == ("credit-balance", claim.number)
    assert "-$20.00" in violation.message
    claim.needs_review = True  # a biller is on it: the credit is known
    db.session.flush()
    assert check_ledger() == []


def test_a_remittance_that_does_not_add_up_to_its_check_is_reported(world):
    _paid_claim(world)
    db.session.execute(update(Remittance).values(amount=Remittance.amount + D("1.00")))
    [violation] = check_ledger()
    assert violation.check == "remittance-balance"
    assert "$58.78" in violation.message
    assert "$59.78" in violation.message


def test_a_claim_total_that_is_not_its_lines_is_reported(world):
    claim = _paid_claim(world)
    db.session.execute(update(Claim).where(Claim.id == claim.id).values(total_charge=D("80.00")))
    db.session.expire_all()
    [violation] = check_ledger()
    assert (violation.check, violation.subject) == ("claim-total", claim.number)
    assert "$80.00" in violation.message
    assert "$73.48" in violation.message


def test_a_reversal_that_does_not_negate_its_original_is_reported(world):
    claim = _paid_claim(world)
    charge = next(e for e in claim_entries(claim) if e.kind is EntryKind.CHARGE)
    _raw_entry(claim, EntryKind.CHARGE, "-70.00", reverses_id=charge.id)
    checks = {v.check for v in check_ledger()}
    assert "reversal-link" in checks


def test_a_service_owed_on_two_claims_at_once_is_reported(world):
    claim = submitted_claim(world)  # sent, unpaid: its one line is owed
    twin = submitted_claim(world)  # another session's line, also owed: not the same service
    assert check_ledger() == []
    # Point the twin's line at the first claim's session: the same service is now owed twice.
    db.session.execute(update(ClaimLine).where(ClaimLine.id == twin.lines[0].id)
                       .values(session_id=claim.lines[0].session_id))
    [violation] = check_ledger()
    assert violation.check == "line-open-once"
    assert f"session {claim.lines[0].session_id}" in violation.message


def test_a_paid_line_and_an_owed_line_of_one_service_are_not_a_violation(world):
    claim = _paid_claim(world)  # paid in full: nothing owed on its line
    twin = submitted_claim(world)
    db.session.execute(update(ClaimLine).where(ClaimLine.id == twin.lines[0].id)
                       .values(session_id=claim.lines[0].session_id))
    assert check_ledger() == []


def test_the_command_exits_1_and_lists_each_violation(world, app):
    claim = _paid_claim(world)
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["ledger", "check"])
    assert clean.exit_code == 0
    assert "The ledger holds every invariant." in clean.output
    _raw_entry(claim, EntryKind.INSURANCE_PAYMENT, "20.00")
    broken = runner.invoke(args=["ledger", "check", "--json"])
    assert broken.exit_code == 1
    doc = json.loads(broken.output)
    assert doc["ok"] is False
    assert doc["counts"]["credit-balance"] == 1
    assert doc["violations"] == [{"check": "credit-balance", "subject": claim.number,
                                  "message": doc["violations"][0]["message"]}]


def claim_entries(claim: Claim) -> list[LedgerEntry]:
    return list(db.session.scalars(db.select(LedgerEntry).where(LedgerEntry.claim_id == claim.id)))
