"""Timely filing: the deadline rule, each claim's deadline from the database, and the near-deadline worklist."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.claims.operations import correct_claim
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.errors import Invalid
from billing.coverage.models import PayerType
from billing.ledger.models import Adjudication, EntrySource
from billing.org.queries import Scope
from billing.payments.filing import (
    NOT_WITH_PAYER,
    claim_deadline,
    deadlines,
    filing_deadline,
    near_deadline,
    near_deadline_totals,
)
from tests.worlds import factories as f
from tests.worlds.claims import walk_to
from tests.worlds.practice import DAY, SYSTEM, build_world

TODAY = DAY + timedelta(days=80)  # a 90-day payer: a claim of DAY has 10 days left


@pytest.fixture
def world():
    return build_world()


def _answered(claim, on: date, *, reverses: Adjudication | None = None) -> Adjudication:
    """The payer's adjudication of `claim` dated `on` (only its date matters to timely filing)."""
    row = Adjudication(claim_id=claim.id, payer_id=claim.payer_id, source=EntrySource.MANUAL, status_code="4",
                       charge=claim.total_charge, paid=Decimal(0), patient_responsibility=Decimal(0), paid_on=on,
                       reverses_id=reverses.id if reverses else None)
    db.session.add(row)
    db.session.flush()
    return row


# --- the rule, against an independent computation in day numbers --------------------------------------------------

days = st.integers(1, 1830)
some_date = st.dates(date(2020, 1, 1), date(2030, 12, 31))


@given(service=some_date, limit=days, corrected=days, answered_after=st.one_of(st.none(), st.integers(0, 800)))
def test_the_deadline_is_the_later_of_the_two_windows(service, limit, corrected, answered_after):
    answered = service + timedelta(days=answered_after) if answered_after is not None else None
    expected = service.toordinal() + limit
    if answered is not None:
        expected = max(expected, answered.toordinal() + corrected)
    deadline = filing_deadline(service, limit, corrected, answered)
    assert deadline.toordinal() == expected
    assert deadline >= service + timedelta(days=limit)  # never earlier than the original deadline


# --- deadlines from the database ------------------------------------------------------------------------------------

def test_an_original_claim_counts_from_its_service_date(world):
    world.payer.filing_limit_days = 120
    claim = world.claim()
    found = claim_deadline(claim, TODAY)
    assert (found.deadline, found.days_left) == (DAY + timedelta(days=120), 40)


def test_a_corrected_claim_counts_from_the_originals_latest_adjudication_not_a_reversal(world):
    world.payer.corrected_filing_days = 60
    original = walk_to(world.claim(), ClaimStatus.SUBMITTED)
    first = _answered(original, DAY + timedelta(days=40))
    _answered(original, DAY + timedelta(days=70))
    _answered(original, DAY + timedelta(days=85), reverses=first)  # a clawback is no new determination
    correction = correct_claim(original, actor=SYSTEM, reason="wrong units", payer_claim_number="ICN1")
    found = deadlines([correction.id], TODAY)[correction.id]
    assert found.deadline == DAY + timedelta(days=130)  # 60 days from day 70, the latest standing adjudication


def test_the_corrected_window_never_ends_before_the_original_deadline(world):
    world.payer.corrected_filing_days = 5
    claim = walk_to(world.claim(), ClaimStatus.DENIED)
    _answered(claim, DAY + timedelta(days=30))
    assert claim_deadline(claim, TODAY).deadline == DAY + timedelta(days=90)


def test_self_pay_and_payerless_claims_have_no_deadline(world):
    world.payer.payer_type = PayerType.SELF_PAY
    self_pay = world.claim()
    assert deadlines([self_pay.id], TODAY) == {}


# --- the worklist ---------------------------------------------------------------------------------------------------

def test_rejected_joins_the_statuses_waiting_to_send_by_its_value():
    assert {s.value for s in NOT_WITH_PAYER} >= {"ready", "held"}
    assert "submitted" not in {s.value for s in NOT_WITH_PAYER}


def test_the_worklist_lists_claims_not_with_the_payer_within_n_days_and_late_ones(world):
    ready = world.claim(day=DAY)  # 10 days left
    held = walk_to(world.claim(day=DAY + timedelta(days=1)), ClaimStatus.HELD)  # 11 left
    late = world.claim(day=DAY - timedelta(days=20))  # 10 days late
    denied = walk_to(world.claim(day=DAY + timedelta(days=2)), ClaimStatus.DENIED)  # 12 left, no adjudication
    walk_to(world.claim(day=DAY + timedelta(days=3)), ClaimStatus.SUBMITTED)  # with the payer
    walk_to(world.claim(day=DAY + timedelta(days=4)), ClaimStatus.VOIDED)
    world.claim(day=DAY + timedelta(days=30))  # 40 days left: not yet
    rows = _listed(Scope(), 14)
    assert [(r.claim_id, r.days_left) for r in rows] == [(late.id, -10), (ready.id, 10), (held.id, 11),
                                                          (denied.id, 12)]
    assert rows[0].as_dict()["late"] is True
    assert [r.claim_id for r in _listed(Scope(), 0)] == [late.id]


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_pages_of_the_worklist_are_the_whole_list_cut_in_order(world, size):
    """The paged read (per-status index reads, stopped early) gives the whole list's rows, in its order: same
    deadlines across statuses, a corrected claim and a replaced original included."""
    worlds = [world, build_world()]  # two clients: the same day twice makes two claims with one deadline
    for n, status in enumerate([ClaimStatus.READY, ClaimStatus.HELD, ClaimStatus.DENIED, ClaimStatus.READY,
                                ClaimStatus.REJECTED, ClaimStatus.HELD]):
        claim = worlds[n // 3].claim(day=DAY - timedelta(days=10 * (n % 3)))  # three deadlines, two claims each
        if status is not ClaimStatus.READY:
            walk_to(claim, status)
    original = walk_to(world.claim(day=DAY - timedelta(days=5)), ClaimStatus.DENIED)
    _answered(original, DAY - timedelta(days=1))
    correct_claim(original, actor=SYSTEM, reason="fix dx", payer_claim_number="ICN9")
    whole = [r.claim_id for r in _listed(Scope(), 100)]
    assert len(whole) == 7
    paged = [r.claim_id for start in range(0, len(whole) + size, size)
             for r in near_deadline(Scope(), within_days=100, today=TODAY, limit=size, offset=start)]
    assert paged == whole


def test_the_worklist_keeps_to_the_scope_and_refuses_a_bad_window(world):
    mine = world.claim()
    other = build_world()
    other.claim()
    rows = _listed(Scope(company_id=world.company.id), 14)
    assert [r.claim_id for r in rows] == [mine.id]
    with pytest.raises(Invalid, match="from 0 to 1830"):
        _listed(Scope(), 5000)


def test_a_denied_claim_replaced_by_a_correction_leaves_the_list_for_its_correction(world):
    original = walk_to(world.claim(), ClaimStatus.DENIED)
    _answered(original, DAY + timedelta(days=75))
    correction = correct_claim(original, actor=SYSTEM, reason="fix dx", payer_claim_number="ICN2")
    rows = _listed(Scope(), 100)
    # 90-day corrected window from day 75: 85 days left
    assert [(r.claim_id, r.days_left) for r in rows] == [(correction.id, 85)]


def test_other_payers_windows_are_their_own(world):
    long_payer = f.PayerFactory(company=world.company, filing_limit_days=365)
    claim = world.claim()
    claim.payer_id = long_payer.id
    db.session.flush()
    assert claim_deadline(claim, TODAY).days_left == 285


def _listed(scope, within_days):
    """The list's rows; the totals the front page and the Dashboard read (from the kept counts) are always their
    count and their sum."""
    rows = near_deadline(scope, within_days=within_days, today=TODAY)
    assert near_deadline_totals(scope, within_days=within_days, today=TODAY) == (
        len(rows), sum((r.total_charge for r in rows), Decimal("0.00")))
    return rows
