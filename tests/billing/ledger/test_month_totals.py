"""The charges and collections the database totals per posting month and location equal the ledger, whatever
inserts the entries (one statement or many, across month ends) and if a claim's location moves afterwards.

Expected totals are worked out here in Python from the entries inserted, not by the check's SQL.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, update

from billing.claims.models import Claim
from billing.core.db import db
from billing.ledger.models import EntryKind, EntrySource, LedgerEntry, LedgerMonthTotal
from billing.payments.invariants import month_totals_kept
from tests.worlds.summaries import summary_setting

D = Decimal
#: Kinds and the group the Dashboard totals them in (None: not totalled).
KINDS = {"charge": "charges", "insurance_payment": "collections", "patient_payment": "collections",
         "contractual": None}
#: Posting days on both sides of two month ends.
DAYS = [date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 28), date(2026, 3, 1)]
def _setting(world) -> tuple[list[int], list[int]]:
    s = summary_setting(world)
    return s.claims, s.locations


def _kept() -> dict[tuple, tuple[int, Decimal]]:
    rows = db.session.execute(select(LedgerMonthTotal).execution_options(populate_existing=True)).scalars()
    return {(r.month, r.location_id, r.kinds): (r.claims, D(str(r.amount)).quantize(D("0.01")))
            for r in rows if r.claims or r.amount}


def _expected(entries: list[tuple[int, str, date, Decimal]]) -> dict[tuple, tuple[int, Decimal]]:
    location = {c.id: c.location_id for c in db.session.execute(
        select(Claim).execution_options(populate_existing=True)).scalars()}
    claims: dict[tuple, set[int]] = {}
    amounts: dict[tuple, Decimal] = {}
    for claim_id, kind, day, amount in entries:
        if KINDS[kind] is None:
            continue
        key = (day.replace(day=1), location[claim_id], KINDS[kind])
        claims.setdefault(key, set()).add(claim_id)
        amounts[key] = amounts.get(key, D("0")) + amount
    return {key: (len(ids), amounts[key]) for key, ids in claims.items()}


amounts = st.decimals(min_value=D("-500.00"), max_value=D("500.00"), places=2).filter(lambda d: d != 0)
entry = st.tuples(st.integers(0, 2), st.sampled_from(sorted(KINDS)), st.sampled_from(DAYS), amounts)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(entry, min_size=1, max_size=6), min_size=1, max_size=4),
       move=st.one_of(st.none(), st.tuples(st.integers(0, 2), st.integers(0, 1))))
def test_entries_in_any_statements_and_a_moved_claim_leave_the_month_totals_equal_to_the_ledger(world, batches,
                                                                                              move):
    claims, locations = _setting(world)
    inserted: list[tuple[int, str, date, Decimal]] = []
    with db.session.begin_nested() as savepoint:
        for batch in batches:
            db.session.execute(insert(LedgerEntry), [
                {"claim_id": claims[i], "kind": EntryKind(kind), "amount": amount, "posted_on": day, "actor": "test",
                 "source": EntrySource.SYSTEM} for i, kind, day, amount in batch])
            inserted += [(claims[i], kind, day, amount) for i, kind, day, amount in batch]
        if move is not None:
            which, location = move
            db.session.execute(update(Claim.__table__).where(Claim.__table__.c.id == claims[which])
                               .values(location_id=locations[location]))
        assert _kept() == _expected(inserted)
        assert month_totals_kept() == []
        savepoint.rollback()


def test_ledger_check_names_a_month_total_edited_by_hand(world):
    claims, _ = _setting(world)
    db.session.execute(insert(LedgerEntry), [{"claim_id": claims[0], "kind": EntryKind.CHARGE, "amount": D("9.00"),
                                              "posted_on": DAYS[0], "actor": "t", "source": EntrySource.SYSTEM}])
    db.session.connection().execute(LedgerMonthTotal.__table__.update().values(claims=3))
    (violation,) = month_totals_kept()
    assert violation.check == "month-total"
    assert "2026-01-01" in violation.subject
