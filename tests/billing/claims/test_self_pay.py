"""Self-pay claims are patient bills: billed to the patient when complete, paid by the patient, never batched.

Money is checked against sums written out here from the claim's lines, never against the code's own balances.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest
from sqlalchemy import select

from billing.claims.insurance_rebill import rebill_to_insurance
from billing.claims.operations import correct_claim, release_claim, void_claim
from billing.claims.self_pay import bill_ready_self_pay
from billing.claims.sessions import finalize_session
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.core.errors import BillingError
from billing.coverage.models import PayerType, RoundingRule
from billing.ledger.models import EntryKind, LedgerEntry
from billing.ledger.patient_balances import patient_accounts, patient_balance, patient_items
from billing.payments.invariants import check_ledger
from billing.payments.operations import record_patient_payment, write_off
from billing.submissions.queries import candidates
from tests.worlds import factories as f
from tests.worlds.claims import history
from tests.worlds.practice import DAY, RATE, SYSTEM

SELF_PAY_RATE = Decimal("25.00")


@pytest.fixture
def self_pay(world):
    """The world's client pays for themselves: a self-pay payer as primary, with its own fee schedule."""
    payer = f.PayerFactory(company=world.company, name="Self-pay", payer_type=PayerType.SELF_PAY,
                           claim_filing_indicator="09", edi_enabled=False, edi_payer_id=None)
    world.policy.payer = payer
    schedule = f.FeeScheduleFactory(company=world.company, payer=payer, name="Self-pay 2026")
    f.RateFactory(fee_schedule=schedule, service_code=world.code, rate=SELF_PAY_RATE)
    db.session.flush()
    return payer


def _entries(claim):
    return list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.claim_id == claim.id)
                                   .order_by(LedgerEntry.id)))


def _patient_owes(claim) -> Decimal:
    """Independent of the balance code: what was moved to the patient less what the patient paid or was forgiven."""
    signs = {EntryKind.PATIENT_RESPONSIBILITY: 1, EntryKind.PATIENT_PAYMENT: -1, EntryKind.PATIENT_WRITE_OFF: -1}
    return sum((signs.get(e.kind, 0) * e.amount for e in _entries(claim)), Decimal(0))


def test_a_finalized_self_pay_session_goes_straight_to_the_patients_balance(world, self_pay):
    claim = world.claim()  # 60 minutes: 4 units

    assert (claim.self_pay, claim.status, claim.payer_id) == (True, ClaimStatus.SUBMITTED, self_pay.id)
    assert claim.total_charge == 4 * SELF_PAY_RATE
    kinds = [(e.kind, e.amount, e.claim_line_id) for e in _entries(claim)]
    line = claim.lines[0].id
    assert kinds == [(EntryKind.CHARGE, Decimal("100.00"), line),
                     (EntryKind.PATIENT_RESPONSIBILITY, Decimal("100.00"), line)]
    assert [(h.action, h.from_status, h.to_status) for h in history(claim)] == [
        (AuditAction.CLAIM_CREATED, None, "ready"), (AuditAction.SELF_PAY_BILLED, "ready", "submitted")]
    assert patient_balance(world.client.id) == Decimal("100.00")
    assert check_ledger() == []


def test_a_client_without_insurance_is_billed_as_self_pay_at_the_default_rate(world):
    client = f.ClientFactory(location=world.location)
    default = f.FeeScheduleFactory(company=world.company, payer=None, name="Practice default")
    f.RateFactory(fee_schedule=default, service_code=world.code, rate=Decimal("30.00"))

    claim = world.claim(client=client, minutes=30)

    assert (claim.self_pay, claim.status, claim.payer_id, claim.policy_id) == (True, ClaimStatus.SUBMITTED, None, None)
    assert patient_balance(client.id) == Decimal("60.00")


def test_an_insured_clients_claim_is_not_self_pay(world):
    claim = world.claim()
    assert (claim.self_pay, claim.status) == (False, ClaimStatus.READY)
    assert _entries(claim) == []


def test_patient_payments_settle_the_claim_paid_and_balance_follows_the_sums(world, self_pay):
    claim = world.claim(minutes=90)  # 6 units: 150.00
    record_patient_payment(claim, Decimal("40.00"), actor=SYSTEM, posted_on=DAY)
    assert claim.status is ClaimStatus.SUBMITTED
    assert patient_balance(world.client.id) == _patient_owes(claim) == Decimal("110.00")

    record_patient_payment(claim, Decimal("100.00"), actor=SYSTEM, posted_on=DAY)
    write_off(claim, reason="prompt-pay discount", actor=SYSTEM, posted_on=DAY, patient=True)
    assert claim.status is ClaimStatus.PAID
    assert _patient_owes(claim) == Decimal("0.00") == patient_balance(world.client.id)
    assert history(claim)[-1].action is AuditAction.CLAIM_PAID
    [item] = patient_items(world.client.id)
    assert (item.billed, item.paid, item.balance, item.self_pay) == (Decimal("150.00"), Decimal("140.00"),
                                                                    Decimal("0.00"), True)
    assert check_ledger() == []


def test_an_overpayment_over_the_patient_balance_is_refused(world, self_pay):
    claim = world.claim()
    with pytest.raises(BillingError) as refused, db.session.begin_nested():
        record_patient_payment(claim, Decimal("100.01"), actor=SYSTEM, posted_on=DAY)
    assert "more than the patient balance of $100.00" in refused.value.message
    assert _patient_owes(claim) == Decimal("100.00")


def test_a_self_pay_claim_is_never_a_batch_candidate(world, self_pay):
    self_pay.edi_enabled, self_pay.edi_payer_id = True, "SELF1"  # even a payer set up wrongly as EDI
    claim = world.claim()
    assert claim.id not in {c.claim_id for c in candidates(claim_ids=[claim.id])}


def test_a_held_self_pay_claim_goes_to_the_patient_when_released(world, self_pay):
    unpriced = world.code_with("97155", RoundingRule.WHOLE_UNITS, rate=None)
    claim = world.claim(service_code=unpriced)
    assert (claim.status, claim.hold_reason) == (ClaimStatus.HELD, "No fee-schedule rate for 97155 on 03/02/2026")
    assert _entries(claim) == []

    schedule = f.FeeScheduleFactory(company=world.company, payer=self_pay, name="Self-pay 97155")
    f.RateFactory(fee_schedule=schedule, service_code=unpriced, rate=Decimal("12.00"))
    release_claim(claim, actor=SYSTEM)

    assert claim.status is ClaimStatus.SUBMITTED
    assert _patient_owes(claim) == Decimal("48.00")  # 4 whole units at the new rate


def test_voiding_a_self_pay_claim_withdraws_the_patient_charge_and_sends_nothing(world, self_pay):
    claim = world.claim()
    record_patient_payment(claim, Decimal("30.00"), actor=SYSTEM, posted_on=DAY)
    with pytest.raises(BillingError) as refused, db.session.begin_nested():
        void_claim(claim, reason="entered in error", actor=SYSTEM)
    assert "the patient paid $30.00" in refused.value.message

    void_claim(claim, reason="entered in error", actor=SYSTEM, money_confirmed=True)

    assert (claim.status, claim.void_to_send, claim.needs_review) == (ClaimStatus.VOIDED, False, True)
    standing = {e.kind: e.amount for e in _entries(claim) if e.reverses_id is None}
    reversed_ids = {e.reverses_id for e in _entries(claim) if e.reverses_id}
    assert {e.kind for e in _entries(claim) if e.id in reversed_ids} == {EntryKind.CHARGE,
                                                                        EntryKind.PATIENT_RESPONSIBILITY}
    assert standing[EntryKind.PATIENT_PAYMENT] == Decimal("30.00")
    assert _patient_owes(claim) == Decimal("-30.00") == patient_balance(world.client.id)  # a credit, flagged
    assert check_ledger() == []


def test_a_self_pay_claim_is_not_corrected(world, self_pay):
    claim = world.claim()
    with pytest.raises(BillingError) as refused, db.session.begin_nested():
        correct_claim(claim, actor=SYSTEM, reason="wrong code", payer_claim_number="X1")
    assert "Void it (the patient's charge is withdrawn) and bill the session again" in refused.value.message


# Re-billing to insurance


def test_rebill_is_refused_with_the_way_forward_while_the_client_has_no_insurance(world, self_pay):
    claim = world.claim()
    with pytest.raises(BillingError) as refused, db.session.begin_nested():
        rebill_to_insurance(claim, actor=SYSTEM)
    assert "has no insurance policy active as primary on 03/02/2026. Add the policy" in refused.value.message
    assert claim.status is ClaimStatus.SUBMITTED


def test_rebill_withdraws_the_patient_charge_and_bills_the_payer(world, self_pay):
    claim = world.claim()
    second = finalize_session(world.visit(start=time(14, 0), minutes=30), actor=SYSTEM).created[0]
    world.policy.payer = world.payer  # the office finds the client's insurance card
    db.session.flush()

    result = rebill_to_insurance(claim, actor=SYSTEM)

    assert (claim.status, claim.void_to_send) == (ClaimStatus.VOIDED, False)
    [new] = result.created
    assert (new.self_pay, new.status, new.payer_id) == (False, ClaimStatus.READY, world.payer.id)
    assert new.total_charge == 4 * RATE
    assert [ln.session_id for ln in new.lines] == [ln.session_id for ln in claim.lines]
    assert _patient_owes(claim) == Decimal("0.00")
    assert patient_balance(world.client.id) == _patient_owes(second) == Decimal("50.00")
    assert check_ledger() == []
    with pytest.raises(BillingError), db.session.begin_nested():
        rebill_to_insurance(new, actor=SYSTEM)


# Databases from before self-pay billing


def test_bill_ready_self_pay_moves_old_ready_claims_once(world, self_pay):
    self_pay.payer_type = PayerType.COMMERCIAL  # built as an insurance claim, as before self-pay billing
    claim = world.claim()
    self_pay.payer_type = PayerType.SELF_PAY
    db.session.flush()
    assert (claim.self_pay, claim.status) == (False, ClaimStatus.READY)
    assert [v.check for v in check_ledger()] == []  # not marked self-pay yet: the migration marks it

    moved = bill_ready_self_pay(actor=SYSTEM)
    again = bill_ready_self_pay(actor=SYSTEM)

    assert (moved.billed, again.billed) == ([claim.number], [])
    assert (claim.self_pay, claim.status) == (True, ClaimStatus.SUBMITTED)
    assert _patient_owes(claim) == Decimal("100.00")
    assert [h.action for h in history(claim)].count(AuditAction.SELF_PAY_BILLED) == 1
    assert check_ledger() == []


def test_the_ledger_check_names_a_self_pay_claim_left_in_ready(world, self_pay):
    self_pay.payer_type = PayerType.COMMERCIAL
    claim = world.claim()
    claim.self_pay = True  # what the migration marks on an old Ready claim
    db.session.flush()
    [violation] = check_ledger()
    assert (violation.check, violation.subject) == ("self-pay", claim.number)
    assert "flask claims bill-self-pay" in violation.message


def test_patient_accounts_sum_per_client(world, self_pay):
    world.claim()
    other = f.ClientFactory(location=world.location)
    f.PolicyFactory(client=other, payer=self_pay)
    paid = world.claim(client=other, minutes=30)
    record_patient_payment(paid, Decimal("50.00"), actor=SYSTEM, posted_on=DAY)

    assert [(a.client_id, a.billed, a.paid, a.balance) for a in patient_accounts()] == [
        (world.client.id, Decimal("100.00"), Decimal("0.00"), Decimal("100.00"))]
    everyone = {a.client_id: a.balance for a in patient_accounts(open_only=False)}
    assert everyone == {world.client.id: Decimal("100.00"), other.id: Decimal("0.00")}
