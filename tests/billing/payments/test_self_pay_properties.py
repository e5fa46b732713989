"""Hypothesis: any sequence of self-pay visits, patient payments, write-offs and voids keeps each client's patient
balance equal to an independent sum (charges billed to the patient less what the patient paid or was forgiven)."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from billing.claims.operations import void_claim
from billing.claims.sessions import finalize_session
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.errors import BillingError
from billing.coverage.models import PayerType
from billing.ledger.models import LedgerEntry
from billing.ledger.patient_balances import patient_accounts, patient_balance
from billing.payments.invariants import check_ledger
from billing.payments.operations import record_patient_payment, write_off
from tests.worlds import factories as f
from tests.worlds.practice import DAY, SYSTEM

ON_DB = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
RATE = Decimal("25.00")

cents = st.integers(min_value=1, max_value=20_000).map(lambda n: Decimal(n) / 100)
step = st.one_of(
    st.tuples(st.just("visit"), st.sampled_from([15, 30, 45, 60, 90])),
    st.tuples(st.just("pay"), cents),
    st.tuples(st.just("write_off"), cents),
    st.tuples(st.just("void"), st.integers(min_value=0, max_value=5)),
)


@ON_DB
@given(steps=st.lists(step, min_size=1, max_size=10))
def test_patient_balance_is_the_independent_sum(world, steps):
    nested = db.session.begin_nested()
    try:
        payer = f.PayerFactory(company=world.company, payer_type=PayerType.SELF_PAY, claim_filing_indicator="09",
                               edi_enabled=False, edi_payer_id=None)
        world.policy.payer = payer
        f.RateFactory(fee_schedule=f.FeeScheduleFactory(company=world.company, payer=payer), service_code=world.code,
                      rate=RATE)
        claims, billed, paid, forgiven = [], {}, {}, {}
        for n, (kind, value) in enumerate(steps):
            if kind == "visit":
                claim = finalize_session(world.visit(minutes=value, start=time(6 + n, 0)), actor=SYSTEM).created[0]
                claims.append(claim)
                billed[claim.id] = RATE * (value // 15)  # the 97153 code's whole units at the self-pay rate
            elif claims and kind in ("pay", "write_off"):
                claim = claims[-1]
                owed = billed.get(claim.id, Decimal(0)) - paid.get(claim.id, 0) - forgiven.get(claim.id, 0)
                if claim.status is ClaimStatus.VOIDED or value > owed:
                    continue  # more than owed is refused unless confirmed; the refusal is tested elsewhere
                if kind == "pay":
                    record_patient_payment(claim, value, actor=SYSTEM, posted_on=DAY)
                    paid[claim.id] = paid.get(claim.id, Decimal(0)) + value
                else:
                    write_off(claim, reason="hardship", actor=SYSTEM, posted_on=DAY, patient=True, amount=value)
                    forgiven[claim.id] = forgiven.get(claim.id, Decimal(0)) + value
            elif claims and kind == "void":
                claim = claims[value % len(claims)]
                try:
                    with db.session.begin_nested():
                        void_claim(claim, reason="entered in error", actor=SYSTEM, money_confirmed=True)
                except BillingError:
                    continue  # already voided
                billed[claim.id] = Decimal(0)  # the charge is withdrawn...
                forgiven[claim.id] = Decimal(0)  # ...and the write-off with it; what was paid stays, a credit
            db.session.flush()
            expected = sum(billed.values(), Decimal(0)) - sum(paid.values(), Decimal(0)) \
                - sum(forgiven.values(), Decimal(0))
            assert patient_balance(world.client.id) == expected
            accounts = {a.client_id: a.balance for a in patient_accounts(open_only=False)}
            assert accounts.get(world.client.id, Decimal("0.00")) == expected
            for claim in claims:
                owes = billed[claim.id] - paid.get(claim.id, 0) - forgiven.get(claim.id, 0)
                if claim.status is not ClaimStatus.VOIDED:
                    assert (claim.status is ClaimStatus.PAID) == (owes == 0)
        entries = db.session.scalars(select(LedgerEntry)).all()
        reversed_ids = [e.reverses_id for e in entries if e.reverses_id]
        assert len(reversed_ids) == len(set(reversed_ids))
        assert check_ledger() == []
    finally:
        nested.rollback()
