"""The adjustment codes the database totals per service day and location equal the ledger, whatever inserts the
entries (one statement or many) and if a claim's service date or location moves afterwards.

Expected totals are worked out here in Python from the entries inserted, not by the check's SQL.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from importlib import import_module

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, update

from billing.claims import day_counts
from billing.claims.models import Claim
from billing.core.db import db
from billing.ledger import ar_days, carc_days, claim_balances, month_totals
from billing.ledger.models import CarcDayTotal, EntryKind, EntrySource, LedgerEntry
from billing.payments.invariants import carc_day_totals_kept
from tests.worlds.practice import DAY
from tests.worlds.summaries import summary_setting

D = Decimal
CODES = [("CO", "45"), ("PR", "2"), ("OA", "23"), (None, None)]
MIGRATION = import_module("migrations.versions.d4a7c1e9b352_dashboard_day_counts")
#: 9c3e5a7b2d41 replaced the month totals' entry function (the claim's entries of the month by the claim's index).
MONTH_BY_CLAIM = import_module("migrations.versions.9c3e5a7b2d41_month_total_by_claim_index")
#: 4c7f10ee4647 replaced the three claim functions (each ends at once when no claim of the statement moved).
CHEAP_PLANS = import_module("migrations.versions.4c7f10ee4647_trigger_plans_that_stay_cheap")
#: The claim functions' "did any claim move" check as a set difference (replaces CHEAP_PLANS's).
SET_DIFFERENCE = import_module("migrations.versions.b5e8d1f3a6c2_moved_claims_by_set_difference")


def _replaced(statement: str) -> str:
    """A claim function as the last migration that replaced it made it."""
    for replaced in (CHEAP_PLANS.REPLACED, SET_DIFFERENCE.REPLACED):
        statement = replaced.get(statement, statement)
    return statement


def _setting(world) -> tuple[list[int], list[int]]:
    s = summary_setting(world)
    return s.claims, s.locations


def _kept() -> dict[tuple, tuple[int, Decimal]]:
    rows = db.session.execute(select(CarcDayTotal).execution_options(populate_existing=True)).scalars()
    return {(r.service_date, r.location_id, r.group_code, r.reason_code):
            (r.claims, D(str(r.amount)).quantize(D("0.01"))) for r in rows if r.claims or r.amount}


def _expected(entries: list[tuple[int, str, str, Decimal]]) -> dict[tuple, tuple[int, Decimal]]:
    """From the entries as inserted and each claim's place now: one claim per code, amounts summed."""
    place = {c.id: (c.service_date, c.location_id) for c in db.session.execute(
        select(Claim).execution_options(populate_existing=True)).scalars()}
    claims: dict[tuple, set[int]] = {}
    amounts: dict[tuple, Decimal] = {}
    for claim_id, group, reason, amount in entries:
        if group is None:
            continue
        key = (*place[claim_id], group, reason)
        claims.setdefault(key, set()).add(claim_id)
        amounts[key] = amounts.get(key, D("0")) + amount
    return {key: (len(ids), amounts[key]) for key, ids in claims.items() if ids}


amounts = st.decimals(min_value=D("-999.99"), max_value=D("999.99"), places=2).filter(lambda d: d != 0)
entry = st.tuples(st.integers(0, 2), st.sampled_from(CODES), amounts)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(entry, min_size=1, max_size=6), min_size=1, max_size=4),
       move=st.one_of(st.none(), st.tuples(st.integers(0, 2), st.integers(0, 4), st.integers(0, 1))))
def test_entries_in_any_statements_and_a_moved_claim_leave_the_totals_equal_to_the_ledger(world, batches, move):
    claims, locations = _setting(world)
    inserted: list[tuple[int, str, str, Decimal]] = []
    with db.session.begin_nested() as savepoint:
        for batch in batches:
            rows = [{"claim_id": claims[i], "kind": EntryKind.CONTRACTUAL, "amount": amount, "posted_on": DAY,
                     "actor": "test", "source": EntrySource.SYSTEM, "group_code": group, "reason_code": reason}
                    for i, (group, reason), amount in batch]
            db.session.execute(insert(LedgerEntry), rows)  # one statement per batch
            inserted += [(claims[i], group, reason, amount) for i, (group, reason), amount in batch]
        if move is not None:
            which, days, location = move
            db.session.execute(update(Claim.__table__).where(Claim.__table__.c.id == claims[which])
                               .values(service_date=DAY + timedelta(days=days), location_id=locations[location]))
        # The world's claims start with no coded entries, so the kept totals are exactly these entries'.
        assert _kept() == _expected(inserted)
        assert carc_day_totals_kept() == []
        savepoint.rollback()


def test_ledger_check_names_a_total_edited_by_hand(world):
    claim = world.claim()
    db.session.execute(insert(LedgerEntry), [{
        "claim_id": claim.id, "kind": EntryKind.CONTRACTUAL, "amount": D("12.50"), "posted_on": DAY, "actor": "t",
        "source": EntrySource.SYSTEM, "group_code": "CO", "reason_code": "45"}])
    db.session.connection().execute(CarcDayTotal.__table__.update().values(amount=D("1.00")))
    (violation,) = carc_day_totals_kept()
    assert violation.check == "carc-day"
    assert "CO / 45" in violation.subject


def test_the_triggers_of_schemas_made_from_the_models_are_the_migrations_own():
    """create_all schemas get their triggers from the modules; the migrations froze the same SQL. A change to either
    module needs a new migration that replaces the triggers (and this test then compares with that one)."""
    entry_pg, claim_pg = carc_days.postgresql_triggers()
    assert [*day_counts.sqlite_triggers(), *carc_days.sqlite_triggers(), ar_days.sqlite_claim_trigger(),
            *month_totals.sqlite_triggers()] == MIGRATION.SQLITE
    assert [day_counts.postgresql_function(), *day_counts.postgresql_triggers(),
            *carc_days.postgresql_functions(), *entry_pg, *claim_pg,
            ar_days.postgresql_claim_function(), ar_days.postgresql_claim_trigger(),
            *month_totals.postgresql_functions(), *month_totals.postgresql_triggers()] == [
        MONTH_BY_CLAIM.NEW_FUNCTION if statement == MONTH_BY_CLAIM.OLD_FUNCTION
        else _replaced(statement) for statement in MIGRATION.POSTGRESQL
    ]
    assert [day_counts.backfill(), carc_days.backfill(), ar_days.backfill()] == MIGRATION.BACKFILL
    assert month_totals.backfill("sqlite") == MIGRATION.MONTH_BACKFILL_SQLITE
    assert month_totals.backfill("postgresql") == MIGRATION.MONTH_BACKFILL_POSTGRESQL
    assert claim_balances.sqlite_trigger() == MIGRATION.BALANCE_SQLITE
    assert claim_balances.postgresql_function() == MIGRATION.BALANCE_POSTGRESQL
