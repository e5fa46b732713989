"""The client ledger: every entry of the client's claims in posting order, with running balances that match an
independent running sum and, at the end, billing/ledger/balances.py to the cent; a date range carries the balance
before it forward."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from billing.claims.models import Claim
from billing.core.db import db
from billing.core.errors import BillingError, NotFound, ValidationFailed
from billing.ledger.balances import claim_balances
from billing.ledger.client_ledger import Category, client_ledger
from billing.ledger.models import LedgerEntry
from billing.payments.operations import record_patient_payment, write_off
from tests.worlds.money import CLAWBACK_ON, build_money_world
from tests.worlds.patient_billing import make_self_pay, self_pay_visit
from tests.worlds.practice import DAY, SYSTEM

D = Decimal
ZERO = D("0.00")
#: Written out here, not read from EFFECTS: (insurance, patient) sign per kind, as a biller's hand ledger has them.
SIGNS = {
    "charge": (1, 0), "insurance_payment": (-1, 0), "contractual": (-1, 0), "other_adjustment": (-1, 0),
    "patient_responsibility": (-1, 1), "patient_payment": (0, -1), "write_off": (-1, 0), "patient_write_off": (0, -1),
    "transfer_to_secondary": (0, -1), "insurance_refund": (1, 0), "patient_refund": (0, 1),
    "patient_credit_out": (0, 1), "patient_credit_in": (0, -1),
}


def _hand_ledger(client_id: int, start: date | None = None) -> tuple[tuple[D, D], list[tuple[int, D, D]]]:
    """Independent: the client's entries in (date, id) order, summed in Python; (opening, [(entry, ins, pat)])."""
    entries = db.session.scalars(
        select(LedgerEntry).join(Claim, Claim.id == LedgerEntry.claim_id).where(Claim.client_id == client_id))
    ins = pat = ZERO
    opening, running = (ZERO, ZERO), []
    for entry in sorted(entries, key=lambda e: (e.posted_on, e.id)):
        sign_ins, sign_pat = SIGNS[entry.kind.value]
        ins, pat = ins + sign_ins * D(entry.amount), pat + sign_pat * D(entry.amount)
        if start is not None and entry.posted_on < start:
            opening = (ins, pat)
        else:
            running.append((entry.id, ins.quantize(D("0.01")), pat.quantize(D("0.01"))))
    return opening, running


def _balances_py(client_id: int) -> tuple[D, D]:
    ids = db.session.scalars(select(Claim.id).where(Claim.client_id == client_id))
    sums = claim_balances(ids).values()
    return sum((b.insurance for b in sums), ZERO), sum((b.patient for b in sums), ZERO)


def test_the_money_world_ledger_runs_like_the_hand_ledger_and_ends_on_the_claims_balances(world):
    money = build_money_world(world)
    ledger = client_ledger(world.client.id)
    _, hand = _hand_ledger(world.client.id)
    assert [(r.entry_id, r.balance.insurance, r.balance.patient) for r in ledger.rows] == hand
    assert (ledger.closing.insurance, ledger.closing.patient) == _balances_py(world.client.id)
    categories = {r.category for r in ledger.rows}
    assert {Category.CHARGE, Category.PAYMENT, Category.ADJUSTMENT, Category.TRANSFER, Category.REVERSAL} <= categories
    assert {r.claim for r in ledger.rows} == {money.paid.number, money.denied.number, money.shared.number}


def test_a_date_range_carries_the_earlier_balance_forward(world):
    build_money_world(world)
    start, end = CLAWBACK_ON, CLAWBACK_ON + timedelta(days=30)
    ledger = client_ledger(world.client.id, start=start, end=end)
    opening, hand = _hand_ledger(world.client.id, start=start)
    assert (ledger.opening.insurance, ledger.opening.patient) == opening
    assert all(start <= r.posted_on <= end for r in ledger.rows)
    assert [r.entry_id for r in ledger.rows] == [e for e, *_ in hand]
    moved = (sum((r.change.insurance for r in ledger.rows), ZERO), sum((r.change.patient for r in ledger.rows), ZERO))
    assert (ledger.closing.insurance, ledger.closing.patient) == (opening[0] + moved[0], opening[1] + moved[1])


def test_a_reversed_range_names_the_field_and_an_unknown_client_is_not_found(world):
    with pytest.raises(ValidationFailed) as refused:
        client_ledger(world.client.id, start=DAY, end=DAY - timedelta(days=1))
    assert refused.value.problems[0].field == "from"
    with pytest.raises(NotFound):
        client_ledger(999_999)


def test_a_client_with_nothing_posted_has_an_empty_ledger_at_zero(world):
    ledger = client_ledger(world.client.id)
    assert ledger.rows == []
    assert ledger.closing.total == ZERO


cents = st.integers(min_value=1, max_value=15_000).map(lambda n: D(n) / 100)
step = st.one_of(
    st.tuples(st.just("visit"), st.integers(min_value=0, max_value=40)),
    st.tuples(st.just("pay"), cents),
    st.tuples(st.just("write_off"), cents),
)
ON_DB = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@ON_DB
@given(steps=st.lists(step, min_size=1, max_size=8), cut=st.integers(min_value=0, max_value=45))
def test_any_sequence_runs_like_the_hand_ledger_and_balances_py(world, steps, cut):
    nested = db.session.begin_nested()
    try:
        make_self_pay(world)
        claims = []
        for n, (kind, value) in enumerate(steps):
            if kind == "visit":
                claims.append(self_pay_visit(world, day=DAY + timedelta(days=value), start=_slot(n)))
            elif claims:
                try:
                    with db.session.begin_nested():
                        posted_on = DAY + timedelta(days=n)
                        if kind == "pay":
                            record_patient_payment(claims[-1], value, actor=SYSTEM, posted_on=posted_on)
                        else:
                            write_off(claims[-1], reason="kindness", actor=SYSTEM, posted_on=posted_on, patient=True,
                                      amount=value)
                except BillingError:
                    pass  # more than owed: refused whole, nothing posted (tested elsewhere)
        start = DAY + timedelta(days=cut)
        whole, part = client_ledger(world.client.id), client_ledger(world.client.id, start=start)
        _, hand = _hand_ledger(world.client.id)
        opening, _ = _hand_ledger(world.client.id, start=start)
        assert [(r.entry_id, r.balance.insurance, r.balance.patient) for r in whole.rows] == hand
        assert (whole.closing.insurance, whole.closing.patient) == _balances_py(world.client.id)
        assert (part.opening.insurance, part.opening.patient) == opening
        assert part.closing == whole.closing
    finally:
        nested.rollback()


def _slot(n: int) -> time:
    return time(6 + n, 0)  # one visit an hour, so two visits on one day never overlap
