"""The claims the database counts per service day, location, payer and status equal a recount of the claim table,
whatever statements change the claims: ORM flushes, set-based UPDATEs over many claims, bulk inserts, deletes.

The expected counts are recounted here in Python from the claim rows themselves, not by the check's SQL.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update

from billing.claims.models import Claim, ClaimDayCount
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.derived import DerivedTable
from billing.payments.invariants import claim_day_counts_kept
from tests.worlds.practice import DAY
from tests.worlds.summaries import summary_setting

D = Decimal
CLAIM = Claim.__table__


def _recount() -> dict[tuple, tuple[int, Decimal]]:
    counts: Counter = Counter()
    billed: dict[tuple, Decimal] = {}
    for row in db.session.execute(select(CLAIM.c.service_date, CLAIM.c.location_id, CLAIM.c.payer_id,
                                         CLAIM.c.status, CLAIM.c.self_pay, CLAIM.c.total_charge)):
        key = (row.service_date, row.location_id, row.payer_id or 0, ClaimStatus(row.status), bool(row.self_pay))
        counts[key] += 1
        billed[key] = billed.get(key, D("0")) + D(str(row.total_charge)).quantize(D("0.01"))
    return {key: (n, billed[key]) for key, n in counts.items()}


def _kept() -> dict[tuple, tuple[int, Decimal]]:
    return {(r.service_date, r.location_id, r.payer_id, r.status, r.self_pay):
            (r.claims, D(str(r.billed)).quantize(D("0.01")))
            for r in db.session.execute(select(ClaimDayCount).execution_options(populate_existing=True)).scalars()
            if r.claims or r.billed}


def _setting(world) -> tuple[list[int], list[int], list[int]]:
    s = summary_setting(world)
    return s.claims, s.locations, s.payers


statuses = st.sampled_from(list(ClaimStatus))
totals = st.decimals(min_value=D("0"), max_value=D("9999.99"), places=2)
changes = st.one_of(
    st.tuples(st.just("status"), statuses),
    st.tuples(st.just("total_charge"), totals),
    st.tuples(st.just("service_date"), st.integers(0, 3)),
    st.tuples(st.just("location_id"), st.integers(0, 1)),
    st.tuples(st.just("payer_id"), st.integers(0, 2)),  # 2: no payer
    st.tuples(st.just("self_pay"), st.booleans()),
)
steps = st.one_of(
    st.tuples(st.just("update"), st.lists(st.integers(0, 2), min_size=1, max_size=3, unique=True), changes),
    st.tuples(st.just("insert"), st.integers(1, 3), statuses),
    st.tuples(st.just("delete_new"), st.just(0), st.just(None)),
)


def _value(field: str, choice, locations: list[int], payers: list[int]):
    if field == "service_date":
        return DAY + timedelta(days=choice)
    if field == "location_id":
        return locations[choice]
    if field == "payer_id":
        return payers[choice] if choice < 2 else None
    return choice


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(steps, min_size=1, max_size=8))
def test_any_sequence_of_claim_statements_leaves_the_counts_equal_to_a_recount(world, sequence):
    claims, locations, payers = _setting(world)
    template = db.session.execute(select(CLAIM).where(CLAIM.c.id == claims[0])).mappings().one()
    added: list[int] = []
    with db.session.begin_nested() as savepoint:
        for kind, target, change in sequence:
            if kind == "update":
                field, choice = change
                # One set-based statement over one to three claims (PostgreSQL's statement trigger sees them all).
                db.session.execute(update(CLAIM).where(CLAIM.c.id.in_([claims[i] for i in target]))
                                   .values({field: _value(field, choice, locations, payers)}))
            elif kind == "insert":
                rows = [{**{k: v for k, v in template.items() if k != "id"}, "status": change} for _ in range(target)]
                added += db.session.execute(insert(CLAIM).returning(CLAIM.c.id), rows).scalars().all()
            elif added:
                db.session.execute(delete(CLAIM).where(CLAIM.c.id == added.pop()))
        assert _kept() == _recount()
        assert claim_day_counts_kept() == []
        savepoint.rollback()


def test_an_orm_status_change_moves_the_claim_between_counts(world):
    claim = world.claim()
    before = _kept()
    claim.status = ClaimStatus.HELD
    db.session.flush()
    after = _kept()
    ready = (claim.service_date, claim.location_id, claim.payer_id, ClaimStatus.READY, False)
    held = (*ready[:3], ClaimStatus.HELD, False)
    assert after.get(held, (0, D("0")))[0] == before.get(held, (0, D("0")))[0] + 1
    assert after.get(ready, (0, D("0")))[0] == before.get(ready, (0, D("0")))[0] - 1
    assert after == _recount()


def test_the_application_cannot_write_a_count(world):
    world.claim()
    row = db.session.execute(select(ClaimDayCount)).scalars().first()
    with db.session.begin_nested() as savepoint:
        row.claims = 99
        with pytest.raises(DerivedTable):
            db.session.flush()
        savepoint.rollback()
    with pytest.raises(DerivedTable):
        db.session.execute(update(ClaimDayCount).values(claims=0))


def test_ledger_check_names_a_count_edited_by_hand(world):
    claim = world.claim()
    db.session.connection().execute(ClaimDayCount.__table__.update().values(claims=ClaimDayCount.claims + 1))
    violations = claim_day_counts_kept()
    assert violations
    assert {v.check for v in violations} == {"claim-day-count"}
    assert any(str(claim.service_date) in v.subject for v in violations)
