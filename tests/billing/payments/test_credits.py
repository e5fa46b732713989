"""Credit balances: the worklist finds every claim owing less than nothing on a side, says since when and why; a
refund or a patient credit applied elsewhere raises the credit back toward zero and never past it.

Balances are compared with sums worked out here from the amounts the worlds typed (tests/worlds/credits.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from billing.claims.models import Claim
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.core.errors import NothingToDo, ValidationFailed
from billing.core.time import practice_today
from billing.ledger.balances import claim_balance
from billing.ledger.models import EntryKind, LedgerEntry
from billing.org.queries import Scope, by_location
from billing.payments.credits import (
    Refund,
    Side,
    apply_patient_credit,
    credit_balances,
    credit_of,
    patient_claims_owing,
    record_refund,
)
from billing.payments.invariants import check_ledger
from tests.worlds import factories as f
from tests.worlds.claims import history
from tests.worlds.credits import CREDIT_ON, insurance_credit_claim, patient_credit_claim, patient_owing_claim
from tests.worlds.practice import SYSTEM, build_world

D = Decimal
TODAY = practice_today()


def refund(side: Side, amount: str, *, on: date = CREDIT_ON, reference: str = "CHK 5521",
           reason: str = "paid twice") -> Refund:
    return Refund(side, D(amount), on, reference, reason)


def entries(claim: Claim) -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.claim_id == claim.id))


def in_scope(claim: Claim) -> list:
    return [Claim.client_id == claim.client_id]


@pytest.fixture
def overpaid(world):
    return insurance_credit_claim(world)


@pytest.fixture
def patient_overpaid(world):
    return patient_credit_claim(world)


# --- the worklist ---------------------------------------------------------------------------------------------

def test_an_insurance_credit_is_listed_with_its_amount_age_and_cause(overpaid):
    # 100.00 charged - 80.00 paid - 20.00 CO-45 - 80.00 paid again = -80.00: the payer is owed 80.00 back.
    page = credit_balances(in_scope(overpaid))
    assert page.count == 1
    (row,) = page.rows
    assert (row.number, row.insurance_credit, row.patient_credit) == (overpaid.number, D("80.00"), D("0.00"))
    assert row.sides == [Side.INSURANCE]
    origin = row.origins[Side.INSURANCE]
    assert (origin.since, origin.kind, origin.amount) == (CREDIT_ON, EntryKind.INSURANCE_PAYMENT, D("80.00"))
    assert row.age(Side.INSURANCE, CREDIT_ON + timedelta(days=12)) == 12
    assert "Insurance payment $80.00" in origin.describe()
    assert (page.insurance_total, page.patient_total) == (D("80.00"), D("0.00"))
    assert overpaid.needs_review  # posting flagged it (rule 8)


def test_a_patient_credit_is_listed_on_the_patient_side(patient_overpaid):
    # The copay of 10.00 was paid, then the corrected answer took the copay away: the patient is owed 10.00.
    row = credit_of(patient_overpaid)
    assert row is not None
    assert (row.insurance_credit, row.patient_credit) == (D("0.00"), D("10.00"))
    assert row.origins[Side.PATIENT].since == CREDIT_ON
    assert row.origins[Side.PATIENT].kind is EntryKind.PATIENT_RESPONSIBILITY  # the reversal of the copay


def test_the_list_filters_by_side_and_scope_and_totals_each_side(world, overpaid, patient_overpaid):
    both = credit_balances(in_scope(overpaid))
    assert both.count == 2
    assert (both.insurance_total, both.patient_total) == (D("80.00"), D("10.00"))
    assert [r.number for r in credit_balances(in_scope(overpaid), side=Side.PATIENT).rows] == [patient_overpaid.number]
    assert [r.number for r in credit_balances(in_scope(overpaid), side=Side.INSURANCE).rows] == [overpaid.number]
    elsewhere = f.LocationFactory(practice=world.location.practice)
    assert credit_balances([by_location(Claim.location_id, Scope(world.company.id, None, elsewhere.id))]).count == 0
    paged = credit_balances(in_scope(overpaid), limit=1, offset=1)
    assert (len(paged.rows), paged.count, paged.patient_total) == (1, 2, D("10.00"))


def test_a_claim_without_credit_is_not_listed(world):
    claim = patient_owing_claim(world)
    assert credit_of(claim) is None


def test_the_list_is_a_fixed_number_of_queries(world, overpaid, patient_overpaid, count_queries):
    counter = count_queries()
    credit_balances(in_scope(overpaid))
    assert counter.count == 3  # totals, the page, the causes of the page's credits


# --- refunds --------------------------------------------------------------------------------------------------

def test_an_insurance_refund_clears_the_credit_and_writes_history(overpaid):
    before = claim_balance(overpaid.id)
    made = record_refund(overpaid, refund(Side.INSURANCE, "80.00"), actor=SYSTEM)
    assert [(e.kind, e.amount, e.payer_id) for e in made] == [(EntryKind.INSURANCE_REFUND, D("80.00"),
                                                                overpaid.payer_id)]
    after = claim_balance(overpaid.id)
    assert after.insurance == before.insurance + D("80.00") == D("0.00")
    assert credit_of(overpaid) is None
    done = [h for h in history(overpaid) if h.action is AuditAction.CREDIT_REFUNDED]
    assert len(done) == 1
    assert done[0].data == {"side": "insurance", "amount": "80.00", "reference": "CHK 5521",
                            "refunded_on": CREDIT_ON.isoformat()}
    assert overpaid.needs_review  # not cleared by the refund: a biller confirms and clears it
    assert check_ledger() == []


def test_a_partial_patient_refund_leaves_the_rest_of_the_credit(patient_overpaid):
    made = record_refund(patient_overpaid, refund(Side.PATIENT, "4.00", reference="card reversal 77"), actor=SYSTEM)
    assert [(e.kind, e.amount, e.payer_id) for e in made] == [(EntryKind.PATIENT_REFUND, D("4.00"), None)]
    assert claim_balance(patient_overpaid.id).patient == D("-6.00")
    assert credit_of(patient_overpaid).patient_credit == D("6.00")


@pytest.mark.parametrize(("side", "amount"), [(Side.INSURANCE, "80.01"), (Side.INSURANCE, "1000.00")])
def test_a_refund_above_the_credit_is_refused_and_writes_nothing(overpaid, side, amount):
    count = entries(overpaid)
    with pytest.raises(ValidationFailed) as refused:
        record_refund(overpaid, refund(side, amount), actor=SYSTEM)
    assert refused.value.problems[0].field == "amount"
    assert "more than the insurance credit of $80.00" in refused.value.message
    assert entries(overpaid) == count


def test_a_refund_of_a_side_with_no_credit_is_nothing_to_do(overpaid):
    with pytest.raises(NothingToDo, match="no patient credit"):
        record_refund(overpaid, refund(Side.PATIENT, "1.00"), actor=SYSTEM)


def test_a_second_refund_of_the_same_credit_is_refused(overpaid):
    record_refund(overpaid, refund(Side.INSURANCE, "80.00"), actor=SYSTEM)
    with pytest.raises(NothingToDo):
        record_refund(overpaid, refund(Side.INSURANCE, "80.00"), actor=SYSTEM)


@pytest.mark.parametrize(("changes", "field"), [
    ({"amount": D("0.00")}, "amount"),
    ({"amount": D("-5.00")}, "amount"),
    ({"reference": "  "}, "reference"),
    ({"reference": "X" * 51}, "reference"),
    ({"reason": ""}, "reason"),
    ({"refunded_on": TODAY + timedelta(days=1)}, "refunded_on"),
    ({"refunded_on": date(2020, 1, 1)}, "refunded_on"),
])
def test_a_refund_as_typed_is_checked_field_by_field(overpaid, changes, field):
    typed = refund(Side.INSURANCE, "10.00")
    typed = Refund(**{**typed.__dict__, **changes})
    count = entries(overpaid)
    with pytest.raises(ValidationFailed) as refused:
        record_refund(overpaid, typed, actor=SYSTEM)
    assert [p.field for p in refused.value.problems] == [field]
    assert entries(overpaid) == count


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cents=st.lists(st.integers(min_value=1, max_value=9000), min_size=1, max_size=4))
def test_refunds_never_take_a_side_past_zero(overpaid, cents):
    """Whatever the sequence of refunds typed, the balance is the credit plus what was accepted, never above 0."""
    savepoint = db.session.begin_nested()
    accepted = D("0.00")
    for amount in (D(c) / 100 for c in cents):
        try:
            record_refund(overpaid, refund(Side.INSURANCE, str(amount)), actor=SYSTEM)
        except (ValidationFailed, NothingToDo):
            assert accepted + amount > D("80.00")
            continue
        accepted += amount
    assert claim_balance(overpaid.id).insurance == D("-80.00") + accepted <= D("0.00")
    savepoint.rollback()


# --- a patient credit applied to another claim -----------------------------------------------------------------

def test_a_patient_credit_pays_the_same_clients_other_claim(world, patient_overpaid):
    other = patient_owing_claim(world)
    assert [(c.number, owed) for c, owed in patient_claims_owing(world.client.id, besides=patient_overpaid.id)] == [
        (other.number, D("15.00"))]
    done = apply_patient_credit(patient_overpaid, other, D("10.00"), actor=SYSTEM, posted_on=CREDIT_ON,
                                reason="family asked")
    assert [(e.kind, e.amount) for e in done.entries_out] == [(EntryKind.PATIENT_CREDIT_OUT, D("10.00"))]
    assert [(e.kind, e.amount) for e in done.entries_in] == [(EntryKind.PATIENT_CREDIT_IN, D("10.00"))]
    assert claim_balance(patient_overpaid.id).patient == D("0.00")  # -10.00 + 10.00
    assert claim_balance(other.id).patient == D("5.00")  # 15.00 - 10.00
    assert any(h.action is AuditAction.CREDIT_APPLIED for h in history(other))
    assert any(h.action is AuditAction.CREDIT_APPLIED for h in history(patient_overpaid))
    assert check_ledger() == []


def test_a_credit_is_not_applied_beyond_what_the_other_claim_owes(world, patient_overpaid):
    other = patient_owing_claim(world)
    record_refund(patient_overpaid, refund(Side.PATIENT, "1.00"), actor=SYSTEM)  # 9.00 of credit left
    with pytest.raises(ValidationFailed, match=r"more than the patient credit of \$9\.00"):
        apply_patient_credit(patient_overpaid, other, D("10.00"), actor=SYSTEM, posted_on=CREDIT_ON, reason="r")


def test_a_credit_goes_only_to_the_same_client(world, patient_overpaid):
    stranger = patient_owing_claim(build_world())
    with pytest.raises(ValidationFailed, match="another client's claim"):
        apply_patient_credit(patient_overpaid, stranger, D("5.00"), actor=SYSTEM, posted_on=CREDIT_ON, reason="r")
    assert claim_balance(stranger.id).patient == D("15.00")
