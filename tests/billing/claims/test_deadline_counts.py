"""The claims the database counts per filing deadline, location and status equal a recount of the claim table,
whatever statements change the claims (set-based UPDATEs over many claims, bulk inserts, deletes, the deadline
triggers' own recomputation when a service date, payer or adjudication moves a deadline); and the near-deadline
totals read from them (filing.due_totals) equal the claims the Filing deadlines page lists.

The expected counts are recounted here in Python from the claim rows themselves, not by the check's SQL.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from importlib import import_module

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update

from billing.claims import deadline_counts
from billing.claims.models import Claim, ClaimDeadlineCount
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.org.queries import Scope
from billing.payments.filing import due_totals, near_deadline
from billing.payments.invariants import check_ledger, claim_deadline_counts_kept
from tests.worlds.practice import DAY
from tests.worlds.summaries import summary_setting

D = Decimal
CLAIM = Claim.__table__


def _recount() -> dict[tuple, tuple[int, Decimal]]:
    counts: Counter = Counter()
    billed: dict[tuple, Decimal] = {}
    for row in db.session.execute(select(CLAIM.c.filing_deadline, CLAIM.c.location_id, CLAIM.c.status,
                                         CLAIM.c.total_charge)):
        if row.filing_deadline is None:
            continue
        key = (row.filing_deadline, row.location_id, ClaimStatus(row.status))
        counts[key] += 1
        billed[key] = billed.get(key, D("0")) + D(str(row.total_charge)).quantize(D("0.01"))
    return {key: (n, billed[key]) for key, n in counts.items()}


def _kept() -> dict[tuple, tuple[int, Decimal]]:
    return {(r.filing_deadline, r.location_id, r.status): (r.claims, D(str(r.billed)).quantize(D("0.01")))
            for r in db.session.execute(select(ClaimDeadlineCount).execution_options(populate_existing=True))
            .scalars() if r.claims or r.billed}


def _listed(cutoff_days: int) -> tuple[int, Decimal]:
    """What the Filing deadlines page lists within the window, counted and totalled here from its rows."""
    rows = near_deadline(Scope(), within_days=cutoff_days, today=DAY)
    return len(rows), sum((r.total_charge for r in rows), D("0.00"))


statuses = st.sampled_from(list(ClaimStatus))
totals = st.decimals(min_value=D("0"), max_value=D("9999.99"), places=2)
changes = st.one_of(
    st.tuples(st.just("status"), statuses),
    st.tuples(st.just("total_charge"), totals),
    st.tuples(st.just("service_date"), st.integers(-400, 3)),  # far back: late, near or not due
    st.tuples(st.just("location_id"), st.integers(0, 1)),
    st.tuples(st.just("payer_id"), st.integers(0, 2)),  # 2: no payer, so no deadline
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
    setting = summary_setting(world)
    claims, locations, payers = setting.claims, setting.locations, setting.payers
    template = db.session.execute(select(CLAIM).where(CLAIM.c.id == claims[0])).mappings().one()
    added: list[int] = []
    with db.session.begin_nested() as savepoint:
        for kind, target, change in sequence:
            if kind == "update":
                field, choice = change
                db.session.execute(update(CLAIM).where(CLAIM.c.id.in_([claims[i] for i in target]))
                                   .values({field: _value(field, choice, locations, payers)}))
            elif kind == "insert":
                rows = [{**{k: v for k, v in template.items() if k not in ("id", "filing_deadline")},
                         "status": change} for _ in range(target)]
                added += db.session.execute(insert(CLAIM).returning(CLAIM.c.id), rows).scalars().all()
            elif added:
                db.session.execute(delete(CLAIM).where(CLAIM.c.id == added.pop()))
        assert _kept() == _recount()
        assert claim_deadline_counts_kept() == []
        for days in (0, 30, 400):
            assert due_totals(DAY + timedelta(days=days), Scope()) == _listed(days)
        savepoint.rollback()


def test_ledger_check_names_a_count_edited_by_hand(world):
    world.claim()
    db.session.connection().execute(ClaimDeadlineCount.__table__.update().values(claims=41))
    violations = claim_deadline_counts_kept()
    assert violations
    assert {v.check for v in violations} == {"claim-deadline-count"}
    assert "41" in violations[0].message
    assert "claim-deadline-count" in {v.check for v in check_ledger()}


def test_the_triggers_of_schemas_made_from_the_models_are_the_migrations_own():
    """create_all schemas get their triggers from the module; the migration froze the same SQL. A change to either
    needs a new migration that replaces the triggers (and this test then compares with that one)."""
    migration = import_module("migrations.versions.a1c5e8f3b7d2_claim_deadline_count")
    assert deadline_counts.sqlite_triggers() == [migration.SQLITE_INSERT, migration.SQLITE_DELETE,
                                                 migration.SQLITE_UPDATE]
    assert deadline_counts.postgresql_function() == migration.POSTGRESQL_FUNCTION
    assert deadline_counts.postgresql_triggers() == [migration.POSTGRESQL_INSERT, migration.POSTGRESQL_UPDATE,
                                                     migration.POSTGRESQL_DELETE]
    assert deadline_counts.backfill() == migration.BACKFILL
