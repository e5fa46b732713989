"""A patient payment as one money operation: oldest first across the client's claims, or on a chosen claim; posted
once per one-time key; checked whole before anything is written; with a receipt row and a history row."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.core.errors import Invalid, NotAllowed, ValidationFailed
from billing.core.operation_keys import OperationKey, new_operation_key
from billing.ledger.models import EntryKind, LedgerEntry
from billing.ledger.patient_balances import patient_balance
from billing.payments.patient_payment_models import PatientPayment
from billing.payments.patient_payments import receive_patient_payment
from tests.worlds import factories as f
from tests.worlds.patient_billing import SELF_PAY_RATE, VISIT_CHARGE, make_self_pay, self_pay_visit, self_pay_visits
from tests.worlds.practice import DAY, SYSTEM

D = Decimal


def _patient_paid(claim) -> Decimal:
    """Independent: the claim's patient payment entries, summed here."""
    amounts = db.session.scalars(select(LedgerEntry.amount).where(
        LedgerEntry.claim_id == claim.id, LedgerEntry.kind == EntryKind.PATIENT_PAYMENT))
    return sum(amounts, D("0.00"))


def _entry_count() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def _pay(world, amount, key=None, **kwargs):
    return receive_patient_payment(world.client.id, D(amount), key=key or new_operation_key(), actor=SYSTEM,
                                   received_on=DAY, **kwargs)


def test_oldest_first_fills_the_oldest_claims_and_leaves_the_rest(world):
    first, second, third = self_pay_visits(world, 3)
    done = _pay(world, "250.00", memo="check 1001")
    assert [_patient_paid(c) for c in (first, second, third)] == [VISIT_CHARGE, VISIT_CHARGE, D("50.00")]
    assert done.payment.amount == D("250.00")
    assert not done.repeated
    assert sum(p.entry.amount for p in done.payment.parts) == D("250.00")
    history = db.session.scalars(select(StatusChange).where(StatusChange.subject_type == "patient_payment")).all()
    assert [h.action for h in history] == [AuditAction.PATIENT_PAYMENT_RECEIVED]
    assert history[0].data["claims"] == {first.number: "100.00", second.number: "100.00", third.number: "50.00"}


def test_the_same_key_posts_once_and_returns_the_first_payment(world):
    self_pay_visits(world, 2)
    key = new_operation_key()
    first = _pay(world, "120.00", key=key)
    entries = _entry_count()
    again = _pay(world, "120.00", key=key)
    assert again.repeated
    assert again.payment.id == first.payment.id
    assert _entry_count() == entries
    assert db.session.scalar(select(func.count()).select_from(PatientPayment)) == 1


def test_more_than_owed_is_refused_whole_unless_confirmed(world):
    claims = self_pay_visits(world, 2)
    entries = _entry_count()
    with pytest.raises(ValidationFailed) as refused, db.session.begin_nested():
        _pay(world, "200.01")
    assert refused.value.problems[0].field == "overpayment"
    assert _entry_count() == entries
    assert db.session.scalar(select(func.count()).select_from(OperationKey)) == 0  # the key is left unused
    _pay(world, "250.00", overpayment=True)
    assert [_patient_paid(c) for c in claims] == [VISIT_CHARGE, D("150.00")]  # the rest is a credit on the last
    assert claims[1].needs_review


def test_a_chosen_claim_takes_it_all_and_gets_a_receipt(world):
    first, second = self_pay_visits(world, 2)
    done = _pay(world, "40.00", claim=second)
    assert (_patient_paid(first), _patient_paid(second)) == (D("0.00"), D("40.00"))
    assert done.payment.applied_by == "claim"


def test_bad_input_names_the_field_and_changes_nothing(world):
    (claim,) = self_pay_visits(world, 1)
    other = self_pay_visits_for_another_client(world)
    entries = _entry_count()
    with pytest.raises(ValidationFailed) as refused, db.session.begin_nested():
        _pay(world, "0.00")
    assert refused.value.problems[0].field == "amount"
    with pytest.raises(ValidationFailed) as refused, db.session.begin_nested():
        _pay(world, "10.00", claim=other)
    assert refused.value.problems[0].field == "claim"
    with pytest.raises(Invalid), db.session.begin_nested():
        _pay(world, "10.00", key="short")
    assert _entry_count() == entries
    assert _patient_paid(claim) == D("0.00")


def test_a_client_who_owes_nothing_is_refused(world):
    self_pay_visits(world, 1)
    _pay(world, "100.00")
    with pytest.raises(NotAllowed), db.session.begin_nested():
        _pay(world, "5.00")


def self_pay_visits_for_another_client(world):
    """A self-pay claim of a second client (the world's client stays the first one)."""
    first = world.client
    world.client = f.ClientFactory(location=world.location)
    f.DiagnosisFactory(client=world.client, position=1, code="F840")
    f.PolicyFactory(client=world.client, payer=world.policy.payer)
    claim = self_pay_visit(world)
    world.client = first
    return claim


cents = st.integers(min_value=1, max_value=40_000).map(lambda n: D(n) / 100)
ON_DB = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@ON_DB
@given(visits=st.lists(st.tuples(st.integers(min_value=0, max_value=60), st.sampled_from([15, 30, 60, 90])),
                       min_size=1, max_size=5),
       payments=st.lists(cents, min_size=1, max_size=4))
def test_oldest_first_fills_claims_in_service_order_like_a_hand_fill(world, visits, payments):
    """Independent: a hand fill of each payment over the claims' charges in (service date, claim id) order."""
    nested = db.session.begin_nested()
    try:
        make_self_pay(world)
        claims = [self_pay_visit(world, day=DAY + timedelta(days=day), minutes=minutes, start=time(6 + 2 * n, 0))
                  for n, (day, minutes) in enumerate(visits)]
        owed = {c.id: SELF_PAY_RATE * (m // 15) for c, (_, m) in zip(claims, visits, strict=True)}
        charged = dict(owed)
        order = sorted(claims, key=lambda c: (c.service_date, c.id))
        for amount in payments:
            if amount > sum(owed.values()):
                with pytest.raises(ValidationFailed), db.session.begin_nested():
                    _pay(world, amount)
                continue
            _pay(world, amount)
            left = amount
            for claim in order:
                share = min(left, owed[claim.id])
                owed[claim.id] -= share
                left -= share
        for claim in claims:
            assert _patient_paid(claim) == charged[claim.id] - owed[claim.id]
        assert patient_balance(world.client.id) == sum(owed.values())
    finally:
        nested.rollback()
