"""Hypothesis: money stays exact through any sequence of operations (the X12 reader's properties are in
tests/billing/edi/test_segments_properties.py)."""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from billing.core.db import db
from billing.core.errors import BillingError
from billing.core.money import ZERO, sum_money
from billing.ledger.balances import claim_balance, reversed_entry_ids
from billing.ledger.models import EFFECTS, EntryKind, EntrySource, LedgerEntry
from billing.ledger.operations import reverse_entry
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.operations import record_patient_payment, write_off
from billing.payments.posting import post_adjudication
from billing.payments.remittances import import_835
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import PAID_ON, Clp, Payment, Svc, write_835
from tests.worlds.practice import SYSTEM

D = Decimal
cents = st.integers(min_value=0, max_value=7348).map(lambda n: D(n) / 100)
ON_DB = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

step = st.one_of(
    st.tuples(st.just("pay"), cents, cents, st.sampled_from(["CO", "OA", "PR"])),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=50)),
    st.tuples(st.just("write_off"), st.booleans()),
    st.tuples(st.just("patient_pays"), cents),
    st.tuples(st.just("reimport"), cents),
    st.tuples(st.just("clawback"), cents),  # reverse the standing payment, post a corrected one
)


def snapshot() -> dict[int, tuple]:
    return {e.id: (e.kind, e.amount, e.claim_line_id, e.reverses_id)
            for e in db.session.scalars(select(LedgerEntry).execution_options(populate_existing=True))}


def expected_balance(claim_id: int) -> Decimal:
    """charges - payments - adjustments - transfers, computed independently of Balances."""
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.claim_id == claim_id)).all()
    return sum_money(e.amount * sum(EFFECTS[e.kind]) for e in entries)


def apply(claim, action, era: dict[str, bytes]) -> None:
    kind = action[0]
    if kind == "pay":
        _, paid, adjusted, group = action
        line = claim.lines[0]
        posting = ClaimPosting(PAID_ON, (LinePosting(1, paid, (Adjustment(group, "45" if group != "PR" else "2",
                                                                          adjusted),), leave_open=True),))
        if line.charge >= paid + adjusted:
            post_adjudication(claim, posting, actor=SYSTEM, source=EntrySource.MANUAL)
    elif kind == "reverse":
        entries = [e for e in db.session.scalars(select(LedgerEntry).where(
            LedgerEntry.claim_id == claim.id, LedgerEntry.reverses_id.is_(None),
            LedgerEntry.kind != EntryKind.CHARGE).order_by(LedgerEntry.id))]
        if entries:
            entry = entries[action[1] % len(entries)]
            try:
                reverse_entry(entry, actor=SYSTEM, reason="prop", posted_on=PAID_ON)
            except BillingError:
                assert entry.id in reversed_entry_ids(claim.id)  # refused only because it was reversed
    elif kind == "write_off":
        with contextlib.suppress(BillingError):  # nothing left on that side
            write_off(claim, reason="prop", actor=SYSTEM, posted_on=PAID_ON, patient=action[1])
    elif kind == "patient_pays":
        with contextlib.suppress(BillingError):
            record_patient_payment(claim, action[1], actor=SYSTEM, posted_on=PAID_ON)
    elif kind == "clawback":
        from billing.payments.reversals import CorrectedLine, corrected_posting, manual_clawback, standing_payments

        payments = standing_payments(claim.id)
        if payments:
            charge = claim.lines[0].charge
            posting, _ = corrected_posting(claim, [CorrectedLine(1, charge, min(action[1], charge))], paid_on=PAID_ON)
            manual_clawback(claim, reason="prop", posted_on=PAID_ON, actor=SYSTEM, payments=payments[-1:],
                            corrected=posting)
    elif kind == "reimport":
        key = claim.number
        if key not in era:
            paid = min(action[1], claim.lines[0].charge)
            svc = Svc("97153", claim.lines[0].charge, paid, [("CO", "45", claim.lines[0].charge - paid)],
                      line_control="1")
            era[key] = write_835([Payment(paid, f"CHK{claim.id}", claim.payer.name, claim.payer.edi_payer_id,
                                          [Clp(key, "1", claim.lines[0].charge, paid, services=[svc])])]).encode()
        import_835(era[key], filename="prop.835", actor=SYSTEM)
    db.session.flush()


@ON_DB
@given(steps=st.lists(step, max_size=8))
def test_any_sequence_keeps_balances_exact_and_the_ledger_append_only(world, steps):
    nested = db.session.begin_nested()
    try:
        claim = submitted_claim(world)
        era: dict[str, bytes] = {}
        seen = snapshot()
        for action in steps:
            apply(claim, action, era)
            now = snapshot()
            assert {k: now[k] for k in seen} == seen  # nothing edited, nothing deleted
            seen = now
            reversals = [v[3] for v in now.values() if v[3] is not None]
            assert len(reversals) == len(set(reversals))  # never reversed twice
            sums = claim_balance(claim.id)
            assert sums.balance == expected_balance(claim.id)
            assert sums.balance == (sums.charges - sums.paid_by_payer - sums.paid_by_patient - sums.adjustments
                                    - sums.of(EntryKind.TRANSFER_TO_SECONDARY))
    finally:
        nested.rollback()


@ON_DB
@given(paid=cents, adjusted=cents, copay=cents)
def test_a_reversal_brings_the_balance_back_exactly(world, paid, adjusted, copay):
    nested = db.session.begin_nested()
    try:
        claim = submitted_claim(world)
        posting = ClaimPosting(PAID_ON, (LinePosting(1, paid, (Adjustment("CO", "45", adjusted),
                                                              Adjustment("PR", "3", copay)), leave_open=True),))
        before = claim_balance(claim.id).balance if claim_balance(claim.id).by_kind else claim.total_charge
        post_adjudication(claim, posting, actor=SYSTEM, source=EntrySource.MANUAL)
        db.session.flush()
        for entry in db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind != EntryKind.CHARGE)).all():
            reverse_entry(entry, actor=SYSTEM, reason="prop", posted_on=date(2026, 4, 2))
        db.session.flush()
        after = claim_balance(claim.id)
        assert after.balance == before
        assert after.patient == ZERO
    finally:
        nested.rollback()
