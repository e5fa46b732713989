"""Two connections race each money operation on one claim: exactly one posts, the other is refused.

Each race runs in a database of its own (tests/worlds/scratch_db.py) so the two sides really commit. The first
side holds its transaction open for half a second after posting; the second starts then, so without the claim
row lock (SELECT ... FOR UPDATE on PostgreSQL, the write lock on SQLite) both would read the same open balance
and both would post. The expected amounts are written out by hand from the claim's charge.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from billing.claims.models import Claim
from billing.claims.operations import void_claim
from billing.core.db import db
from billing.core.operation_keys import claim_key, new_operation_key
from billing.core.time import practice_today
from billing.ledger.models import Adjudication, EntryKind, LedgerEntry
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments import operations as money
from billing.payments.operations import EntrySource
from billing.payments.posting import post_adjudication
from billing.payments.reversals import manual_clawback, standing_payments
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import PAID_ON, full_payment
from tests.worlds.practice import SYSTEM, build_world
from tests.worlds.scratch_db import own_database, race

D = Decimal
CHARGE = D("73.48")  # the one-line claim of tests/worlds/claims.submitted_claim

pytestmark = pytest.mark.slow


def _claim(answer: str) -> int:
    """A committed one-line claim: 'none' unanswered, 'denied' ($73.48 open to the payer... or the patient), 'paid'."""
    claim = submitted_claim(build_world())
    if answer == "denied":
        post_adjudication(claim, ClaimPosting(PAID_ON, (LinePosting(1, D("0"), (Adjustment("PR", "96", CHARGE),)),)),
                          actor=SYSTEM, source=EntrySource.MANUAL)
    elif answer == "paid":
        post_adjudication(claim, full_payment(claim), actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    claim_id = claim.id
    db.session.commit()
    db.session.remove()  # no read transaction of this thread may stay open beside the race
    return claim_id


def _sum(claim_id: int, kind: EntryKind) -> Decimal:
    db.session.remove()
    total = db.session.scalar(select(func.sum(LedgerEntry.amount))
                              .where(LedgerEntry.claim_id == claim_id, LedgerEntry.kind == kind))
    return D(str(total or 0)).quantize(D("0.01"))


def on(claim_id: int, operation: Callable[[Claim], object]) -> Callable[[], object]:
    return lambda: operation(db.session.get(Claim, claim_id))


def _one_won(results: dict[str, str]) -> None:
    assert results["first"] == "done", results
    assert results["second"] != "done", results


def test_two_write_offs_of_the_whole_balance_write_it_off_once(app: Flask, tmp_path: Path):
    with own_database(tmp_path):
        claim_id = _claim("none")
        write_off = on(claim_id, lambda c: money.write_off(c, reason="small balance", actor=SYSTEM,
                                                           posted_on=practice_today()))
        _one_won(race(app, write_off, write_off))
        assert _sum(claim_id, EntryKind.WRITE_OFF) == CHARGE


def test_two_patient_payments_of_the_whole_share_record_one(app: Flask, tmp_path: Path):
    with own_database(tmp_path):
        claim_id = _claim("denied")
        pay = on(claim_id, lambda c: money.record_patient_payment(c, CHARGE, actor=SYSTEM,
                                                                  posted_on=practice_today()))
        _one_won(race(app, pay, pay))
        assert _sum(claim_id, EntryKind.PATIENT_PAYMENT) == CHARGE


def test_two_bills_to_the_patient_move_the_balance_once(app: Flask, tmp_path: Path):
    with own_database(tmp_path):
        claim_id = _claim("none")
        bill = on(claim_id, lambda c: money.bill_patient(c, actor=SYSTEM, posted_on=practice_today()))
        _one_won(race(app, bill, bill))
        assert _sum(claim_id, EntryKind.PATIENT_RESPONSIBILITY) == CHARGE


def test_two_manual_payments_post_one_adjudication(app: Flask, tmp_path: Path):
    with own_database(tmp_path):
        claim_id = _claim("none")
        pay = on(claim_id, lambda c: money.record_manual_payment(c, full_payment(c), actor=SYSTEM))
        _one_won(race(app, pay, pay))
        db.session.remove()
        assert db.session.scalar(select(func.count()).select_from(Adjudication)
                                 .where(Adjudication.claim_id == claim_id)) == 1
        assert _sum(claim_id, EntryKind.INSURANCE_PAYMENT) == D("58.78")  # 80% of 73.48


def test_two_clawbacks_of_one_payment_reverse_it_once(app: Flask, tmp_path: Path):
    with own_database(tmp_path):
        claim_id = _claim("paid")
        back = on(claim_id, lambda c: manual_clawback(c, reason="payer letter", posted_on=practice_today(),
                                                      actor=SYSTEM, payments=standing_payments(c.id)))
        _one_won(race(app, back, back))
        assert _sum(claim_id, EntryKind.INSURANCE_PAYMENT) == D("0.00")  # 58.78 paid, 58.78 taken back once


def test_two_voids_of_a_paid_claim_withdraw_it_once(app: Flask, tmp_path: Path):
    with own_database(tmp_path):
        claim_id = _claim("paid")
        void = on(claim_id, lambda c: void_claim(c, reason="wrong client", actor=SYSTEM, money_confirmed=True))
        results = race(app, void, void)
        assert results["first"] == "done", results
        # The charge (73.48) and the payer's CO-45 (14.70) are withdrawn once; the 58.78 paid stays as a credit.
        assert _sum(claim_id, EntryKind.CHARGE) == D("0.00")
        assert _sum(claim_id, EntryKind.CONTRACTUAL) == D("0.00")
        assert _sum(claim_id, EntryKind.INSURANCE_PAYMENT) == D("58.78")


def test_two_submits_of_one_form_key_post_once(app: Flask, tmp_path: Path):
    """The key alone serialises a double submit, even of amounts the balance would allow twice."""
    with own_database(tmp_path):
        claim_id = _claim("denied")
        key = new_operation_key()

        def submit() -> None:
            if claim_key(key, operation="claim.patient-payment", subject=f"claim:{claim_id}", actor="x") is None:
                raise money.NothingToDo("already submitted")
            money.record_patient_payment(db.session.get(Claim, claim_id), D("20.00"), actor=SYSTEM,
                                         posted_on=practice_today())

        results = race(app, submit, submit)
        assert results == {"first": "done", "second": "already submitted"}
        assert _sum(claim_id, EntryKind.PATIENT_PAYMENT) == D("20.00")


def test_two_secondary_claims_from_one_primary_create_one(app: Flask, tmp_path: Path):
    from billing.coverage.models import PolicyRank
    from billing.payments.secondary import generate_secondary_claim
    from tests.worlds import factories as f

    with own_database(tmp_path):
        world = build_world()
        claim = submitted_claim(world)
        f.PolicyFactory(client=world.client, payer=f.PayerFactory(company=world.company), rank=PolicyRank.SECONDARY)
        post_adjudication(claim, full_payment(claim, copay=D("10.00")), actor=SYSTEM, source=EntrySource.MANUAL)
        db.session.flush()
        claim_id = claim.id
        db.session.commit()
        db.session.remove()
        make = on(claim_id, lambda c: generate_secondary_claim(c, actor=SYSTEM, posted_on=practice_today()))
        _one_won(race(app, make, make))
        db.session.remove()
        assert db.session.scalar(select(func.count()).select_from(Claim)
                                 .where(Claim.primary_claim_id == claim_id)) == 1
        assert _sum(claim_id, EntryKind.TRANSFER_TO_SECONDARY) == D("10.00")  # the copay, moved once


def test_two_matches_of_one_unmatched_payment_post_it_once(app: Flask, tmp_path: Path):
    from billing.payments.matching import match_unmatched
    from billing.payments.models import UnmatchedClaim
    from billing.payments.remittances import import_835
    from tests.worlds.payments import Clp, Payment, Svc, write_835

    with own_database(tmp_path):
        world = build_world()
        claim = submitted_claim(world)
        line = claim.lines[0]
        stray = Clp("PATIENT-ACCT-1", "1", CHARGE, D("58.78"), services=[
            Svc(line.service_code.code, CHARGE, D("58.78"), [("CO", "45", D("14.70"))], None, line.service_date)])
        era = write_835([Payment(D("58.78"), "CHK-RACE", world.payer.name, world.payer.edi_payer_id, [stray])])
        import_835(era.encode(), filename="race.835", actor=SYSTEM)
        db.session.flush()
        claim_id, item_id = claim.id, db.session.scalars(select(UnmatchedClaim.id)).one()
        db.session.commit()
        db.session.remove()

        def match() -> None:
            match_unmatched(db.session.get(UnmatchedClaim, item_id), db.session.get(Claim, claim_id), actor=SYSTEM)

        _one_won(race(app, match, match))
        assert _sum(claim_id, EntryKind.INSURANCE_PAYMENT) == D("58.78")
